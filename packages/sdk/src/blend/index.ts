import { map, type OperatorFunction } from 'rxjs';
import type { StatsRecorder } from '../frames/stats';
import type { StylizedFrame } from '../inference';
import type { BlendOptions, FrameRenderer } from './renderer';

export { BlendRenderer, planarToInterleaved, type BlendOptions, type FrameRenderer } from './renderer';
export { Canvas2dBlendRenderer, blendFaceRegion } from './canvas2d-renderer';
export { featherMask, maskInset, signedDistanceToPolygon, smoothstep, MASK_TEXTURE_SIZE } from './mask';
export { gradePixel, scaledGrade, seamGrade, toneInRange, toneOf, type FrameGrade, type FrameTone, type SeamGrade } from './grade';
export { matchRingColor, IDENTITY_COLOR, type ColorMatchMode, type ColorTransform, type SeamField } from './color-match';

/** Stage operator: composites each frame (at camera rate) into the renderer's canvas. */
export function blendFaces(
  renderer: FrameRenderer,
  options: () => BlendOptions,
  stats?: StatsRecorder,
): OperatorFunction<StylizedFrame, StylizedFrame> {
  return map((frame) => {
    if (stats) stats.measure('blend', () => renderer.render(frame, options()));
    else renderer.render(frame, options());
    stats?.tick('displayed');
    return frame;
  });
}
