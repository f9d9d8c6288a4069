import { defer, map, type OperatorFunction } from 'rxjs';
import type { StylizedCrop, StylizedFrame } from '../inference';

/**
 * Temporal stabilisation of the stylized crops, between inference and blend.
 *
 * A generator's output is not exactly equivariant: the crop moves by a fraction of a pixel
 * with every landmark estimate, and each new result then differs a little everywhere, which a
 * person sees as shimmer in the face (the flicker ratio of `npm run eval:display`). The crops
 * are in face-aligned coordinates, so head motion is already compensated there and a per-pixel
 * filter across results does not smear a moving face. Each new result is mixed with the
 * previous filtered one with a weight that grows with the pixel's change: small differences
 * (noise) are averaged, large ones (a blink, an open mouth, a new pack or α) pass at once.
 */

export interface StabilizeOptions {
  /**
   * 0 = off (every result shown as it comes), up to 1 = strongest. The weight of the new result
   * for a pixel that barely changed is 1 − strength; read per result.
   */
  readonly strength: () => number;
}

/** Change (mean |Δ| over the channels, in the model's pixel units of a [-1, 1] range) at which a pixel takes the new result almost fully. */
export const CHANGE_SCALE = 0.12;

/**
 * The weight of the new value for a pixel whose channels changed by `change` on average:
 * 1 − strength when nothing changed, rising smoothly to 1 for changes well above CHANGE_SCALE.
 */
export function newResultWeight(change: number, strength: number): number {
  const still = 1 - strength;
  const r = change / CHANGE_SCALE;
  return 1 - (1 - still) * Math.exp(-r * r);
}

/** Mixes `next` into `previous` in place (both [3, size, size]) and returns `previous`. */
export function stabilizeImage(previous: Float32Array, next: Float32Array, size: number, strength: number, range: number): Float32Array {
  const plane = size * size;
  const unit = 2 / range; // differences in units of a [-1, 1] range
  for (let i = 0; i < plane; i++) {
    const d0 = (next[i] as number) - (previous[i] as number);
    const d1 = (next[plane + i] as number) - (previous[plane + i] as number);
    const d2 = (next[2 * plane + i] as number) - (previous[2 * plane + i] as number);
    const k = newResultWeight(((Math.abs(d0) + Math.abs(d1) + Math.abs(d2)) / 3) * unit, strength);
    previous[i] = (previous[i] as number) + k * d0;
    previous[plane + i] = (previous[plane + i] as number) + k * d1;
    previous[2 * plane + i] = (previous[2 * plane + i] as number) + k * d2;
  }
  return previous;
}

/**
 * Stage operator: replaces each face's new result image by its stabilised one (same version,
 * flow and colour transform). State is per subscription and per face id; a face that leaves
 * the frame starts afresh when it comes back.
 */
export function stabilizeFaces(options: StabilizeOptions, pixelRange: readonly [number, number]): OperatorFunction<StylizedFrame, StylizedFrame> {
  const range = pixelRange[1] - pixelRange[0];
  return (source) =>
    defer(() => {
      const filtered = new Map<number, { version: number; size: number; image: Float32Array; crop: StylizedCrop }>();
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
            let state = filtered.get(id);
            if (!state || state.size !== crop.size) {
              state = { version: crop.version, size: crop.size, image: Float32Array.from(crop.image), crop };
              filtered.set(id, state);
            } else if (state.version !== crop.version) {
              stabilizeImage(state.image, crop.image, crop.size, strength, range);
              state.version = crop.version;
              state.crop = { ...crop, image: state.image.slice() }; // (the blend may keep it while the next result is mixed in)
            }
            stylized.set(id, state.crop);
          }
          return { ...frame, stylized };
        }),
      );
    });
}
