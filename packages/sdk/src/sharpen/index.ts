import { defer, map, type OperatorFunction } from 'rxjs';
import type { StylizedCrop, StylizedFrame } from '../inference';

/**
 * Sharpening of the stylized crops, between stabilisation and blend.
 *
 * The generator renders the face at 128² and the blend magnifies it 1.5–3× into the frame, so
 * its finest detail lands at 2–4 display pixels, where the camera image around it has detail
 * at 1–2: the face looks softer than its surroundings (the detail ratio of `npm run
 * eval:display`). An unsharp mask on the generator's own pixel grid (a [1, 2, 1]² blur, σ ≈ 0.7
 * crop px, i.e. about the 1.5 display px at which that ratio is measured) restores the
 * contrast of that band. Once per new result, after the temporal filter so that the shimmer it
 * removed is not amplified again.
 */
export interface SharpenOptions {
  /** 0 = off; the high-frequency band is multiplied by 1 + amount. Read per result. */
  readonly amount: () => number;
}

/** An unsharp mask of a [3, size, size] image: out = image + amount·(image − blur(image)); returns a new array. */
export function sharpenImage(image: Float32Array, size: number, amount: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(image.length);
  const rows = new Float32Array(plane);
  const clamp = (k: number) => (k < 0 ? 0 : k >= size ? size - 1 : k);
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const row = base + y * size;
        rows[y * size + x] = 0.25 * (image[row + clamp(x - 1)] as number) + 0.5 * (image[row + x] as number) + 0.25 * (image[row + clamp(x + 1)] as number);
      }
    }
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const blurred = 0.25 * (rows[clamp(y - 1) * size + x] as number) + 0.5 * (rows[y * size + x] as number) + 0.25 * (rows[clamp(y + 1) * size + x] as number);
        const i = base + y * size + x;
        const value = image[i] as number;
        out[i] = value + amount * (value - blurred);
      }
    }
  }
  return out;
}

/**
 * Stage operator: each face's new result image is replaced by its sharpened copy (same version,
 * flow and colour transform); a result already sharpened is passed on as it was, so a crop shown
 * over several frames is sharpened once.
 */
export function sharpenFaces(options: SharpenOptions): OperatorFunction<StylizedFrame, StylizedFrame> {
  return (source) =>
    defer(() => {
      const sharpened = new Map<number, { amount: number; source: StylizedCrop; crop: StylizedCrop }>();
      return source.pipe(
        map((frame) => {
          for (const id of sharpened.keys()) if (!frame.stylized.has(id)) sharpened.delete(id);
          const amount = Math.max(0, options.amount());
          if (amount === 0) {
            sharpened.clear();
            return frame;
          }
          const stylized = new Map<number, StylizedCrop>();
          for (const [id, crop] of frame.stylized) {
            let state = sharpened.get(id);
            if (!state || state.source !== crop || state.amount !== amount) {
              state = { amount, source: crop, crop: { ...crop, image: sharpenImage(crop.image, crop.size, amount) } };
              sharpened.set(id, state);
            }
            stylized.set(id, state.crop);
          }
          return { ...frame, stylized };
        }),
      );
    });
}
