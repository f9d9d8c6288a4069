import { bilinear, boxMean } from '../planes';

/**
 * Camera detail transfer: the fine detail of the CURRENT camera frame, put into the stylized
 * face at the gain with which the style follows the camera there.
 *
 * The generator draws the face on a 128² crop, and the blend magnifies it 1.5–5× into the
 * frame: whatever the camera has above the crop's resolution (lashes, the rim of an iris, lip
 * lines, the edge of a pair of glasses) cannot be in the stylized face, and it looks soft next
 * to the camera image around it (the detail ratio of `npm run eval:display`: 0.47 for a close
 * face at 1280×720). No model trained on this CPU renders that band, but the camera has it, at
 * display resolution, in every frame. So the blend adds
 *
 *     out = stylized + gain · (luma(frame) − lowpass(luma(frame)))
 *
 * (the guided upsampling of real-time photo pipelines). `lowpass` removes what the crop can
 * hold: a box pyramid of the frame's luma sampled trilinearly at the level whose cells are about
 * one crop pixel wide (WebGL: the mip levels of the frame region under the face, detailRegion;
 * the CPU blend builds the same levels). `gain` is the local linear gain from the input crop's luma to the
 * stylized crop's (a guided filter's a = cov / (var + ε) over a 6×6 window, clamped to
 * [0, DETAIL_MAX_GAIN] and averaged over the window again), computed once per result on the
 * crop grid: ≈ 1 where the base model reconstructs the face, > 1 where a style draws the
 * camera's edges harder, ≈ 0 where a style paints over them (flat cartoon skin, a sketch's
 * paper), so it sharpens what the style keeps and brings no photo texture into what it
 * replaced. The detail is taken where the generator's flow says the pixel came from, so a
 * deformed face (big eyes, a narrow jaw) carries the camera's detail to where the style moved
 * the feature. It is the current frame's, so it also follows a blink before the next result.
 */

/** The gain's upper clamp: at most twice the camera's own fine contrast. */
export const DETAIL_MAX_GAIN = 2;

/** Half-width of the gain's windows on the half-resolution grid it is computed on (3 × 3 there: 6 × 6 crop px). */
const GAIN_RADIUS_HALF = 1;

/**
 * ε of the gain, in squared [0, 1] luma: windows whose input varies less than ~0.02 (5 levels of
 * 255) get proportionally less gain, so the camera's noise in flat skin is not amplified where
 * the style's output merely has noise of its own.
 */
const GAIN_EPSILON = 0.02 * 0.02;

/**
 * Width of the low-pass cells in crop pixels: the pyramid level is log2(display px per crop px
 * × DETAIL_CELL). One crop pixel: what the generator could have drawn stays with the generator.
 */
export const DETAIL_CELL = 1;

const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;

/**
 * The gain per crop pixel ([size²], in [0, DETAIL_MAX_GAIN]) from the input crop's luma (sampled
 * where `flow` says each output pixel came from) to `output`'s luma. `input` and `output` are
 * NCHW [3, size, size] in the model's range; `output` is the colour-corrected stylized crop.
 */
export function detailGain(input: Float32Array, output: Float32Array, flow: Float32Array, size: number, range: readonly [number, number]): Float32Array {
  const plane = size * size;
  const scale = 1 / (range[1] - range[0]);
  const inputLuma = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    inputLuma[i] = (LUMA_R * (input[i] as number) + LUMA_G * (input[plane + i] as number) + LUMA_B * (input[2 * plane + i] as number) - range[0]) * scale;
  }
  const x = new Float32Array(plane); // input luma at each output pixel's flow source
  const y = new Float32Array(plane); // output luma
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const i = row * size + column;
      const sx = ((flow[i] as number) + 1) * 0.5 * size - 0.5;
      const sy = ((flow[plane + i] as number) + 1) * 0.5 * size - 0.5;
      x[i] = bilinear(inputLuma, size, size, sx, sy);
      y[i] = (LUMA_R * (output[i] as number) + LUMA_G * (output[plane + i] as number) + LUMA_B * (output[2 * plane + i] as number) - range[0]) * scale;
    }
  }
  // The statistics on a half-resolution grid (2 × 2 means): the gain is a smooth field, and this
  // runs on the main thread for every result (a quarter of the work; windows of 6 × 6 crop px).
  const half = size >> 1;
  const halfPlane = half * half;
  const hx = new Float32Array(halfPlane);
  const hy = new Float32Array(halfPlane);
  const hxy = new Float32Array(halfPlane);
  const hxx = new Float32Array(halfPlane);
  for (let row = 0; row < half; row++) {
    for (let column = 0; column < half; column++) {
      const j = row * half + column;
      let sx = 0;
      let sy = 0;
      let sxy = 0;
      let sxx = 0;
      for (let k = 0; k < 4; k++) {
        const i = (2 * row + (k >> 1)) * size + 2 * column + (k & 1);
        const xi = x[i] as number;
        const yi = y[i] as number;
        sx += xi;
        sy += yi;
        sxy += xi * yi;
        sxx += xi * xi;
      }
      hx[j] = 0.25 * sx;
      hy[j] = 0.25 * sy;
      hxy[j] = 0.25 * sxy;
      hxx[j] = 0.25 * sxx;
    }
  }
  const meanX = boxMean(hx, half, GAIN_RADIUS_HALF);
  const meanY = boxMean(hy, half, GAIN_RADIUS_HALF);
  const meanXY = boxMean(hxy, half, GAIN_RADIUS_HALF);
  const meanXX = boxMean(hxx, half, GAIN_RADIUS_HALF);
  const halfGain = new Float32Array(halfPlane);
  for (let j = 0; j < halfPlane; j++) {
    const mx = meanX[j] as number;
    const covariance = (meanXY[j] as number) - mx * (meanY[j] as number);
    const variance = Math.max(0, (meanXX[j] as number) - mx * mx);
    const a = covariance / (variance + GAIN_EPSILON);
    halfGain[j] = a < 0 ? 0 : a > DETAIL_MAX_GAIN ? DETAIL_MAX_GAIN : a;
  }
  const smooth = boxMean(halfGain, half, GAIN_RADIUS_HALF);
  // Back to the crop grid, bilinearly (half-grid texel j's centre at crop 2j + 1).
  const gain = new Float32Array(plane);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) gain[row * size + column] = bilinear(smooth, half, half, (column - 0.5) / 2, (row - 0.5) / 2);
  }
  return gain;
}

/** The pyramid level (fractional) of the low-pass for a face drawn at `displayPerCrop` display px per crop px. */
export function detailLevel(displayPerCrop: number): number {
  return Math.log2(Math.max(1, displayPerCrop * DETAIL_CELL));
}

/** Display px per crop px of an affine crop-from-image map [a, b, c, d, e, f]. */
export function displayPerCropPixel(cropFromImage: readonly number[]): number {
  const det = Math.abs((cropFromImage[0] as number) * (cropFromImage[4] as number) - (cropFromImage[1] as number) * (cropFromImage[3] as number));
  return det > 0 ? 1 / Math.sqrt(det) : 1;
}

/**
 * The frame region whose box pyramid the GL face pass builds for the camera detail (instead of
 * mipmapping the whole frame: 1.9 ms per frame at 640×480, 5 ms at 1280×720 on SwiftShader,
 * against ~1 ms to copy a 256 × 320 region and mipmap it). Its origin and size are multiples of the coarsest level's
 * cell, so each level's cells are the frame's own (what LumaDetail builds on the CPU) and a
 * normalised coordinate maps to the same texel at every level; clipped to whole cells inside the
 * frame. undefined when no whole cell of it is in the frame.
 */
export function detailRegion(
  bounds: { readonly minX: number; readonly minY: number; readonly maxX: number; readonly maxY: number },
  level: number,
  frameWidth: number,
  frameHeight: number,
): { x: number; y: number; width: number; height: number } | undefined {
  const cell = 2 ** LumaDetail.levelsFor(level);
  const x = Math.max(0, Math.floor(bounds.minX / cell) * cell);
  const y = Math.max(0, Math.floor(bounds.minY / cell) * cell);
  const width = Math.min(Math.ceil((bounds.maxX - x) / cell), Math.floor((frameWidth - x) / cell)) * cell;
  const height = Math.min(Math.ceil((bounds.maxY - y) / cell), Math.floor((frameHeight - y) / cell)) * cell;
  return width > 0 && height > 0 ? { x, y, width, height } : undefined;
}

/**
 * The frame's luma detail over a region, on the CPU, as the WebGL face pass computes it from its
 * region's mip levels: luma at level 0 (bilinear) minus the trilinear sample at `level` of a
 * box pyramid (each level the 2 × 2 mean of the one below, cells aligned to the frame's origin).
 * Positions are frame pixels, pixel centres at k + 0.5.
 */
export class LumaDetail {
  private readonly planes: Float32Array[] = [];
  private readonly widths: number[] = [];
  private readonly heights: number[] = [];
  private readonly cells: number[] = [];
  private readonly low: number;
  private readonly blend: number;

  /**
   * `pixels`: RGBA of the frame's rect (x, y, width, height); x and y must be multiples of
   * 2^LumaDetail.levelsFor(level) so the region's cells are the frame's.
   */
  constructor(
    pixels: Uint8ClampedArray,
    private readonly rect: { readonly x: number; readonly y: number; readonly width: number; readonly height: number },
    level: number,
  ) {
    this.low = Math.floor(level);
    this.blend = level - this.low;
    const base = new Float32Array(rect.width * rect.height);
    for (let i = 0, p = 0; i < base.length; i++, p += 4) {
      base[i] = LUMA_R * (pixels[p] as number) + LUMA_G * (pixels[p + 1] as number) + LUMA_B * (pixels[p + 2] as number);
    }
    this.planes.push(base);
    this.widths.push(rect.width);
    this.heights.push(rect.height);
    this.cells.push(1);
    for (let k = 1; k <= this.low + 1; k++) {
      const below = this.planes[k - 1] as Float32Array;
      const belowWidth = this.widths[k - 1] as number;
      const width = Math.max(1, belowWidth >> 1);
      const height = Math.max(1, (this.heights[k - 1] as number) >> 1);
      const plane = new Float32Array(width * height);
      for (let j = 0; j < height; j++) {
        const top = Math.min(2 * j, (this.heights[k - 1] as number) - 1);
        const bottom = Math.min(2 * j + 1, (this.heights[k - 1] as number) - 1);
        for (let i = 0; i < width; i++) {
          const left = Math.min(2 * i, belowWidth - 1);
          const right = Math.min(2 * i + 1, belowWidth - 1);
          plane[j * width + i] =
            0.25 * ((below[top * belowWidth + left] as number) + (below[top * belowWidth + right] as number) + (below[bottom * belowWidth + left] as number) + (below[bottom * belowWidth + right] as number));
        }
      }
      this.planes.push(plane);
      this.widths.push(width);
      this.heights.push(height);
      this.cells.push(2 ** k);
    }
  }

  /** How many levels above 0 a region at `level` needs (its origin must be a multiple of 2^that). */
  static levelsFor(level: number): number {
    return Math.floor(level) + 1;
  }

  /** Luma (0–255) minus its low-pass at frame position (px, py). */
  at(px: number, py: number): number {
    const localX = px - this.rect.x;
    const localY = py - this.rect.y;
    const fine = bilinear(this.planes[0] as Float32Array, this.widths[0] as number, this.heights[0] as number, localX - 0.5, localY - 0.5);
    const k = this.low;
    const cell = this.cells[k] as number;
    const low = bilinear(this.planes[k] as Float32Array, this.widths[k] as number, this.heights[k] as number, localX / cell - 0.5, localY / cell - 0.5);
    if (this.blend === 0) return fine - low;
    const lowerCell = 2 * cell;
    const lower = bilinear(this.planes[k + 1] as Float32Array, this.widths[k + 1] as number, this.heights[k + 1] as number, localX / lowerCell - 0.5, localY / lowerCell - 0.5);
    return fine - (low + this.blend * (lower - low));
  }
}
