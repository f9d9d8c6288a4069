import { defer, map, type OperatorFunction } from 'rxjs';
import type { StylizedCrop, StylizedFrame } from '../inference';
import { boxMean } from '../planes';

/**
 * Temporal stabilisation of the stylized crops, between inference and blend, guided by the
 * camera: a stylized pixel may change only as much as the face under it changed.
 *
 * A fine-tuned generator amplifies small differences of its input: the crop moves by a fraction
 * of a pixel with every landmark estimate, the camera adds noise, and each new result redraws
 * the style's strokes and shading blotches a little differently everywhere, which a person sees
 * as shimmer in a face that did not move (the flicker ratio of `npm run eval:display`; up to 3×
 * the camera's own change for high-contrast styles). Gating by the output's own change cannot
 * tell that shimmer from a blink: both are large. The aligned input crop can. So the filter
 * keeps a state (input crop, output crop) and takes each new result per pixel with a weight
 * that grows with how far the new input crop moved from the state's input around that pixel:
 * where the face is still (cheeks while talking, the whole face of a listener) new results are
 * averaged in at 1 − strength; where it changed (an open mouth, a blink, a turn, the light) the
 * new result is taken at once. The crops are in face-aligned coordinates, so head motion is
 * already compensated; the input state follows the same weights, so a slow change (light)
 * accumulates until it passes instead of being held back for ever. A new pack or α restarts.
 */

export interface StabilizeOptions {
  /**
   * 0 = off (every result shown as it comes), up to 1 = strongest. The weight of the new result
   * where the face did not change is 1 − strength; read per result.
   */
  readonly strength: () => number;
}

/**
 * Change of the input crop (mean |Δ| over the channels, averaged over a small window, in units
 * of a [-1, 1] range) at which a pixel takes the new result almost fully. Camera noise and the
 * sub-pixel jitter of the crop stay well below it after the window's averaging (≈ 0.005–0.03);
 * an opening mouth or a closing eye is 0.3 and more. (0.06 let a talking face's shimmer through:
 * flicker of the default pack on talking-1 1.12–1.15 vs 1.03 at 0.12, the mouth still following
 * within the inference's own one-frame lag; `npm run eval:display`, session 12.)
 */
export const INPUT_CHANGE_SCALE = 0.12;

/** Half-width of the input-change window, in crop pixels per 64 px of crop (2 at 128²). */
const WINDOW_PER_64 = 1;

/**
 * The weight of the new result for a pixel whose input changed by `change` around it:
 * 1 − strength when nothing changed, rising smoothly to 1 well above INPUT_CHANGE_SCALE.
 */
export function newResultWeight(change: number, strength: number): number {
  const r = change / INPUT_CHANGE_SCALE;
  return 1 - strength * Math.exp(-r * r);
}

/** What the filter keeps per face: the shown result and the input it is taken to belong to. */
export interface StabilizedState {
  readonly image: Float32Array;
  readonly input: Float32Array;
}

/**
 * Mixes a new result (`next`: image, the input crop it came from and its flow, all
 * [c, size, size]) into `state` in place. Returns the per-pixel weights used (on the input
 * grid), for tests and probes.
 */
export function stabilizeImage(
  state: StabilizedState,
  next: Pick<StylizedCrop, 'image' | 'input' | 'flow'>,
  size: number,
  strength: number,
  range: number,
): Float32Array {
  const plane = size * size;
  const unit = 2 / range; // differences in units of a [-1, 1] range
  const change = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    change[i] =
      ((Math.abs((next.input[i] as number) - (state.input[i] as number)) +
        Math.abs((next.input[plane + i] as number) - (state.input[plane + i] as number)) +
        Math.abs((next.input[2 * plane + i] as number) - (state.input[2 * plane + i] as number))) /
        3) *
      unit;
  }
  const local = boxMean(change, size, Math.max(1, Math.round((WINDOW_PER_64 * size) / 64)));
  const weight = new Float32Array(plane);
  for (let i = 0; i < plane; i++) weight[i] = newResultWeight(local[i] as number, strength);
  for (let c = 0; c < 3; c++) {
    for (let i = c * plane, end = i + plane, k = 0; i < end; i++, k++) {
      state.input[i] = (state.input[i] as number) + (weight[k] as number) * ((next.input[i] as number) - (state.input[i] as number));
    }
  }
  // An output pixel belongs to the input pixel its flow samples (the deformation moves features).
  for (let i = 0; i < plane; i++) {
    const x = Math.min(size - 1, Math.max(0, Math.floor(((next.flow[i] as number) + 1) * 0.5 * size)));
    const y = Math.min(size - 1, Math.max(0, Math.floor(((next.flow[plane + i] as number) + 1) * 0.5 * size)));
    const k = weight[y * size + x] as number;
    for (let c = 0; c < 3; c++) {
      const j = c * plane + i;
      state.image[j] = (state.image[j] as number) + k * ((next.image[j] as number) - (state.image[j] as number));
    }
  }
  return weight;
}

/**
 * Stage operator: replaces each face's new result image by its stabilised one (same version,
 * flow and colour transform). State is per subscription and per face id; a face that leaves
 * the frame, or a result of another look (pack or α), starts afresh.
 */
export function stabilizeFaces(options: StabilizeOptions, pixelRange: readonly [number, number]): OperatorFunction<StylizedFrame, StylizedFrame> {
  const range = pixelRange[1] - pixelRange[0];
  return (source) =>
    defer(() => {
      const filtered = new Map<number, { version: number; look: string; size: number; state: StabilizedState; crop: StylizedCrop }>();
      return source.pipe(
        map((frame) => {
          for (const id of filtered.keys()) if (!frame.stylized.has(id)) filtered.delete(id);
          const strength = Math.min(1, Math.max(0, options.strength()));
          if (strength === 0) {
            filtered.clear();
            return frame;
          }
          const stylized = new Map<number, StylizedCrop>();
          for (const [id, crop] of frame.stylized) {
            let entry = filtered.get(id);
            if (!entry || entry.size !== crop.size || entry.look !== crop.look) {
              const state = { image: Float32Array.from(crop.image), input: Float32Array.from(crop.input) };
              entry = { version: crop.version, look: crop.look, size: crop.size, state, crop };
              filtered.set(id, entry);
            } else if (entry.version !== crop.version) {
              stabilizeImage(entry.state, crop, crop.size, strength, range);
              entry.version = crop.version;
              entry.crop = { ...crop, image: entry.state.image.slice() }; // (the blend may keep it while the next result is mixed in)
            }
            stylized.set(id, entry.crop);
          }
          return { ...frame, stylized };
        }),
      );
    });
}
