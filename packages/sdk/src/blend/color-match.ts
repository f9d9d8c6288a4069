import { bilinear, boxMean } from '../planes';
import { IDENTITY_SEAM_GRADE, type SeamGrade } from './grade';
import { featherMask, maskInset, polygonBounds, signedDistanceToPolygon, smoothstep } from './mask';

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
  /**
   * Chroma added per pixel after the matrix ('skin' only; addSeamField): the seam field
   * (seamChromaField), which gives the face's edge the colour of the skin beside it where one
   * mean over the whole ring cannot.
   */
  readonly field?: SeamField;
}

/**
 * A smooth per-pixel chroma offset over the crop, kept at every `stride`-th pixel per axis
 * ([3, grid, grid], model range) and interpolated bilinearly where it is used: small enough to
 * travel with each result (the full-resolution field cost a 250 kB allocation per result).
 */
export interface SeamField {
  readonly grid: number;
  readonly stride: number;
  readonly chroma: Float32Array;
}

export const IDENTITY_COLOR: ColorTransform = { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], offset: [0, 0, 0] };

/**
 * What the seam match takes from the frame. 'luminance': brightness of the luma, and its contrast
 * where the face's is harsher than the frame's (never raised: LUMA_GAIN_LIMITS); the chroma
 * (each channel minus luma) left as the style drew it, so a style's own colours
 * (a grey pencil sketch, an anime palette) reach the screen unchanged in hue and saturation;
 * 'lighting': that, and the scene light's colour cast — the face's mean chroma at the seam
 * becomes the graded frame's there, so under warm lamp light a pale-skinned style is as warm as
 * the neck beside it instead of a grey mask (the grade was fitted so that on average the two
 * already agree: only what this scene's light adds or takes moves); 'skin': that, plus the seam
 * field near the outline (seamChromaField: each side of the edge takes the chroma of the camera's
 * skin beside it; the runtime's default); 'color': each
 * channel's mean and spread, which hides the seam best but gives every style the camera's skin
 * colour back; 'off': none.
 */
export type ColorMatchMode = 'luminance' | 'lighting' | 'skin' | 'color' | 'off';

// Rec. 601 luma weights: what the luminance match equalises.
const LUMA = [0.299, 0.587, 0.114] as const;

// 'color' mode's per-channel gains (it fits the camera's spread in every channel).
const GAIN_LIMITS = [0.5, 2] as const;

/**
 * The luminance match's contrast gain (camera ring's luma spread ÷ the stylized ring's) may soften
 * a face, never harden it. The ring is the feather band at the outline, where the camera shows
 * the lighting's fall-off, the jaw's shadow and strands of hair while a flat style (anime's pale
 * skin) has almost none there: up to 2 the gain doubled the whole face's contrast, the style's
 * shading blotches with it, and the flicker with that (anime on talking-1: contrast 1.42 → 0.78
 * of the camera's, flicker 1.36 → 0.71; pixar-3d 2.28 → 1.37; docs/quality.md, session 33).
 */
const LUMA_GAIN_LIMITS = [0.5, 1] as const;

/**
 * Matches mean/std over the feather ring (0 < mask < 1). `original` and `stylized` are NCHW
 * [3, size, size] crops; `flow` ([2, size, size], normalised [-1, 1]) says where each stylized
 * pixel came from, so the ring follows the deformed outline on the stylized side. Samples every
 * `stride`-th pixel: a ring estimate does not need all of them (at 128 px and stride 4, ~150
 * ring samples; it runs for every stylized result, where the models ran). `grade` (the pack's
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
  if (mode === 'luminance' || mode === 'lighting' || mode === 'skin') {
    const g = clamp((tone.gain * originalStats.lumaStd()) / Math.max(stylizedStats.lumaStd(), 1e-3), LUMA_GAIN_LIMITS[0], LUMA_GAIN_LIMITS[1]);
    const o = tone.gain * originalStats.lumaMean() + tone.offset - g * stylizedStats.lumaMean();
    const luma = lumaTransform(g, o);
    if (mode === 'luminance') return luma;
    const lit = withChromaShift(luma, castShift(originalStats, stylizedStats, grade));
    if (mode === 'lighting') return lit;
    const field = seamChromaField(original, stylized, flow, ovalInCrop, size, lit, grade);
    return field ? { ...lit, field } : lit;
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
  const shift = [0, 1, 2].map((c) => gradedChroma(grade, c, original.chroma(c)) - stylized.chroma(c));
  const shiftLuma = lumaOf(shift);
  return shift.map((v) => v - shiftLuma) as [number, number, number];
}

/**
 * Channel c of the camera's chroma (channel minus luma) as the frame grade leaves it around the
 * face: a linear model of the grade's `color` blend, which ignores the blend's clip. On bright
 * skin the drawn grade is less saturated than this (pixar-3d's salmon: up to 32 levels less red,
 * checked against the canvas); using the exact grade (gradePixel) made the measured colour step
 * smaller on three clips and larger on two (docs/quality.md, session 31), so this stays.
 */
function gradedChroma(grade: SeamGrade, c: number, cameraChroma: number): number {
  return (1 - grade.opacity) * grade.tone.gain * cameraChroma + grade.opacity * (grade.chroma[c] as number);
}

function lumaOf3(r: number, g: number, b: number): number {
  return (LUMA[0] as number) * r + (LUMA[1] as number) * g + (LUMA[2] as number) * b;
}

function lumaOf(rgb: readonly number[]): number {
  return lumaOf3(rgb[0] as number, rgb[1] as number, rgb[2] as number);
}

function withChromaShift(color: ColorTransform, shift: readonly [number, number, number]): ColorTransform {
  return { matrix: color.matrix, offset: color.offset.map((o, c) => o + (shift[c] as number)) as [number, number, number] };
}

/**
 * How far into the face the seam field reaches, as a share of the oval's mean radius: it is
 * applied fully up to SEAM_FIELD_FULL from the outline and fades out by SEAM_FIELD_REACH, so the
 * middle of the face (eyes, nose, mouth, most of the cheeks) keeps the style's own colours.
 * Colour step across the outline, 9 packs × talking-1, selfie-glasses, talking-3 (`npm run
 * eval:display -- --clips … --flicker-packs --color-match skin`, session 30): mean 6.06 levels without the field,
 * 5.53 at 0.05 / 0.30, 5.23 at 0.15 / 0.45; largest (speed-paint, selfie-glasses) 19.2 → 14.9 →
 * 11.7; sampled only at the edge and spread by SEAM_FIELD_BLUR instead of over the whole band,
 * 5.03 and 7.8 (the camera's own: 7.5 and 8.5).
 */
export const SEAM_FIELD_FULL = 0.15;
export const SEAM_FIELD_REACH = 0.45;

/**
 * Half-width of the box blur (applied twice) that spreads the residual measured at the edge
 * along the outline and inward, as a share of the radius: wide enough to bridge a strand of hair
 * or an ear, narrow enough that a lamp-lit side and a shaded side keep their own colour.
 */
const SEAM_FIELD_BLUR = 0.2;

/** Grid step (crop px) of the field's estimate: it varies over a quarter of the face, so every 4th pixel per axis does (~1 ms). */
const FIELD_STRIDE = 4;

/**
 * The seam field: chroma offsets (model range, zero luma; addSeamField puts them on pixels) that give
 * the edge of the colour-corrected face the graded camera skin's chroma there, fading to zero
 * inside the face. One ring mean (castShift) cannot: a painted face is pale on the forehead and
 * pink on the cheeks while the camera's skin is warm under the jaw and lit on the temple, so the
 * mean matched and every side of the outline still showed a step (speed-paint on
 * selfie-glasses: 19 levels of chroma against the camera's own 9). Like a seamless clone's
 * membrane, but only its low frequencies and only the chroma: the residual (graded camera minus
 * corrected face) is sampled on the face's side of the outline, within SEAM_FIELD_FULL of it — the camera's own face skin, not
 * the background beyond it — and spread by a normalised box blur. undefined when the face is too
 * small to sample. `color` is the transform the field is added after.
 */
export function seamChromaField(
  original: Float32Array,
  stylized: Float32Array,
  flow: Float32Array,
  ovalInCrop: ArrayLike<number>,
  size: number,
  color: ColorTransform,
  grade: SeamGrade = IDENTITY_SEAM_GRADE,
): SeamField | undefined {
  const radius = Math.sqrt(Math.abs(polygonArea(ovalInCrop)) / Math.PI);
  if (!(radius > 4)) return undefined;
  const plane = size * size;
  const grid = Math.floor((size - 1) / FIELD_STRIDE) + 1; // grid points at 0, stride, … ≤ size − 1
  const cells = grid * grid;
  const reach = new Float32Array(cells); // 1 at the outline, 0 past SEAM_FIELD_REACH
  const sampled = new Float32Array(cells);
  const residual = [new Float32Array(cells), new Float32Array(cells), new Float32Array(cells)] as const;
  const face = [0, 0, 0];
  const graded = [0, 0, 0];
  const box = polygonBounds(ovalInCrop);
  reach.fill(1); // outside the oval (where the blend's mask is 0 anyway)
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const cell = gy * grid + gx;
      const i = Math.min(size - 1, gy * FIELD_STRIDE) * size + Math.min(size - 1, gx * FIELD_STRIDE);
      // inward distance of where this face pixel came from (the flow deforms the outline)
      const sourceX = ((flow[i] as number) + 1) * 0.5 * size;
      const sourceY = ((flow[plane + i] as number) + 1) * 0.5 * size;
      if (sourceX < box.minX || sourceX > box.maxX || sourceY < box.minY || sourceY > box.maxY) continue;
      const inward = -signedDistanceToPolygon(sourceX, sourceY, ovalInCrop);
      const weight = 1 - smoothstep(SEAM_FIELD_FULL * radius, SEAM_FIELD_REACH * radius, inward);
      reach[cell] = weight;
      if (inward <= 0 || inward > SEAM_FIELD_FULL * radius) continue; // the skin right at the edge
      sampled[cell] = 1;
      const r = stylized[i] as number;
      const g = stylized[plane + i] as number;
      const b = stylized[2 * plane + i] as number;
      const cameraLuma = lumaOf3(original[i] as number, original[plane + i] as number, original[2 * plane + i] as number);
      for (let c = 0; c < 3; c++) {
        face[c] = applyColor(color, c, r, g, b);
        graded[c] = gradedChroma(grade, c, (original[c * plane + i] as number) - cameraLuma);
      }
      const faceLuma = lumaOf(face);
      const gradedLuma = lumaOf(graded);
      for (let c = 0; c < 3; c++) {
        (residual[c] as Float32Array)[cell] = (graded[c] as number) - gradedLuma - ((face[c] as number) - faceLuma);
      }
    }
  }
  const blur = Math.max(1, Math.round((SEAM_FIELD_BLUR * radius) / FIELD_STRIDE));
  const smooth = (values: Float32Array) => boxMean(boxMean(values, grid, blur), grid, blur);
  const support = smooth(sampled);
  const peak = support.reduce((m, v) => Math.max(m, v), 0);
  if (!(peak > 0)) return undefined;
  const chroma = new Float32Array(3 * cells);
  residual.forEach((values, c) => {
    const spread = smooth(values);
    for (let k = 0; k < cells; k++) {
      chroma[c * cells + k] = (support[k] as number) > 0.02 * peak ? ((spread[k] as number) / (support[k] as number)) * (reach[k] as number) : 0;
    }
  });
  return { grid, stride: FIELD_STRIDE, chroma };
}

/** Adds `field`, interpolated bilinearly (grid points at multiples of its stride), to [3, size, size] `pixels` in place. */
export function addSeamField(field: SeamField, pixels: Float32Array, size: number): void {
  const { grid, stride, chroma } = field;
  const plane = size * size;
  const cells = grid * grid;
  for (let c = 0; c < 3; c++) {
    const channel = chroma.subarray(c * cells, (c + 1) * cells);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const k = c * plane + y * size + x;
        pixels[k] = (pixels[k] as number) + bilinear(channel, grid, grid, x / stride, y / stride);
      }
    }
  }
}

/**
 * Moves `color`'s seam field into `image` ([3, size, size], in place) and returns the transform
 * without it: drawn with the returned transform, the image shows exactly what the original
 * image shows with `color`. The field has zero luma and the seam match's matrix (lumaTransform:
 * I + (gain − 1) · 1 · LUMAᵀ) leaves zero-luma colours unchanged, so adding it before the matrix
 * equals adding it after. Done where the models run (runner.ts), it costs the page's thread
 * nothing per drawn result.
 */
export function bakeSeamField(color: ColorTransform, image: Float32Array, size: number): ColorTransform {
  if (!color.field) return color;
  addSeamField(color.field, image, size);
  return { matrix: color.matrix, offset: color.offset };
}

/** Shoelace area of a polygon [x0, y0, x1, y1, ...] (signed by winding). */
function polygonArea(polygon: ArrayLike<number>): number {
  const n = polygon.length / 2;
  let twice = 0;
  for (let i = 0, j = n - 1; i < n; j = i, i++) {
    twice += (polygon[2 * j] as number) * (polygon[2 * i + 1] as number) - (polygon[2 * i] as number) * (polygon[2 * j + 1] as number);
  }
  return twice / 2;
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
