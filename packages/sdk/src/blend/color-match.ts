import { featherMask, maskInset } from './mask';

/**
 * Per-channel affine colour correction (in the model's [-1, 1] pixel range) that gives the
 * stylized face the mean and spread of the original frame in the seam ring, so the feathered
 * edge shows no colour or lighting step: corrected = gain · stylized + offset.
 */
export interface ColorTransform {
  readonly gain: readonly [number, number, number];
  readonly offset: readonly [number, number, number];
}

export const IDENTITY_COLOR: ColorTransform = { gain: [1, 1, 1], offset: [0, 0, 0] };

/**
 * What the seam match takes from the frame. 'luminance' (default): brightness and contrast
 * only, one gain and offset for all channels, so a style's own colours (a grey pencil
 * sketch, an anime palette) reach the screen; 'color': each channel's mean and spread, which
 * hides the seam best but gives every style the camera's skin colour back; 'off': none.
 */
export type ColorMatchMode = 'luminance' | 'color' | 'off';

// Rec. 601 luma weights: what the luminance match equalises.
const LUMA = [0.299, 0.587, 0.114] as const;

const GAIN_LIMITS = [0.5, 2] as const;

/**
 * Matches mean/std over the feather ring (0 < mask < 1). `original` and `stylized` are NCHW
 * [3, size, size] crops; `flow` ([2, size, size], normalised [-1, 1]) says where each stylized
 * pixel came from, so the ring follows the deformed outline on the stylized side. Samples every
 * `stride`-th pixel: a ring estimate does not need all of them (at 128 px and stride 4, ~150
 * ring samples; it runs on the main thread for every stylized result).
 */
export function matchRingColor(
  original: Float32Array,
  stylized: Float32Array,
  flow: Float32Array,
  ovalInCrop: ArrayLike<number>,
  size: number,
  feather: number,
  mode: ColorMatchMode = 'luminance',
  stride = 4,
): ColorTransform {
  if (mode === 'off') return IDENTITY_COLOR;
  const plane = size * size;
  const inset = maskInset(size); // the same band the GPU mask uses
  const originalStats = new RingStats();
  const stylizedStats = new RingStats();
  for (let y = 0.5; y < size; y += stride) {
    for (let x = 0.5; x < size; x += stride) {
      const i = Math.floor(y) * size + Math.floor(x);
      const originalWeight = ringWeight(featherMask(x, y, ovalInCrop, feather, inset));
      if (originalWeight > 0) originalStats.add(original, i, plane, originalWeight);
      const sourceX = ((flow[i] as number) + 1) * 0.5 * size;
      const sourceY = ((flow[plane + i] as number) + 1) * 0.5 * size;
      const stylizedWeight = ringWeight(featherMask(sourceX, sourceY, ovalInCrop, feather, inset));
      if (stylizedWeight > 0) stylizedStats.add(stylized, i, plane, stylizedWeight);
    }
  }
  if (originalStats.weight < 1 || stylizedStats.weight < 1) return IDENTITY_COLOR;
  if (mode === 'luminance') {
    const g = clamp(originalStats.lumaStd() / Math.max(stylizedStats.lumaStd(), 1e-3), GAIN_LIMITS[0], GAIN_LIMITS[1]);
    const o = originalStats.lumaMean() - g * stylizedStats.lumaMean();
    return { gain: [g, g, g], offset: [o, o, o] };
  }
  const gain = [0, 0, 0] as [number, number, number];
  const offset = [0, 0, 0] as [number, number, number];
  for (let c = 0; c < 3; c++) {
    const g = clamp(originalStats.std(c) / Math.max(stylizedStats.std(c), 1e-3), GAIN_LIMITS[0], GAIN_LIMITS[1]);
    gain[c] = g;
    offset[c] = originalStats.mean(c) - g * stylizedStats.mean(c);
  }
  return { gain, offset };
}

/** Ring membership: strongest in the middle of the feather band, zero where the mask is 0 or 1. */
function ringWeight(mask: number): number {
  return mask > 0 && mask < 1 ? 1 - Math.abs(2 * mask - 1) : 0;
}

class RingStats {
  weight = 0;
  private readonly sum = [0, 0, 0];
  private readonly sumSquares = [0, 0, 0];
  private lumaSum = 0;
  private lumaSumSquares = 0;

  add(pixels: Float32Array, index: number, plane: number, weight: number): void {
    this.weight += weight;
    let luma = 0;
    for (let c = 0; c < 3; c++) {
      const v = pixels[c * plane + index] as number;
      this.sum[c] = (this.sum[c] as number) + weight * v;
      this.sumSquares[c] = (this.sumSquares[c] as number) + weight * v * v;
      luma += (LUMA[c] as number) * v;
    }
    this.lumaSum += weight * luma;
    this.lumaSumSquares += weight * luma * luma;
  }

  lumaMean(): number {
    return this.lumaSum / this.weight;
  }

  lumaStd(): number {
    const m = this.lumaMean();
    return Math.sqrt(Math.max(0, this.lumaSumSquares / this.weight - m * m));
  }

  mean(c: number): number {
    return (this.sum[c] as number) / this.weight;
  }

  std(c: number): number {
    const m = this.mean(c);
    return Math.sqrt(Math.max(0, (this.sumSquares[c] as number) / this.weight - m * m));
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
