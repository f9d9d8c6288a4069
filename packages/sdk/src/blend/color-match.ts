import { IDENTITY_SEAM_GRADE, type SeamGrade } from './grade';
import { featherMask, maskInset } from './mask';

/**
 * Affine colour correction (in the model's [-1, 1] pixel range) that gives the stylized face
 * the mean and spread of the original frame in the seam ring, so the feathered edge shows no
 * colour or lighting step: corrected[c] = Σⱼ matrix[3c + j] · stylized[j] + offset[c].
 * A 3 × 3 matrix rather than a per-channel gain, because the luminance match must scale
 * brightness without scaling the style's chroma: a gain of 2 applied to each channel turned a
 * faintly green-grey pencil sketch into a flat green face.
 */
export interface ColorTransform {
  /** Row-major 3 × 3. */
  readonly matrix: readonly number[];
  readonly offset: readonly [number, number, number];
}

export const IDENTITY_COLOR: ColorTransform = { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], offset: [0, 0, 0] };

/**
 * What the seam match takes from the frame. 'luminance': brightness and contrast of the luma
 * only, the chroma (each channel minus luma) left as the style drew it, so a style's own colours
 * (a grey pencil sketch, an anime palette) reach the screen unchanged in hue and saturation;
 * 'lighting': that, and the scene light's colour cast — the face's mean chroma at the seam
 * becomes the graded frame's there, so under warm lamp light a pale-skinned style is as warm as
 * the neck beside it instead of a grey mask (the grade was fitted so that on average the two
 * already agree: only what this scene's light adds or takes moves); 'color': each channel's
 * mean and spread, which hides the seam best but gives every style the camera's skin colour
 * back; 'off': none.
 */
export type ColorMatchMode = 'luminance' | 'lighting' | 'color' | 'off';

// Rec. 601 luma weights: what the luminance match equalises.
const LUMA = [0.299, 0.587, 0.114] as const;

const GAIN_LIMITS = [0.5, 2] as const;

/**
 * Matches mean/std over the feather ring (0 < mask < 1). `original` and `stylized` are NCHW
 * [3, size, size] crops; `flow` ([2, size, size], normalised [-1, 1]) says where each stylized
 * pixel came from, so the ring follows the deformed outline on the stylized side. Samples every
 * `stride`-th pixel: a ring estimate does not need all of them (at 128 px and stride 4, ~150
 * ring samples; it runs on the main thread for every stylized result). `grade` (the pack's
 * frame grade in the model's pixel range, grade.ts seamGrade) is what the frame around the face
 * gets: the ring's camera statistics are aimed through it, so the face keeps the style's tone.
 */
export function matchRingColor(
  original: Float32Array,
  stylized: Float32Array,
  flow: Float32Array,
  ovalInCrop: ArrayLike<number>,
  size: number,
  feather: number,
  mode: ColorMatchMode = 'lighting',
  grade: SeamGrade = IDENTITY_SEAM_GRADE,
  stride = 4,
): ColorTransform {
  const { tone } = grade;
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
  if (mode === 'luminance' || mode === 'lighting') {
    const g = clamp((tone.gain * originalStats.lumaStd()) / Math.max(stylizedStats.lumaStd(), 1e-3), GAIN_LIMITS[0], GAIN_LIMITS[1]);
    const o = tone.gain * originalStats.lumaMean() + tone.offset - g * stylizedStats.lumaMean();
    const luma = lumaTransform(g, o);
    return mode === 'lighting' ? withChromaShift(luma, castShift(originalStats, stylizedStats, grade)) : luma;
  }
  const matrix = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const offset = [0, 0, 0] as [number, number, number];
  for (let c = 0; c < 3; c++) {
    const g = clamp((tone.gain * originalStats.std(c)) / Math.max(stylizedStats.std(c), 1e-3), GAIN_LIMITS[0], GAIN_LIMITS[1]);
    matrix[4 * c] = g;
    offset[c] = tone.gain * originalStats.mean(c) + tone.offset - g * stylizedStats.mean(c);
  }
  return { matrix, offset };
}

/**
 * luma' = gain · luma + offset with the chroma kept: x[c] + (gain − 1) · luma(x) + offset, i.e.
 * matrix = I + (gain − 1) · 1 · LUMAᵀ. (The luma weights sum to 1, so luma' comes out exact.)
 */
export function lumaTransform(gain: number, offset: number): ColorTransform {
  const matrix = [0, 1, 2].flatMap((c) => [0, 1, 2].map((j) => (c === j ? 1 : 0) + (gain - 1) * (LUMA[j] as number)));
  return { matrix, offset: [offset, offset, offset] };
}

/**
 * The chroma the face's seam lacks: the graded camera ring's mean chroma (the grade keeps
 * 1 − opacity of the toned camera's and adds opacity × its colour's) minus the stylized ring's,
 * with its luma taken out so the luminance match stays exact.
 */
function castShift(original: RingStats, stylized: RingStats, grade: SeamGrade): [number, number, number] {
  const shift = [0, 1, 2].map((c) => {
    const graded = (1 - grade.opacity) * grade.tone.gain * original.chroma(c) + grade.opacity * (grade.chroma[c] as number);
    return graded - stylized.chroma(c);
  });
  const shiftLuma = lumaOf(shift);
  return shift.map((v) => v - shiftLuma) as [number, number, number];
}

function lumaOf(rgb: readonly number[]): number {
  return rgb.reduce((sum, v, c) => sum + (LUMA[c] as number) * v, 0);
}

function withChromaShift(color: ColorTransform, shift: readonly [number, number, number]): ColorTransform {
  return { matrix: color.matrix, offset: color.offset.map((o, c) => o + (shift[c] as number)) as [number, number, number] };
}

/** The corrected value of channel c of one pixel (r, g, b). */
export function applyColor(color: ColorTransform, c: number, r: number, g: number, b: number): number {
  const m = color.matrix;
  return (m[3 * c] as number) * r + (m[3 * c + 1] as number) * g + (m[3 * c + 2] as number) * b + (color.offset[c] as number);
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

  /** Mean of channel c minus the mean luma. */
  chroma(c: number): number {
    return this.mean(c) - this.lumaMean();
  }

  std(c: number): number {
    const m = this.mean(c);
    return Math.sqrt(Math.max(0, (this.sumSquares[c] as number) / this.weight - m * m));
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
