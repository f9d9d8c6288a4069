import { map, type OperatorFunction } from 'rxjs';
import type { StatsRecorder } from '../frames/stats';
import type { StylizedFrame } from '../inference';
import { BlendRenderer, type BlendOptions } from './renderer';

export { BlendRenderer, planarToInterleaved, type BlendOptions } from './renderer';
export { featherMask, maskInset, signedDistanceToPolygon, smoothstep, MASK_TEXTURE_SIZE } from './mask';
export { matchRingColor, IDENTITY_COLOR, type ColorTransform } from './color-match';

/** Stage operator: composites each frame (at camera rate) into the renderer's canvas. */
export function blendFaces(
  renderer: BlendRenderer,
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
