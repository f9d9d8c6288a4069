import type { Frame } from '../frames';
import type { AlignedFace } from '../alignment';
import type { StylizedCrop, StylizedFrame } from '../inference';
import { gradeColorBytes, scaledGrade, toneChanges, toneFills, toneFilter, toneOf, type FrameGrade, type FrameTone } from './grade';
import { DETAIL_MAX_GAIN, LumaDetail, detailLevel, displayPerCropPixel } from './detail';
import { MASK_TEXTURE_SIZE, blendCropRect, fillMaskTexels, imageBounds, smoothstep } from './mask';
import { COLOR_TEXELS_PER_CROP_PIXEL, correctedTexels, flowReach, type BlendOptions, type FrameRenderer } from './renderer';

interface FaceTexels {
  version: number;
  /** Whether the texels' alpha carries the detail gain (computed only while detail is on). */
  withGain: boolean;
  /** correctedTexels of the result: RGBA8, (2·size)² (COLOR_TEXELS_PER_CROP_PIXEL). */
  texels: Uint8ClampedArray;
  flow: Float32Array;
  flowReach: number;
}

/**
 * The blend on the CPU, into a 2D canvas: the frame is drawn as is, then each face's region is
 * read, mixed with the stylized crop and written back. It computes exactly what the WebGL
 * renderer's face pass does (same mask texels, same bilinear sampling with clamped edges, same
 * weight), pixel for pixel in JS.
 *
 * For machines whose WebGL is a software rasterizer (SwiftShader, llvmpipe): there every WebGL
 * draw, texture upload and canvas presentation is CPU work in the GPU process, and measured on
 * this project's 2-core machine, showing camera frames through a WebGL canvas cost 0.74–0.97
 * cores at 30 fps against 0.21–0.38 through a 2D canvas (scripts/bench/present-cost.mjs). The
 * face is ~10 % of the frame, so mixing it here is cheaper than any GL pass.
 */
export class Canvas2dBlendRenderer implements FrameRenderer {
  private readonly context: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
  private readonly maskTexels = new Uint8Array(MASK_TEXTURE_SIZE * MASK_TEXTURE_SIZE);
  private readonly faces = new Map<number, FaceTexels>();
  private drawnFrame: Frame | undefined;
  /** The frame the grade was last drawn over (once per frame: the blend mode is not idempotent). */
  private gradedFrame: Frame | undefined;

  constructor(
    readonly canvas: HTMLCanvasElement | OffscreenCanvas,
    private readonly range: readonly [number, number],
  ) {
    // Opaque (so read-modify-write of pixels is exact) and CPU-backed (read back every frame).
    const context = canvas.getContext('2d', { alpha: false, willReadFrequently: true, desynchronized: false }) as
      | CanvasRenderingContext2D
      | OffscreenCanvasRenderingContext2D
      | null;
    if (!context) throw new Error('2D canvas unavailable');
    this.context = context;
  }

  /** Draws the frame, as is, into the canvas; at most once per frame. */
  upload(frame: Frame): void {
    if (this.drawnFrame === frame) return;
    const { width, height } = frame;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.context.drawImage(frame.image, 0, 0, width, height);
    this.drawnFrame = frame;
  }

  render(frame: StylizedFrame, options: BlendOptions): void {
    this.upload(frame.frame);
    for (const id of this.faces.keys()) if (!frame.stylized.has(id)) this.faces.delete(id);
    if (options.strength <= 0) return;
    const grade = scaledGrade(options.grade, options.strength);
    if (grade && this.gradedFrame !== frame.frame) this.drawGrade(grade, frame.frame);
    for (const face of frame.faces) {
      const stylized = frame.stylized.get(face.id);
      if (stylized) this.renderFace(face, stylized, options, frame.frame.width, frame.frame.height);
    }
  }

  dispose(): void {
    this.faces.clear();
    this.drawnFrame = undefined;
    this.gradedFrame = undefined;
  }

  /**
   * The pack's grade (grade.ts) over the whole frame: its tone as grey fills in composite modes
   * (grade.ts toneFills), then its colour in the canvas's own `color` blend mode. The camera
   * detail is read back from the canvas afterwards, so it has the tone's gain as in the WebGL
   * renderer.
   */
  private drawGrade(grade: FrameGrade, frame: Frame): void {
    const context = this.context;
    const [r, g, b] = gradeColorBytes(grade);
    context.save();
    const tone = toneOf(grade);
    if (toneChanges(tone)) this.drawTone(tone, frame);
    if (grade.opacity > 0) {
      context.globalCompositeOperation = 'color';
      context.globalAlpha = grade.opacity;
      context.fillStyle = `rgb(${r}, ${g}, ${b})`;
      context.fillRect(0, 0, frame.width, frame.height);
    }
    context.restore();
    this.gradedFrame = frame;
  }

  /** The tone over the drawn frame; a gain above 1 through the canvas `filter` (where a browser has one). */
  private drawTone(tone: FrameTone, frame: Frame): void {
    const context = this.context;
    const fills = toneFills(tone);
    if (fills) {
      for (const { operation, grey } of fills) {
        context.globalCompositeOperation = operation;
        context.fillStyle = `rgb(${grey}, ${grey}, ${grey})`;
        context.fillRect(0, 0, frame.width, frame.height);
      }
      context.globalCompositeOperation = 'source-over';
    } else if ('filter' in context) {
      context.filter = toneFilter(tone);
      context.drawImage(frame.image, 0, 0, frame.width, frame.height);
      context.filter = 'none';
    }
  }

  private renderFace(face: AlignedFace, stylized: StylizedCrop, options: BlendOptions, width: number, height: number): void {
    const texels = this.texelsFor(stylized, options.detail > 0);
    const { imageFromCrop, cropFromImage, size } = face.alignment;
    fillMaskTexels(this.maskTexels, face.ovalInCrop, size, options.feather);
    // Only where the mask can be non-zero (as in the GL face pass): the oval's box widened by
    // the flow's reach, in crop space, then its bounding box in the frame.
    const [x0, y0, x1, y1] = blendCropRect(face.ovalInCrop, texels.flowReach, size);
    const { minX, minY, maxX, maxY } = imageBounds(imageFromCrop, [x0, y0, x1, y1]);
    // The region starts on a cell corner of the detail pyramid's coarsest level it samples.
    const level = detailLevel(displayPerCropPixel(cropFromImage));
    const cell = options.detail > 0 ? 2 ** LumaDetail.levelsFor(level) : 1;
    const left = Math.max(0, Math.floor(minX / cell) * cell);
    const top = Math.max(0, Math.floor(minY / cell) * cell);
    const right = Math.min(width, Math.ceil(maxX));
    const bottom = Math.min(height, Math.ceil(maxY));
    if (right <= left || bottom <= top) return;
    const region = this.context.getImageData(left, top, right - left, bottom - top);
    const rect = { x: left, y: top, width: right - left, height: bottom - top };
    const changed = blendFaceRegion(region.data, rect, {
      cropFromImage,
      imageFromCrop,
      ...(options.detail > 0 ? { detail: { camera: new LumaDetail(region.data, rect, level), amount: options.detail } } : {}),
      size,
      texels: texels.texels,
      flow: texels.flow,
      mask: this.maskTexels,
      feather: options.feather,
      strength: Math.min(1, options.strength),
      cropRect: [x0, y0, x1, y1],
    });
    if (changed) this.context.putImageData(region, left, top);
  }

  private texelsFor(stylized: StylizedCrop, withGain: boolean): FaceTexels {
    let face = this.faces.get(stylized.faceId);
    if (!face || face.version !== stylized.version || face.withGain !== withGain) {
      face = {
        version: stylized.version,
        withGain,
        texels: correctedTexels(stylized, this.range, withGain),
        flow: stylized.flow,
        flowReach: flowReach(stylized.flow, stylized.size),
      };
      this.faces.set(stylized.faceId, face);
    }
    return face;
  }
}

export interface FaceBlendInputs {
  readonly cropFromImage: readonly number[];
  readonly imageFromCrop: readonly number[];
  /** Camera detail (detail.ts): the frame's luma detail and how much of the texels' gain to add. */
  readonly detail?: { readonly camera: LumaDetail; readonly amount: number };
  readonly size: number;
  /** The stylized crop as colour-corrected RGBA8 texels, COLOR_TEXELS_PER_CROP_PIXEL per crop pixel (correctedTexels). */
  readonly texels: Uint8ClampedArray;
  /** [2, size, size], normalised [-1, 1]: where each stylized pixel samples the undeformed face. */
  readonly flow: Float32Array;
  /** MASK_TEXTURE_SIZE² feathered oval mask (fillMaskTexels). */
  readonly mask: Uint8Array;
  readonly feather: number;
  readonly strength: number;
  /** [left, top, right, bottom] in crop px: where the mask can be non-zero (default: the whole crop). */
  readonly cropRect?: readonly [number, number, number, number];
}

/**
 * Mixes the stylized face into `pixels` (RGBA of the frame's `rect`), in place, as the GL face
 * pass does: at pixel centre p, crop = cropFromImage·p; weight = mask(flow(crop)) ·
 * smoothstep(0, feather, distance to the crop border) · strength; out = weight·stylized(crop) +
 * (1 − weight)·frame. Only pixels whose crop position lies in `cropRect` (the GL pass's quad) are
 * considered, and pixels of weight 0 are not written. Returns whether any pixel was.
 */
export function blendFaceRegion(
  pixels: Uint8ClampedArray,
  rect: { readonly x: number; readonly y: number; readonly width: number; readonly height: number },
  inputs: FaceBlendInputs,
): boolean {
  const { cropFromImage: m, imageFromCrop: toImage, size, texels, flow, mask, feather, strength } = inputs;
  const camera = inputs.detail?.camera;
  const detailAmount = inputs.detail?.amount ?? 0;
  const [ia, ib, ic, id, ie, iF] = toImage as [number, number, number, number, number, number];
  const [left, top, right, bottom] = inputs.cropRect ?? [0, 0, size, size];
  const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
  const plane = size * size;
  const crop = new BilinearTaps();
  const colorTaps = new BilinearTaps();
  const maskTaps = new BilinearTaps();
  const k = COLOR_TEXELS_PER_CROP_PIXEL;
  let changed = false;
  for (let row = 0; row < rect.height; row++) {
    const iy = rect.y + row + 0.5;
    // Crop position of this row's first pixel centre; each column adds (a, d).
    let cx = a * (rect.x + 0.5) + b * iy + c;
    let cy = d * (rect.x + 0.5) + e * iy + f;
    for (let column = 0; column < rect.width; column++, cx += a, cy += d) {
      if (cx < left || cx > right || cy < top || cy > bottom) continue;
      const border = Math.min(cx, cy, size - cx, size - cy);
      if (border <= 0) continue;
      // The crop-sized textures (stylized colour, flow) and the mask, sampled bilinearly with
      // clamped edges, at this pixel's crop position and where its flow points.
      crop.at(cx - 0.5, cy - 0.5, size);
      const { i00, i10, i01, i11, w00, w10, w01, w11 } = crop;
      const sourceX = w00 * (flow[i00] as number) + w10 * (flow[i10] as number) + w01 * (flow[i01] as number) + w11 * (flow[i11] as number);
      const sourceY = w00 * (flow[plane + i00] as number) + w10 * (flow[plane + i10] as number) + w01 * (flow[plane + i01] as number) + w11 * (flow[plane + i11] as number);
      maskTaps.at((sourceX * 0.5 + 0.5) * MASK_TEXTURE_SIZE - 0.5, (sourceY * 0.5 + 0.5) * MASK_TEXTURE_SIZE - 0.5, MASK_TEXTURE_SIZE);
      const maskValue =
        maskTaps.w00 * (mask[maskTaps.i00] as number) + maskTaps.w10 * (mask[maskTaps.i10] as number) +
        maskTaps.w01 * (mask[maskTaps.i01] as number) + maskTaps.w11 * (mask[maskTaps.i11] as number);
      if (maskValue <= 0) continue;
      const weight = (maskValue / 255) * smoothstep(0, feather, border) * strength;
      if (weight <= 0) continue;
      const p = (row * rect.width + column) * 4;
      colorTaps.at(cx * k - 0.5, cy * k - 0.5, size * k);
      const { i00: c00, i10: c10, i01: c01, i11: c11 } = colorTaps;
      const { w00: v00, w10: v10, w01: v01, w11: v11 } = colorTaps;
      // Camera detail, taken where the flow says this stylized pixel came from (frame position
      // of the flow's source), at the texels' gain (alpha).
      let detail = 0;
      if (camera && detailAmount > 0) {
        const gain = v00 * (texels[c00 * 4 + 3] as number) + v10 * (texels[c10 * 4 + 3] as number) + v01 * (texels[c01 * 4 + 3] as number) + v11 * (texels[c11 * 4 + 3] as number);
        if (gain > 0) {
          const sx = (sourceX * 0.5 + 0.5) * size;
          const sy = (sourceY * 0.5 + 0.5) * size;
          detail = ((gain * DETAIL_MAX_GAIN) / 255) * detailAmount * camera.at(ia * sx + ib * sy + ic, id * sx + ie * sy + iF);
        }
      }
      for (let ch = 0; ch < 3; ch++) {
        const stylizedValue =
          v00 * (texels[c00 * 4 + ch] as number) + v10 * (texels[c10 * 4 + ch] as number) + v01 * (texels[c01 * 4 + ch] as number) + v11 * (texels[c11 * 4 + ch] as number) + detail;
        // Clamped before mixing, as the GL pass's colour output is.
        const shown = stylizedValue < 0 ? 0 : stylizedValue > 255 ? 255 : stylizedValue;
        pixels[p + ch] = weight * shown + (1 - weight) * (pixels[p + ch] as number);
      }
      changed = true;
    }
  }
  return changed;
}

/**
 * The four texels and weights of a bilinear sample on an n × n grid (texel i's centre at i),
 * edges clamped. Callers read the fields and index their own array: one call site per array type
 * keeps the element loads monomorphic (a shared sample() over three array types cost ~30 %).
 */
class BilinearTaps {
  i00 = 0;
  i10 = 0;
  i01 = 0;
  i11 = 0;
  w00 = 0;
  w10 = 0;
  w01 = 0;
  w11 = 0;

  at(x: number, y: number, n: number): void {
    const last = n - 1;
    const tx = x < 0 ? 0 : x > last ? last : x;
    const ty = y < 0 ? 0 : y > last ? last : y;
    const x0 = tx | 0;
    const y0 = ty | 0;
    const x1 = x0 < last ? x0 + 1 : last;
    const y1 = y0 < last ? y0 + 1 : last;
    const ax = tx - x0;
    const ay = ty - y0;
    this.i00 = y0 * n + x0;
    this.i10 = y0 * n + x1;
    this.i01 = y1 * n + x0;
    this.i11 = y1 * n + x1;
    this.w00 = (1 - ax) * (1 - ay);
    this.w10 = ax * (1 - ay);
    this.w01 = (1 - ax) * ay;
    this.w11 = ax * ay;
  }
}
