import type { FaceLandmarker } from '@mediapipe/tasks-vision';
import { Observable, map, type OperatorFunction } from 'rxjs';
import type { Point } from '../alignment/ffhq';
import { FaceStylizerError, type FaceStylizerWarning } from '../errors';
import { copyFrameImage, isScaledVideoFrame, ownVideoFrame, unscaledVideoFrame, type Frame } from '../frames';
import type { StatsRecorder } from '../frames/stats';
import { assignTrackIds, type TrackCentre } from './identity';
import { WorkerClient, type WorkerLike } from '../workers/worker-client';
import { DetectionScaler, createLandmarker, detectLandmarks, type Detections, type LandmarkerOptions } from './landmarker';
import { DEFAULT_ONE_EURO, OneEuroFilter, type OneEuroParams } from './one-euro';
import type { TrackingReplyFields, TrackingRequest } from './tracking-protocol';

export { FACE_OVAL_INDICES } from './face-oval';
export { OneEuroFilter, DEFAULT_ONE_EURO, smoothingFactor, type OneEuroParams } from './one-euro';
export { assignTrackIds } from './identity';

export interface TrackedFace {
  /** Stable while the face stays in view (nearest-centre matching between frames). */
  readonly id: number;
  /** Smoothed face-mesh landmarks in image pixels (468, or 478 with irises). */
  readonly landmarks: readonly Point[];
  readonly centre: Point;
}

export interface TrackedFrame {
  readonly frame: Frame;
  readonly faces: readonly TrackedFace[];
  /** Landmarks are extrapolated from an earlier detection (see trackFaces), not from one of this frame. */
  readonly predicted: boolean;
}

/**
 * 'every-frame': the landmarker runs on every frame. 'adaptive' (default): while the pipeline
 * is behind the camera — the source skips frames, or the models drop requests because a newer
 * frame came before they were free — the landmarker runs on every other frame and the frames
 * between get landmarks extrapolated one frame ahead (One Euro filter's smoothed velocity): on a
 * CPU-bound machine the landmarker's share goes to showing frames and to the models.
 */
export type TrackingMode = 'every-frame' | 'adaptive';

/** How long after the pipeline was last behind the adaptive mode keeps alternating. */
const BEHIND_HOLD_MS = 2000;

/** The per-frame decision of the adaptive mode: run the landmarker, or predict. */
export class TrackingSchedule {
  private behindUntilMs = -Infinity;
  private predictedLast = false;

  constructor(private readonly mode: TrackingMode = 'adaptive') {}

  /**
   * Whether to run the landmarker on `frame`, given how many faces are being tracked; `behind`:
   * a later stage dropped work since the previous frame (the source's skipped frames count too).
   */
  shouldTrack(frame: Pick<Frame, 'timestampMs' | 'skipped'>, trackedFaces: number, behind = false): boolean {
    if (behind || frame.skipped > 0) this.behindUntilMs = frame.timestampMs + BEHIND_HOLD_MS;
    const track =
      this.mode === 'every-frame' ||
      trackedFaces === 0 || // nothing to extrapolate; new faces need the landmarker
      this.predictedLast || // never two predictions in a row
      frame.timestampMs > this.behindUntilMs;
    this.predictedLast = !track;
    return track;
  }
}

export interface FaceTrackerOptions extends LandmarkerOptions {
  readonly smoothing?: OneEuroParams;
  /**
   * Runs the landmarker in this worker (dist/worker/tracking-worker.js) instead of on the
   * calling thread: detection is then asynchronous (`detectInWorker`).
   */
  readonly worker?: WorkerLike;
}

interface Track extends TrackCentre {
  readonly filter: OneEuroFilter;
}

/**
 * How far past the last detection landmarks are extrapolated: beyond it a face holds still
 * (a stalled landmarker must not send the crop flying along its last velocity).
 */
const MAX_PREDICTION_LEAD_MS = 120;

type Landmarks =
  | { readonly kind: 'page'; readonly landmarker: FaceLandmarker }
  | { readonly kind: 'worker'; readonly client: WorkerClient<TrackingRequest, TrackingReplyFields> };

/**
 * MediaPipe FaceLandmarker in VIDEO mode (on this thread or in the tracking worker), plus
 * identity and One Euro smoothing per face.
 */
export class FaceTracker {
  private tracks: Track[] = [];
  private lastId = 0;
  private lastDetectionMs = -Infinity;
  /** Tracker time = source time + offsetMs (see trackerTime). */
  private offsetMs = 0;
  private lastSourceMs = -Infinity;
  private lastTrackerMs = -Infinity;
  private rebase = false;
  /** Incremented per stream: detections of an earlier stream's frames arriving late are dropped. */
  private stream = 0;
  /** Scales wide frames for the landmarker on this thread (the worker has its own). */
  private scaler: DetectionScaler | undefined;

  private constructor(
    private landmarks: Landmarks,
    private readonly smoothing: OneEuroParams,
    private readonly landmarkerOptions: LandmarkerOptions,
  ) {}

  static async create(options: FaceTrackerOptions): Promise<FaceTracker> {
    const { smoothing = DEFAULT_ONE_EURO, worker, ...landmarkerOptions } = options;
    try {
      if (!worker) return new FaceTracker({ kind: 'page', landmarker: await createLandmarker(landmarkerOptions) }, smoothing, landmarkerOptions);
      const client = new WorkerClient<TrackingRequest, TrackingReplyFields>(worker, 'tracking worker');
      try {
        await client.request({ type: 'load', options: landmarkerOptions });
      } catch (error) {
        client.terminate();
        throw error;
      }
      return new FaceTracker({ kind: 'worker', client }, smoothing, landmarkerOptions);
    } catch (cause) {
      throw new FaceStylizerError('asset-load-failed', `Face tracker could not load from ${options.modelUrl}.`, { cause });
    }
  }

  /**
   * A new stream starts (another source, or the same one again): the previous stream's faces are
   * forgotten and its timestamps are carried on from the tracker's clock. The landmarker (VIDEO
   * mode) refuses a timestamp that is not after its last one, and sources have unrelated clocks
   * (a camera's capture time, a file's media time, the page's performance.now()).
   */
  startStream(): void {
    this.stream++;
    this.tracks = [];
    this.lastDetectionMs = -Infinity;
    this.rebase = true;
  }

  /**
   * A source timestamp on the tracker's clock, which only moves forward: within a stream it keeps
   * the source's spacing; a new stream (startStream) or a source whose time goes back continues
   * one frame (1/30 s) after the latest time the tracker saw.
   */
  trackerTime(sourceMs: number): number {
    if (this.rebase || sourceMs < this.lastSourceMs) {
      this.offsetMs = Number.isFinite(this.lastTrackerMs) ? this.lastTrackerMs + 1000 / 30 - sourceMs : 0;
      this.rebase = false;
    }
    this.lastSourceMs = sourceMs;
    const ms = sourceMs + this.offsetMs;
    this.lastTrackerMs = Math.max(this.lastTrackerMs, ms);
    return ms;
  }

  /** Whether detection runs in the tracking worker (use `detectInWorker`) or here (`detect`). */
  get inWorker(): boolean {
    return this.landmarks.kind === 'worker';
  }

  setNumFaces(numFaces: number): void {
    if (this.landmarks.kind === 'page') void this.landmarks.landmarker.setOptions({ numFaces });
    else this.landmarks.client.request({ type: 'set-num-faces', numFaces }).catch(() => undefined);
  }

  /** Detects faces in `frame` synchronously (the frame's pixels are only valid now). */
  detect(frame: Frame): TrackedFace[] {
    if (this.landmarks.kind !== 'page') throw new Error('FaceTracker: the landmarker runs in a worker; use detectInWorker');
    const timestampMs = this.trackerTime(frame.timestampMs);
    const { image } = frame;
    // The landmarker must see the displayed picture (see unscaledVideoFrame): a crop-and-scale frame gets a reference that shows it unscaled.
    const unscaled = typeof VideoFrame === 'function' && image instanceof VideoFrame && isScaledVideoFrame(image) ? unscaledVideoFrame(image.clone()) : undefined;
    try {
      this.scaler ??= new DetectionScaler(this.landmarkerOptions.maxWidth);
      return this.update(detectLandmarks(this.landmarks.landmarker, unscaled ?? image, timestampMs, this.scaler), { ...frame, timestampMs });
    } finally {
      unscaled?.close();
    }
  }

  /**
   * Sends `frame` to the tracking worker (with its own reference to the pixels, so the frame may
   * move on) and, once the landmarks are back, updates the tracks: later `predict` calls start
   * from them.
   */
  async detectInWorker(frame: Frame): Promise<TrackedFace[]> {
    if (this.landmarks.kind !== 'worker') throw new Error('FaceTracker: no tracking worker; use detect');
    const { client } = this.landmarks;
    const stream = this.stream;
    const timestampMs = this.trackerTime(frame.timestampMs);
    const image = ownVideoFrame(frame);
    const reply = await client
      .request({ type: 'detect', frame: image, timestampMs }, [image])
      .finally(() => image.close()); // a no-op once transferred
    if (stream !== this.stream) return []; // a frame of the previous stream
    return this.update(reply.faces ?? [], { ...frame, timestampMs });
  }

  /**
   * After the tracking worker died: the landmarker on this thread from now on (`inWorker` turns
   * false once it is loaded; the tracks and their smoothing carry over).
   */
  async moveToThisThread(): Promise<void> {
    if (this.landmarks.kind !== 'worker') return;
    this.landmarks.client.terminate();
    this.landmarks = { kind: 'page', landmarker: await createLandmarker(this.landmarkerOptions) };
  }

  /** The tracked faces extrapolated to `frame`'s time (at most MAX_PREDICTION_LEAD_MS past the last detection). */
  predict(frame: Pick<Frame, 'timestampMs'>): TrackedFace[] {
    const seconds = Math.min(this.trackerTime(frame.timestampMs), this.lastDetectionMs + MAX_PREDICTION_LEAD_MS) / 1000;
    return this.tracks.flatMap((track) => {
      const predicted = track.filter.predict(seconds);
      if (!predicted) return [];
      const points = unflatten(predicted);
      return [{ id: track.id, landmarks: points, centre: boundingCentre(points) }];
    });
  }

  get trackedFaces(): number {
    return this.tracks.length;
  }

  close(): void {
    if (this.landmarks.kind === 'page') {
      this.landmarks.landmarker.close();
      return;
    }
    const { client } = this.landmarks;
    client
      .request({ type: 'close' })
      .catch(() => undefined)
      .finally(() => client.terminate());
  }

  /** New detections (normalised) of `frame`: identities, smoothing, the tracks' new state. */
  private update(detections: Detections, frame: Pick<Frame, 'timestampMs' | 'width' | 'height'>): TrackedFace[] {
    const faces = detections.map((normalized) => {
      const points: Point[] = [];
      for (let i = 0; i < normalized.length; i += 2) {
        points.push({ x: (normalized[i] as number) * frame.width, y: (normalized[i + 1] as number) * frame.height });
      }
      return points;
    });
    const centres = faces.map(boundingCentre);
    const sizes = faces.map(boundingSize);
    const ids = assignTrackIds(this.tracks, centres, Math.max(...sizes, 0) * 0.5, () => ++this.lastId);
    const seconds = frame.timestampMs / 1000;
    const tracks: Track[] = [];
    const tracked = faces.map((landmarks, i) => {
      const id = ids[i] as number;
      const filter = this.tracks.find((t) => t.id === id)?.filter ?? new OneEuroFilter(this.smoothing);
      const points = unflatten(filter.filter(flatten(landmarks), seconds));
      const centre = boundingCentre(points);
      tracks.push({ id, centre, filter });
      return { id, landmarks: points, centre };
    });
    this.tracks = tracks; // tracks not seen this frame are forgotten (their filters reset)
    this.lastDetectionMs = frame.timestampMs;
    return tracked;
  }
}

/**
 * Stage operator: frame -> frame with smoothed, identified faces. In 'adaptive' mode (see
 * TrackingMode) frames the landmarker skips are counted as dropped 'tracking' in the stats.
 *
 * With the landmarker in the tracking worker no frame waits behind it: a frame is sent whenever
 * the worker is free (and the schedule agrees). While detections come back within a frame
 * interval, that frame is held until its own landmarks are back, or until the next camera frame
 * arrives, whichever comes first (then it goes on with the latest detections extrapolated to its
 * time, as every frame the worker did not take does). Holding costs at most one frame interval
 * of latency and buys a stylized face that sits on the face of its own frame: extrapolated
 * landmarks overshoot when the head stops or turns back, and the stylized face then swims on the
 * head (flicker ratio of the base reconstruction on talking clips 1.3–1.7 extrapolated, 1.0 with
 * each frame's own landmarks; `npm run eval:display`). When detections are slower than frames
 * (a loaded 2-core machine: 60–90 ms) a held frame would only wait for the next one and keep a
 * camera buffer meanwhile, so frames go on at once, as before. A frame with its own landmarks counts as tracked
 * (`predicted: false`), the others as predicted. If the worker fails, tracking moves to this
 * thread (`worker-fallback` warning) and the stream goes on.
 */
export function trackFaces(
  tracker: FaceTracker,
  stats?: StatsRecorder,
  mode: TrackingMode = 'adaptive',
  onWarning?: (warning: FaceStylizerWarning) => void,
): OperatorFunction<Frame, TrackedFrame> {
  return (source) =>
    new Observable<TrackedFrame>((subscriber) => {
      tracker.startStream();
      const schedule = new TrackingSchedule(mode);
      // The models' dropped requests (stats 'stylize'): the pipeline is behind the camera.
      let stylizeDrops = stats?.droppedBy('stylize') ?? 0;
      const shouldTrack = (frame: Frame) => {
        const drops = stats?.droppedBy('stylize') ?? 0;
        const behind = drops > stylizeDrops;
        stylizeDrops = drops;
        return schedule.shouldTrack(frame, tracker.trackedFaces, behind);
      };
      let busy = false; // a detection is in the worker, or the page's landmarker is loading
      let fresh = false; // detections arrived since the previous frame
      let stopped = false;
      // The frame the worker is detecting, held (its own copy of the pixels) until its landmarks are back.
      let held: { frame: Frame; image: VideoFrame } | undefined;
      // Smoothed detection round trip and camera frame interval: holding pays only if the first is shorter.
      let roundTripMs = 0;
      let frameIntervalMs = Infinity;
      let lastFrameMs: number | undefined;
      const emit = (tracked: TrackedFrame, image?: VideoFrame) => {
        try {
          subscriber.next(tracked);
        } finally {
          image?.close(); // the pipeline used the pixels synchronously
        }
      };
      const emitPredicted = (frame: Frame, image?: VideoFrame) => {
        const predicted = !fresh;
        fresh = false;
        emit({ frame: image ? { ...frame, image } : frame, faces: tracker.predict(frame), predicted }, image);
      };
      /** The held frame goes on now, with the latest detections extrapolated (its own are late). */
      const releaseHeld = () => {
        const h = held;
        held = undefined;
        if (h) emitPredicted(h.frame, h.image);
      };
      const detectInWorker = (frame: Frame) => {
        busy = true;
        const start = performance.now();
        let mine: { frame: Frame; image: VideoFrame } | undefined;
        if (roundTripMs <= frameIntervalMs) {
          mine = { frame, image: copyFrameImage(frame) };
          held = mine;
        } else {
          emitPredicted(frame);
        }
        tracker.detectInWorker(frame).then(
          (faces) => {
            const elapsed = performance.now() - start;
            roundTripMs = roundTripMs === 0 ? elapsed : 0.8 * roundTripMs + 0.2 * elapsed;
            stats?.time('tracking', elapsed);
            if (stats) stats.faces = faces.length;
            busy = false;
            if (mine && held === mine && !stopped) {
              held = undefined;
              fresh = false;
              emit({ frame: { ...frame, image: mine.image }, faces, predicted: false }, mine.image);
            } else {
              fresh = true; // a later frame is on screen: the next one extrapolates from these
            }
          },
          (cause: unknown) => {
            if (stopped) return;
            if (mine && held === mine) releaseHeld();
            // The worker died: keep tracking on this thread; frames meanwhile carry predictions.
            onWarning?.({ code: 'worker-fallback', message: 'The tracking worker failed; tracking on this thread.', cause });
            tracker.moveToThisThread().then(
              () => (busy = false),
              (error: unknown) => stopped || subscriber.error(error),
            );
          },
        );
      };
      const subscription = source.subscribe({
        next(frame) {
          releaseHeld(); // a newer frame came: the held one must not wait any longer
          if (lastFrameMs !== undefined) {
            const interval = frame.timestampMs - lastFrameMs;
            frameIntervalMs = Number.isFinite(frameIntervalMs) ? 0.8 * frameIntervalMs + 0.2 * interval : interval;
          }
          lastFrameMs = frame.timestampMs;
          if (!tracker.inWorker && !busy) {
            if (!shouldTrack(frame)) {
              stats?.drop('tracking');
              subscriber.next({ frame, faces: tracker.predict(frame), predicted: true });
              return;
            }
            let faces: TrackedFace[];
            try {
              faces = stats ? stats.measure('tracking', () => tracker.detect(frame)) : tracker.detect(frame);
            } catch (error) {
              // End the stream with the error (an error event), not one uncaught exception per frame.
              subscriber.error(error);
              return;
            }
            if (stats) stats.faces = faces.length;
            subscriber.next({ frame, faces, predicted: false });
            return;
          }
          if (!busy && shouldTrack(frame)) {
            detectInWorker(frame);
            return;
          }
          stats?.drop('tracking');
          emitPredicted(frame);
        },
        error: (error: unknown) => {
          releaseHeld();
          subscriber.error(error);
        },
        complete: () => {
          releaseHeld();
          subscriber.complete();
        },
      });
      return () => {
        stopped = true;
        held?.image.close();
        held = undefined;
        subscription.unsubscribe();
      };
    });
}

function boundingCentre(points: readonly Point[]): Point {
  const box = bounds(points);
  return { x: (box.minX + box.maxX) / 2, y: (box.minY + box.maxY) / 2 };
}

function boundingSize(points: readonly Point[]): number {
  const box = bounds(points);
  return Math.max(box.maxX - box.minX, box.maxY - box.minY);
}

function bounds(points: readonly Point[]) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of points) {
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  return { minX, minY, maxX, maxY };
}

function flatten(points: readonly Point[]): Float64Array {
  const values = new Float64Array(points.length * 2);
  points.forEach((p, i) => {
    values[2 * i] = p.x;
    values[2 * i + 1] = p.y;
  });
  return values;
}

function unflatten(values: Float64Array): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < values.length; i += 2) points.push({ x: values[i] as number, y: values[i + 1] as number });
  return points;
}
