import type { Detections, LandmarkerOptions } from './landmarker';

/** Messages between FaceTracker (page) and tracking-worker.ts; every request gets one reply with its id. */
export type TrackingRequest =
  | { readonly type: 'load'; readonly id: number; readonly options: LandmarkerOptions }
  | { readonly type: 'detect'; readonly id: number; readonly frame: VideoFrame; readonly timestampMs: number }
  | { readonly type: 'set-num-faces'; readonly id: number; readonly numFaces: number }
  | { readonly type: 'close'; readonly id: number };

/** What a successful reply carries besides its id (a detection: the faces). */
export interface TrackingReplyFields {
  readonly faces?: Detections;
}
