/**
 * @face-stylizer/sdk — the public API. Pipeline stages are exported as RxJS operators for
 * custom pipelines; most users need only FaceStylizer or <face-stylizer>.
 */
import { defineFaceStylizerElement } from './outputs/element';

export { FaceStylizer } from './outputs/face-stylizer';
export type { FaceStylizerEvent, FaceStylizerOptions, FaceStylizerState, FrameInfo, StylizeOptions } from './outputs/face-stylizer';
export { FaceStylizerElement, defineFaceStylizerElement } from './outputs/element';
export { resolveAssetUrls, type AssetUrls, type LoadProgress } from './outputs/assets';
export { FaceStylizerError } from './errors';
export type { FaceStylizerErrorCode, FaceStylizerWarning, FaceStylizerWarningCode } from './errors';
export { StylePackError, loadStylePack } from './packs';
export type { StylePackErrorCode, StylePackManifest, ModelContract } from './packs';

// Stages, one operator each.
export { frames, trackFrames, dropWhileBusy, StatsRecorder } from './frames';
export type { Frame, FrameSource, PipelineStats, StageName, StageTiming } from './frames';
export { FaceTracker, trackFaces, OneEuroFilter, TrackingSchedule, type FaceTrackerOptions, type TrackedFace, type TrackedFrame, type TrackingMode } from './tracking';
export { alignFace, alignFaces, GlCropRenderer, cropVideoFrame } from './alignment';
export type { AlignedFace, AlignedFrame, CropRenderer, FaceAlignment, FrameCrop } from './alignment';
export { GlContext } from './gpu/gl';
export { ALL_ORT_BUILDS, StyleEngine, WorkerRunner, createOrtBackend, stylizeFaces } from './inference';
export type { ExecutionProvider, InferenceBackend, ModelRunner, StylizedCrop, StylizedFrame } from './inference';
export { BlendRenderer, Canvas2dBlendRenderer, blendFaces, gradePixel, matchRingColor, type BlendOptions, type ColorMatchMode, type FrameGrade, type FrameRenderer } from './blend';

defineFaceStylizerElement();
