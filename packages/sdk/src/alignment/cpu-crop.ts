import type { Affine } from './ffhq';

/**
 * The aligned crop cut on the CPU from a VideoFrame: the path when the encoder runs on the CPU
 * (WASM), where the tensor has to end up in CPU memory anyway. Reading the face's pixels straight
 * from the frame (`VideoFrame.copyTo`, converted to RGBA by the browser) skips the GPU warp and
 * its readback, which waits behind every GL command queued before it.
 *
 * Sampling is CROP_SAMPLING (ffhq.ts), exactly like the GL crop shader and the training crops:
 * each crop pixel is the mean of four bilinear taps at (±0.25, ±0.25) crop px, and texels
 * outside the frame mirror the frame's edge (GL's MIRRORED_REPEAT, torch's reflection padding).
 */

/** A rectangle of frame pixels: integer origin and size. */
export interface PixelRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** RGBA8 pixels of `rect` within a frame of `frameWidth` × `frameHeight`. */
export interface FramePixels {
  readonly rgba: Uint8Array | Uint8ClampedArray;
  readonly rect: PixelRect;
  readonly frameWidth: number;
  readonly frameHeight: number;
}

/** Texel index `i` folded into [0, n) the way MIRRORED_REPEAT folds it: …, 1, 0 | 0, 1, …, n-1 | n-1, … */
function mirror(i: number, n: number): number {
  const period = 2 * n;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** The texel span [lo, hi] that indices lo…hi read once mirrored into [0, n). */
function mirroredSpan(lo: number, hi: number, n: number): [number, number] {
  if (hi - lo + 1 >= 2 * n) return [0, n - 1];
  let from = Math.min(Math.max(lo, 0), n - 1);
  let to = Math.max(Math.min(hi, n - 1), 0);
  if (lo < 0) to = Math.max(to, Math.min(n - 1, -lo - 1));
  if (hi >= n) from = Math.min(from, Math.max(0, 2 * n - 1 - hi));
  return [from, to];
}

/**
 * The frame pixels a crop reads: the box of its taps (plus the bilinear neighbour), folded into
 * the frame by the mirror rule, widened to even coordinates (4:2:0 frames can only be copied at
 * chroma-sample boundaries).
 */
export function cropSourceRect(imageFromCrop: Affine, size: number, frameWidth: number, frameHeight: number): PixelRect {
  const box = tapBox(imageFromCrop, size);
  const [x0, x1] = mirroredSpan(box.x0, box.x1 + 1, frameWidth);
  const [y0, y1] = mirroredSpan(box.y0, box.y1 + 1, frameHeight);
  const x = x0 - (x0 % 2);
  const y = y0 - (y0 % 2);
  const right = Math.min(frameWidth, x1 + 1 + ((x1 + 1) % 2));
  const bottom = Math.min(frameHeight, y1 + 1 + ((y1 + 1) % 2));
  return { x, y, width: right - x, height: bottom - y };
}

/**
 * The texel-index box (texel i's centre at i) of the crop square's image: every bilinear tap's
 * first texel lies in [x0, x1] × [y0, y1], its second one texel further.
 */
function tapBox(imageFromCrop: Affine, size: number): { x0: number; x1: number; y0: number; y1: number } {
  const [a, b, c, d, e, f] = imageFromCrop;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const [cx, cy] of [[0, 0], [size, 0], [0, size], [size, size]] as const) {
    const x = a * cx + b * cy + c - 0.5;
    const y = d * cx + e * cy + f - 0.5;
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  return { x0: Math.floor(minX), x1: Math.floor(maxX), y0: Math.floor(minY), y1: Math.floor(maxY) };
}

/** The crop as an NCHW RGB float tensor in `range`, sampled from `pixels` (see the file comment). */
export function sampleCrop(pixels: FramePixels, imageFromCrop: Affine, size: number, range: readonly [number, number]): Float32Array {
  const { rgba, rect, frameWidth, frameHeight } = pixels;
  const [a, b, c, d, e, f] = imageFromCrop;
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  const scale = (range[1] - range[0]) / (255 * 4); // 4 taps summed, bytes → range
  const stride = rect.width * 4;
  // Every texel index a tap can touch, mirrored once into the frame and turned into an offset
  // into `rgba`: the inner loop then has no edge handling at all.
  const box = tapBox(imageFromCrop, size);
  const columns = new Int32Array(box.x1 - box.x0 + 2);
  for (let i = 0; i < columns.length; i++) columns[i] = (mirror(box.x0 + i, frameWidth) - rect.x) * 4;
  const rows = new Int32Array(box.y1 - box.y0 + 2);
  for (let i = 0; i < rows.length; i++) rows[i] = (mirror(box.y0 + i, frameHeight) - rect.y) * stride;
  // Tap k of crop pixel (px, py) sits at crop (px + 0.5 ± 0.25, py + 0.5 ± 0.25); in texel-index
  // space (texel i's centre at i) that is the pixel's position plus a fixed offset per tap.
  const tapX = [0, 0, 0, 0];
  const tapY = [0, 0, 0, 0];
  for (let k = 0; k < 4; k++) {
    const ox = 0.5 + ((k & 1) === 0 ? -0.25 : 0.25);
    const oy = 0.5 + ((k & 2) === 0 ? -0.25 : 0.25);
    tapX[k] = a * ox + b * oy + c - 0.5 - box.x0;
    tapY[k] = d * ox + e * oy + f - 0.5 - box.y0;
  }
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const baseX = a * px + b * py;
      const baseY = d * px + e * py;
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let k = 0; k < 4; k++) {
        const x = baseX + (tapX[k] as number);
        const y = baseY + (tapY[k] as number);
        const ix = Math.floor(x);
        const iy = Math.floor(y);
        const fx = x - ix;
        const fy = y - iy;
        const x0 = columns[ix] as number;
        const x1 = columns[ix + 1] as number;
        const row0 = rows[iy] as number;
        const row1 = rows[iy + 1] as number;
        const w00 = (1 - fx) * (1 - fy);
        const w10 = fx * (1 - fy);
        const w01 = (1 - fx) * fy;
        const w11 = fx * fy;
        const p00 = row0 + x0;
        const p10 = row0 + x1;
        const p01 = row1 + x0;
        const p11 = row1 + x1;
        red += w00 * (rgba[p00] as number) + w10 * (rgba[p10] as number) + w01 * (rgba[p01] as number) + w11 * (rgba[p11] as number);
        green += w00 * (rgba[p00 + 1] as number) + w10 * (rgba[p10 + 1] as number) + w01 * (rgba[p01 + 1] as number) + w11 * (rgba[p11 + 1] as number);
        blue += w00 * (rgba[p00 + 2] as number) + w10 * (rgba[p10 + 2] as number) + w01 * (rgba[p01 + 2] as number) + w11 * (rgba[p11 + 2] as number);
      }
      const i = py * size + px;
      tensor[i] = range[0] + red * scale;
      tensor[plane + i] = range[0] + green * scale;
      tensor[2 * plane + i] = range[0] + blue * scale;
    }
  }
  return tensor;
}

/** A crop request that travels as the frame itself (to the inference worker) rather than as a tensor. */
export interface FrameCrop {
  /** Owned by the request: whoever consumes it closes it. */
  readonly frame: VideoFrame;
  readonly imageFromCrop: Affine;
  /** The size the alignment was computed in (the source's display size). */
  readonly width: number;
  readonly height: number;
}

/** The frame pixels a crop reads, and the crop transform in those pixels' coordinates. */
export interface CropPixels {
  readonly pixels: FramePixels;
  readonly imageFromCrop: Affine;
}

/** Reads the pixels a crop needs from a VideoFrame (RGBA, converted by the browser). */
export async function readCropPixels(request: FrameCrop, size: number): Promise<CropPixels> {
  const { frame } = request;
  const visible = frame.visibleRect;
  const frameWidth = visible?.width ?? frame.displayWidth;
  const frameHeight = visible?.height ?? frame.displayHeight;
  // Landmarks live in display pixels; the frame's pixels may be stored at another size.
  const sx = frameWidth / request.width;
  const sy = frameHeight / request.height;
  const m = request.imageFromCrop;
  const imageFromCrop: Affine = [m[0] * sx, m[1] * sx, m[2] * sx, m[3] * sy, m[4] * sy, m[5] * sy];
  const rect = cropSourceRect(imageFromCrop, size, frameWidth, frameHeight);
  const rgba = await readRgba(frame, rect);
  return { pixels: { rgba, rect, frameWidth, frameHeight }, imageFromCrop };
}

export function isCropPixels(input: object): input is CropPixels {
  return 'pixels' in input && 'imageFromCrop' in input;
}

/** `readCropPixels` then `sampleCrop`; `onTiming` gets the milliseconds of each ('readback', 'crop'). */
export async function cropVideoFrame(
  request: FrameCrop,
  size: number,
  range: readonly [number, number],
  onTiming?: (stage: 'readback' | 'crop', milliseconds: number) => void,
): Promise<Float32Array> {
  const readStart = performance.now();
  const { pixels, imageFromCrop } = await readCropPixels(request, size);
  const cropStart = performance.now();
  const crop = sampleCrop(pixels, imageFromCrop, size, range);
  onTiming?.('readback', cropStart - readStart);
  onTiming?.('crop', performance.now() - cropStart);
  return crop;
}

let copyToConverts: boolean | undefined; // whether copyTo can convert to RGBA (Chromium 127+)

async function readRgba(frame: VideoFrame, rect: PixelRect): Promise<Uint8Array | Uint8ClampedArray> {
  const visible = frame.visibleRect;
  if (copyToConverts !== false) {
    const rgba = new Uint8Array(rect.width * rect.height * 4);
    try {
      await frame.copyTo(rgba, {
        rect: { x: rect.x + (visible?.x ?? 0), y: rect.y + (visible?.y ?? 0), width: rect.width, height: rect.height },
        format: 'RGBA',
        colorSpace: 'srgb',
      } as VideoFrameCopyToOptions);
      copyToConverts = true;
      return rgba;
    } catch (error) {
      if (copyToConverts) throw error;
      copyToConverts = false;
    }
  }
  const context = new OffscreenCanvas(rect.width, rect.height).getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('2D canvas unavailable for the crop');
  context.drawImage(frame, rect.x, rect.y, rect.width, rect.height, 0, 0, rect.width, rect.height);
  return context.getImageData(0, 0, rect.width, rect.height).data;
}
