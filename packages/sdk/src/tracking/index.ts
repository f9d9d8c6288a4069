import { FaceLandmarker, FilesetResolver } from '@mediapipe/tasks-vision';
import { map, type OperatorFunction } from 'rxjs';
import type { Point } from '../alignment/ffhq';
import { FaceStylizerError } from '../errors';
import type { Frame } from '../frames';
import type { StatsRecorder } from '../frames/stats';
import { assignTrackIds, type TrackCentre } from './identity';
import { DEFAULT_ONE_EURO, OneEuroFilter, type OneEuroParams } from './one-euro';

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
  /** The landmarker skipped this frame: landmarks are extrapolated from the last tracked ones. */
  readonly predicted: boolean;
}

/**
 * 'every-frame': the landmarker runs on every frame. 'adaptive' (default): while the source
 * reports dropped frames (the pipeline cannot keep the camera's rate), the landmarker runs
 * on every other frame and the frames between get landmarks extrapolated one frame ahead
 * (One Euro filter's smoothed velocity), so more camera frames are shown instead of dropped.
 */
export type TrackingMode = 'every-frame' | 'adaptive';

/** How long after the last dropped frame the adaptive mode keeps alternating. */
const BEHIND_HOLD_MS = 2000;

/** The per-frame decision of the adaptive mode: run the landmarker, or predict. */
export class TrackingSchedule {
  private behindUntilMs = -Infinity;
  private predictedLast = false;

  constructor(private readonly mode: TrackingMode = 'adaptive') {}

  /** Whether to run the landmarker on `frame`, given how many faces are being tracked. */
  shouldTrack(frame: Pick<Frame, 'timestampMs' | 'skipped'>, trackedFaces: number): boolean {
    if (frame.skipped > 0) this.behindUntilMs = frame.timestampMs + BEHIND_HOLD_MS;
    const track =
      this.mode === 'every-frame' ||
      trackedFaces === 0 || // nothing to extrapolate; new faces need the landmarker
      this.predictedLast || // never two predictions in a row
      frame.timestampMs > this.behindUntilMs;
    this.predictedLast = !track;
    return track;
  }
}

export interface FaceTrackerOptions {
  /** Folder with tasks-vision's vision_wasm_internal.{js,wasm}. */
  readonly wasmBaseUrl: string;
  /** The FaceLandmarker .task bundle. */
  readonly modelUrl: string;
  readonly numFaces?: number;
  readonly smoothing?: OneEuroParams;
  /** MediaPipe delegate; CPU is the predictable default for headless and low-end machines. */
  readonly delegate?: 'CPU' | 'GPU';
}

interface Track extends TrackCentre {
  readonly filter: OneEuroFilter;
}

/** MediaPipe FaceLandmarker in VIDEO mode, plus identity and One Euro smoothing per face. */
export class FaceTracker {
  private tracks: Track[] = [];
  private lastId = 0;

  private constructor(
    private readonly landmarker: FaceLandmarker,
    private readonly smoothing: OneEuroParams,
  ) {}

  static async create(options: FaceTrackerOptions): Promise<FaceTracker> {
    try {
      const fileset = await FilesetResolver.forVisionTasks(options.wasmBaseUrl.replace(/\/$/, ''));
      const landmarker = await FaceLandmarker.createFromOptions(fileset, {
        baseOptions: { modelAssetPath: options.modelUrl, delegate: options.delegate ?? 'CPU' },
        runningMode: 'VIDEO',
        numFaces: options.numFaces ?? 1,
        outputFaceBlendshapes: false,
        outputFacialTransformationMatrixes: false,
      });
      disableTelemetry(landmarker);
      return new FaceTracker(landmarker, options.smoothing ?? DEFAULT_ONE_EURO);
    } catch (cause) {
      throw new FaceStylizerError('asset-load-failed', `Face tracker could not load from ${options.modelUrl}.`, { cause });
    }
  }

  setNumFaces(numFaces: number): void {
    void this.landmarker.setOptions({ numFaces });
  }

  /** Detects faces in `frame` synchronously (the frame's pixels are only valid now). */
  detect(frame: Frame): TrackedFace[] {
    const result = this.landmarker.detectForVideo(frame.image, frame.timestampMs);
    const detections = result.faceLandmarks.map((normalized) =>
      normalized.map((p) => ({ x: p.x * frame.width, y: p.y * frame.height })),
    );
    const centres = detections.map(boundingCentre);
    const sizes = detections.map(boundingSize);
    const ids = assignTrackIds(
      this.tracks,
      centres,
      Math.max(...sizes, 0) * 0.5,
      () => ++this.lastId,
    );
    const seconds = frame.timestampMs / 1000;
    const tracks: Track[] = [];
    const faces = detections.map((landmarks, i) => {
      const id = ids[i] as number;
      const filter = this.tracks.find((t) => t.id === id)?.filter ?? new OneEuroFilter(this.smoothing);
      const smoothed = filter.filter(flatten(landmarks), seconds);
      const points = unflatten(smoothed);
      const centre = boundingCentre(points);
      tracks.push({ id, centre, filter });
      return { id, landmarks: points, centre };
    });
    this.tracks = tracks; // tracks not seen this frame are forgotten (their filters reset)
    return faces;
  }

  /** The tracked faces extrapolated to `frame`'s time, without running the landmarker. */
  predict(frame: Frame): TrackedFace[] {
    const seconds = frame.timestampMs / 1000;
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
    this.landmarker.close();
  }
}

/**
 * Stage operator: frame -> frame with smoothed, identified faces. In 'adaptive' mode (see
 * TrackingMode) frames the landmarker skips are counted as dropped 'tracking' in the stats.
 */
export function trackFaces(tracker: FaceTracker, stats?: StatsRecorder, mode: TrackingMode = 'adaptive'): OperatorFunction<Frame, TrackedFrame> {
  const schedule = new TrackingSchedule(mode);
  return map((frame) => {
    if (!schedule.shouldTrack(frame, tracker.trackedFaces)) {
      stats?.drop('tracking');
      return { frame, faces: tracker.predict(frame), predicted: true };
    }
    const faces = stats ? stats.measure('tracking', () => tracker.detect(frame)) : tracker.detect(frame);
    if (stats) stats.faces = faces.length;
    return { frame, faces, predicted: false };
  });
}

/**
 * tasks-vision 1.1.0 posts usage logs to odml.pa.googleapis.com every 60 s and on close(), with
 * no option to turn it off; the SDK must not talk to anything but the asset base. The logger's
 * sink drops everything once its `error` is set, so we set it (found by shape: the fields are
 * minified). If a future version changes the shape this does nothing, and the e2e network test
 * catches the request.
 */
function disableTelemetry(landmarker: FaceLandmarker): void {
  interface LogSink {
    error?: unknown;
    i: unknown[];
    h?: ReturnType<typeof setInterval>;
    flush: unknown;
  }
  for (const value of Object.values(landmarker as object) as unknown[]) {
    const sink = (value as { m?: Partial<LogSink> } | null)?.m;
    if (sink && typeof sink.flush === 'function' && Array.isArray(sink.i)) {
      sink.error = new Error('telemetry disabled by @face-stylizer/sdk');
      sink.i = [];
      if (sink.h !== undefined) clearInterval(sink.h);
      sink.h = undefined;
    }
  }
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
