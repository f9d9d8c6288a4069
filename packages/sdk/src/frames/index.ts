import { Observable } from 'rxjs';
import { FaceStylizerError } from '../errors';

export { dropWhileBusy } from './drop-while-busy';
export { StatsRecorder, percentile, type PipelineStats, type StageName, type StageTiming } from './stats';

/**
 * One camera/video frame. `image` is only valid synchronously while the frame is being emitted
 * (a VideoFrame is closed, a <video> moves on), so every stage that needs pixels uses them at once
 * (upload, crop request) or takes its own VideoFrame reference (the tracking worker), and keeps
 * derived data only. Camera frame buffers are few: references are closed as soon as the pixels
 * are read.
 */
export interface Frame {
  readonly image: HTMLVideoElement | VideoFrame;
  readonly width: number;
  readonly height: number;
  /** Strictly increasing, milliseconds. */
  readonly timestampMs: number;
  readonly index: number;
  /** Source frames that were never delivered since the previous one (we were busy): dropped, not queued. */
  readonly skipped: number;
}

export type FrameSource = HTMLVideoElement | MediaStream | MediaStreamTrack;

/**
 * A VideoFrame of `frame`'s pixels that stays valid after the frame moves on (a clone, or the
 * <video>'s current frame). The caller owns it and must close it (or transfer it) promptly:
 * cameras have few frame buffers.
 */
export function ownVideoFrame(frame: Frame): VideoFrame {
  return unscaledVideoFrame(copyFrameImage(frame));
}

/** A VideoFrame of `frame`'s picture as shown (a clone, or the <video>'s current frame); the caller closes it. */
export function copyFrameImage(frame: Frame): VideoFrame {
  const { image } = frame;
  return image instanceof VideoFrame ? image.clone() : new VideoFrame(image, { timestamp: Math.round(frame.timestampMs * 1000) });
}

/** Whether a frame's visible rect is shown at another size (a camera's crop-and-scale frames). */
export function isScaledVideoFrame(frame: VideoFrame): boolean {
  const rect = frame.visibleRect;
  return !!rect && (rect.width !== frame.displayWidth || rect.height !== frame.displayHeight);
}

/**
 * `frame` (taken over: closed or returned) as a frame whose display size is its visible rect's
 * size; the same pixels, no copy. A 1280×720 camera asked for 640×480 delivers coded 1280×720
 * frames with visibleRect {x: 160, 960×720} displayed at 640×480, and consumers that take the
 * display size for the size of what they upload (MediaPipe's landmarker: it uploads the 960×720
 * visible rect into a 640×480 image) read a scaled, shifted picture. Coordinates normalised to
 * this frame are normalised to the displayed picture too.
 */
export function unscaledVideoFrame(frame: VideoFrame): VideoFrame {
  if (!isScaledVideoFrame(frame)) return frame;
  const { x, y, width, height } = frame.visibleRect as DOMRectReadOnly;
  let unscaled: VideoFrame;
  try {
    unscaled = new VideoFrame(frame, { visibleRect: { x, y, width, height }, displayWidth: width, displayHeight: height });
  } catch {
    return frame; // not expected (the rect is the frame's own); the scaled frame is better than none
  }
  frame.close();
  return unscaled;
}

/**
 * Frames from a <video> or a camera stream, one per new video frame. Emission is synchronous
 * and the next frame is only requested after the previous one was handled, so a slow synchronous
 * stage skips frames instead of queueing them (latest-frame semantics).
 */
export function frames(source: FrameSource): Observable<Frame> {
  if (source instanceof HTMLVideoElement) return videoFrames(source);
  const stream = source instanceof MediaStream ? source : new MediaStream([source]);
  return new Observable<Frame>((subscriber) => {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    const track = stream.getVideoTracks()[0];
    if (!track || track.readyState === 'ended') {
      subscriber.error(new FaceStylizerError('camera-ended', 'The stream has no live video track.'));
      return;
    }
    const onEnded = () =>
      subscriber.error(new FaceStylizerError('camera-ended', 'The camera track ended (device unplugged or stopped).'));
    track.addEventListener('ended', onEnded);
    video.play().catch(() => {
      /* autoplay of a muted inline video is allowed; a failure shows up as no frames */
    });
    const inner = videoFrames(video).subscribe(subscriber);
    return () => {
      inner.unsubscribe();
      track.removeEventListener('ended', onEnded);
      video.pause();
      video.srcObject = null;
    };
  });
}

const MEDIA_ERRORS: Record<number, string> = {
  1: 'MEDIA_ERR_ABORTED',
  2: 'MEDIA_ERR_NETWORK',
  3: 'MEDIA_ERR_DECODE',
  4: 'MEDIA_ERR_SRC_NOT_SUPPORTED',
};

/** The typed error for a <video> that failed (its MediaError, or the cause, e.g. play()'s rejection). */
export function videoSourceError(video: HTMLVideoElement, cause?: unknown): FaceStylizerError {
  const error = video.error;
  const what = error
    ? `${MEDIA_ERRORS[error.code] ?? 'MediaError'} (code ${error.code})${error.message ? `: ${error.message}` : ''}`
    : cause instanceof Error
      ? `${cause.name}: ${cause.message}`
      : String(cause ?? 'unknown error');
  const source = video.currentSrc || video.src || (video.srcObject ? 'its stream' : 'no source');
  return new FaceStylizerError('video-source-failed', `The video (${source}) could not be played: ${what}.`, { cause: cause ?? error });
}

/**
 * Ends `subscriber` when the <video> does: an error (demux, decode, network) errors it with
 * 'video-source-failed', the end of a non-looping file completes it, and the video track of a
 * stream under `srcObject` ending (camera stopped or unplugged) errors it with 'camera-ended'.
 */
function watchVideoEnd(video: HTMLVideoElement, subscriber: { error(error: unknown): void; complete(): void }): () => void {
  const onError = () => subscriber.error(videoSourceError(video));
  const stream = video.srcObject instanceof MediaStream ? video.srcObject : undefined;
  const track = stream?.getVideoTracks()[0];
  const onTrackEnded = () =>
    subscriber.error(new FaceStylizerError('camera-ended', 'The video track of the <video> element ended (device unplugged or stopped).'));
  const onEnded = () => {
    if (stream) onTrackEnded(); // a stream ends when its tracks do
    else if (!video.loop) subscriber.complete();
  };
  video.addEventListener('error', onError);
  video.addEventListener('ended', onEnded);
  track?.addEventListener('ended', onTrackEnded);
  // MediaStreamTrack.stop() fires no 'ended' event, and a stopped track delivers no more frames.
  const poll = track ? setInterval(() => track.readyState === 'ended' && onTrackEnded(), 500) : undefined;
  if (video.error) queueMicrotask(onError);
  else if (track?.readyState === 'ended') queueMicrotask(onTrackEnded);
  else if (video.ended && !video.loop && !stream) queueMicrotask(onEnded);
  return () => {
    clearInterval(poll);
    video.removeEventListener('error', onError);
    video.removeEventListener('ended', onEnded);
    track?.removeEventListener('ended', onTrackEnded);
  };
}

function videoFrames(video: HTMLVideoElement): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    const unwatch = watchVideoEnd(video, subscriber);
    subscriber.add(unwatch);
    let index = 0;
    let lastTimestamp = -Infinity;
    let lastPresented: number | undefined;
    let stopped = false;
    let handle = 0;
    const emit = (now: number, presentedFrames?: number) => {
      if (video.videoWidth === 0 || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return;
      // Tracking requires strictly increasing timestamps.
      const timestampMs = Math.max(now, lastTimestamp + 0.001);
      lastTimestamp = timestampMs;
      const skipped = presentedFrames !== undefined && lastPresented !== undefined ? Math.max(0, presentedFrames - lastPresented - 1) : 0;
      lastPresented = presentedFrames;
      subscriber.next({ image: video, width: video.videoWidth, height: video.videoHeight, timestampMs, index: index++, skipped });
    };
    // Older browsers lack requestVideoFrameCallback although lib.dom declares it.
    if (typeof (video as Partial<HTMLVideoElement>).requestVideoFrameCallback === 'function') {
      const onFrame = (now: number, metadata: VideoFrameCallbackMetadata) => {
        if (stopped) return;
        emit(now, metadata.presentedFrames);
        if (!stopped) handle = video.requestVideoFrameCallback(onFrame);
      };
      handle = video.requestVideoFrameCallback(onFrame);
      return () => {
        stopped = true;
        video.cancelVideoFrameCallback(handle);
      };
    }
    // Fallback: poll on animation frames and emit when the media time moved.
    let lastMediaTime = -1;
    const onAnimationFrame = (now: number) => {
      if (stopped) return;
      if (video.currentTime !== lastMediaTime) {
        lastMediaTime = video.currentTime;
        emit(now);
      }
      handle = requestAnimationFrame(onAnimationFrame);
    };
    handle = requestAnimationFrame(onAnimationFrame);
    return () => {
      stopped = true;
      cancelAnimationFrame(handle);
    };
  });
}

/** Minimal typing for Chrome's insertable-streams reader (not in lib.dom). */
interface TrackProcessor {
  readonly readable: ReadableStream<VideoFrame>;
}
type TrackProcessorConstructor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => TrackProcessor;

export function hasInsertableStreams(): boolean {
  const scope = globalThis as { MediaStreamTrackProcessor?: unknown; MediaStreamTrackGenerator?: unknown };
  return typeof scope.MediaStreamTrackProcessor === 'function' && typeof scope.MediaStreamTrackGenerator === 'function';
}

/**
 * Frames of a track as VideoFrames (MediaStreamTrackProcessor). `maxBufferSize: 1` makes the
 * browser drop stale frames while we are busy (counted in `skipped` from the timestamps' gaps
 * at the track's frame rate). Each VideoFrame is closed right after emission.
 */
export function trackFrames(track: MediaStreamTrack): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    const Processor = (globalThis as unknown as { MediaStreamTrackProcessor: TrackProcessorConstructor })
      .MediaStreamTrackProcessor;
    const reader = new Processor({ track, maxBufferSize: 1 }).readable.getReader();
    let index = 0;
    let lastTimestamp = -Infinity;
    let stopped = false;
    const frameIntervalMs = 1000 / (track.getSettings().frameRate || 30);
    const onEnded = () =>
      subscriber.error(new FaceStylizerError('camera-ended', 'The camera track ended (device unplugged or stopped).'));
    track.addEventListener('ended', onEnded);
    const pump = async () => {
      while (!stopped) {
        const { value: videoFrame, done } = await reader.read();
        if (done || !videoFrame) break;
        try {
          if (stopped) continue;
          const timestampMs = Math.max(videoFrame.timestamp / 1000, lastTimestamp + 0.001);
          // The processor's one-frame buffer drops silently: count the frames its timestamps skip.
          const skipped = Number.isFinite(lastTimestamp) ? Math.max(0, Math.round((timestampMs - lastTimestamp) / frameIntervalMs) - 1) : 0;
          lastTimestamp = timestampMs;
          subscriber.next({
            image: videoFrame,
            width: videoFrame.displayWidth,
            height: videoFrame.displayHeight,
            timestampMs,
            index: index++,
            skipped,
          });
        } finally {
          videoFrame.close();
        }
      }
      if (!stopped && track.readyState === 'ended') onEnded();
    };
    pump().catch((error: unknown) => subscriber.error(error));
    return () => {
      stopped = true;
      track.removeEventListener('ended', onEnded);
      reader.cancel().catch(() => undefined);
    };
  });
}
