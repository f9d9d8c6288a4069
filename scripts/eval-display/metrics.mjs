// Display-fidelity metrics (`npm run eval:display`, docs/quality.md). Pure functions on plain
// typed arrays, shared by the browser page (scripts/eval-display/page.js) and the unit test: no
// DOM, no Node APIs. Images are RGBA bytes (Uint8Array / Uint8ClampedArray, 4 per pixel) or
// single planes (Float32Array, one value per pixel, 0..255 scale), row-major, `width × height`.

/** MediaPipe FACEMESH_FACE_OVAL as a closed loop (the SDK's mask polygon). */
export const FACE_OVAL = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150,
  136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];

/** The face core's shrink factor about the oval's centroid (as in the e2e harness). */
export const CORE_SHRINK = 0.7;
/** σ of the Gaussian whose residual is the detail signal, in display pixels. */
export const DETAIL_SIGMA = 1.5;
/** The checkerboard kernel [[1,-2,1],[-2,4,-2],[1,-2,1]] / 4: responds to a period-2 grid. */
export const CHECKER_KERNEL = [1, -2, 1, -2, 4, -2, 1, -2, 1].map((v) => v / 4);

/** BT.601 luma of RGBA bytes (0..255). */
export function luma(rgba, width, height) {
  const out = new Float32Array(width * height);
  for (let i = 0, k = 0; i < out.length; i++, k += 4) out[i] = 0.299 * rgba[k] + 0.587 * rgba[k + 1] + 0.114 * rgba[k + 2];
  return out;
}

/** The face-oval polygon [[x, y], ...] of a landmark list ({x, y} in pixels). */
export function ovalOf(landmarks) {
  return FACE_OVAL.map((i) => [landmarks[i].x, landmarks[i].y]);
}

/** `polygon` scaled by `factor` about its vertex centroid. */
export function shrinkPolygon(polygon, factor = CORE_SHRINK) {
  const cx = polygon.reduce((a, p) => a + p[0], 0) / polygon.length;
  const cy = polygon.reduce((a, p) => a + p[1], 0) / polygon.length;
  return polygon.map(([x, y]) => [cx + (x - cx) * factor, cy + (y - cy) * factor]);
}

/** Pixels whose centre (x + 0.5, y + 0.5) lies inside `polygon` (even-odd rule, scanline fill). */
export function polygonMask(polygon, width, height) {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const py = y + 0.5;
    const xs = [];
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const [ax, ay] = polygon[i];
      const [bx, by] = polygon[j];
      if (ay > py !== by > py) xs.push(ax + ((py - ay) * (bx - ax)) / (by - ay));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k] - 0.5));
      const to = Math.min(width - 1, Math.ceil(xs[k + 1] - 0.5) - 1);
      for (let x = from; x <= to; x++) mask[y * width + x] = 1;
    }
  }
  return mask;
}

/** Integer bounding box of a polygon grown by `margin` px, clipped to the image. */
export function boundingBox(polygon, width, height, margin = 0) {
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs) - margin));
  const y0 = Math.max(0, Math.floor(Math.min(...ys) - margin));
  const x1 = Math.min(width, Math.ceil(Math.max(...xs) + margin));
  const y1 = Math.min(height, Math.ceil(Math.max(...ys) + margin));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** Seam probes: just inside the face oval and just outside the blend's feather, as scales of the oval about its centroid. */
export const SEAM_INNER = 0.85;
export const SEAM_OUTER = 1.2;
/** Camera chroma step (8-bit levels) below which the picture continues across the outline (skin to skin). */
export const SEAM_CONTINUOUS = 12;

/**
 * The colour step across the face's outline where the camera picture has none: at each oval
 * vertex, the distance between the mean chroma (RGB minus the W3C Lum, 8-bit levels, 7 × 7 px)
 * just inside the oval and just outside it, for the camera frame and the output frame, averaged
 * over the vertices whose camera step is below SEAM_CONTINUOUS (cheek to ear, chin to neck,
 * forehead to forehead). A stylized face coloured unlike the skin around it shows there as a
 * pasted-on mask. Returns { points, camera, output, cameraLuma, outputLuma } (null when no
 * vertex qualifies): the *Luma fields are the luminosity step (|inside − outside|, 8-bit levels)
 * at the same vertices, where the face's brightness departs from the picture around it.
 */
export function seamChromaStep(output, input, width, height, oval) {
  const cx = oval.reduce((a, p) => a + p[0], 0) / oval.length;
  const cy = oval.reduce((a, p) => a + p[1], 0) / oval.length;
  const chromaAt = (rgba, x, y) => {
    const sum = [0, 0, 0, 0]; // chroma, then luminosity
    let n = 0;
    for (let dy = -3; dy <= 3; dy++) {
      for (let dx = -3; dx <= 3; dx++) {
        const px = Math.round(x) + dx;
        const py = Math.round(y) + dy;
        if (px < 0 || py < 0 || px >= width || py >= height) continue;
        const k = (py * width + px) * 4;
        const lum = 0.3 * rgba[k] + 0.59 * rgba[k + 1] + 0.11 * rgba[k + 2];
        for (let c = 0; c < 3; c++) sum[c] += rgba[k + c] - lum;
        sum[3] += lum;
        n++;
      }
    }
    return n ? sum.map((v) => v / n) : undefined;
  };
  const step = (rgba, [x, y]) => {
    const inner = chromaAt(rgba, cx + (x - cx) * SEAM_INNER, cy + (y - cy) * SEAM_INNER);
    const outer = chromaAt(rgba, cx + (x - cx) * SEAM_OUTER, cy + (y - cy) * SEAM_OUTER);
    return inner && outer ? { chroma: Math.hypot(inner[0] - outer[0], inner[1] - outer[1], inner[2] - outer[2]), luma: Math.abs(inner[3] - outer[3]) } : undefined;
  };
  let points = 0;
  const sums = { camera: 0, output: 0, cameraLuma: 0, outputLuma: 0 };
  for (const point of oval) {
    const stepIn = step(input, point);
    if (stepIn === undefined || stepIn.chroma >= SEAM_CONTINUOUS) continue;
    const stepOut = step(output, point);
    points++;
    sums.camera += stepIn.chroma;
    sums.output += stepOut.chroma;
    sums.cameraLuma += stepIn.luma;
    sums.outputLuma += stepOut.luma;
  }
  return points ? { points, camera: sums.camera / points, output: sums.output / points, cameraLuma: sums.cameraLuma / points, outputLuma: sums.outputLuma / points } : null;
}

/** The `rect` of an RGBA image as its own RGBA image. */
export function cropRgba(rgba, width, rect) {
  const out = new Uint8ClampedArray(rect.width * rect.height * 4);
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.y + y) * width + rect.x) * 4;
    out.set(rgba.subarray(from, from + rect.width * 4), y * rect.width * 4);
  }
  return out;
}

function gaussianKernel(sigma) {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return { kernel, radius };
}

const mirror = (i, n) => (n === 1 ? 0 : i < 0 ? Math.min(n - 1, -i - 1) : i >= n ? Math.max(0, 2 * n - i - 1) : i);

/** Separable Gaussian blur of a plane, mirrored edges. */
export function gaussianBlur(plane, width, height, sigma) {
  const { kernel, radius } = gaussianKernel(sigma);
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += kernel[k + radius] * plane[row + mirror(x + k, width)];
      tmp[row + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += kernel[k + radius] * tmp[mirror(y + k, height) * width + x];
      out[y * width + x] = s;
    }
  }
  return out;
}

/** Sum of squares of (plane − its Gaussian blur) over the mask, and the pixel count. */
export function detailEnergy(plane, width, height, mask, sigma = DETAIL_SIGMA) {
  const blurred = gaussianBlur(plane, width, height, sigma);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < plane.length; i++) {
    if (!mask[i]) continue;
    const d = plane[i] - blurred[i];
    sum += d * d;
    count++;
  }
  return { sum, count };
}

/** RMS of (plane − its Gaussian blur σ) over the mask. */
export function detailRms(plane, width, height, mask, sigma = DETAIL_SIGMA) {
  const { sum, count } = detailEnergy(plane, width, height, mask, sigma);
  return count ? Math.sqrt(sum / count) : 0;
}

/** Detail ratio: detail RMS of `output` ÷ that of `input` (planes of the same size) over the mask. */
export function detailRatio(output, input, width, height, mask, sigma = DETAIL_SIGMA) {
  return detailRms(output, width, height, mask, sigma) / detailRms(input, width, height, mask, sigma);
}

/**
 * SSIM (Wang et al. 2004) of two planes (0..255) with a Gaussian window σ = 1.5: the per-pixel
 * map's sum and count over the mask (average = sum / count).
 */
export function ssimSum(a, b, width, height, mask, sigma = 1.5) {
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const n = width * height;
  const aa = new Float32Array(n);
  const bb = new Float32Array(n);
  const ab = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a[i] * a[i];
    bb[i] = b[i] * b[i];
    ab[i] = a[i] * b[i];
  }
  const [ma, mb, saa, sbb, sab] = [a, b, aa, bb, ab].map((p) => gaussianBlur(p, width, height, sigma));
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    const va = saa[i] - ma[i] * ma[i];
    const vb = sbb[i] - mb[i] * mb[i];
    const cov = sab[i] - ma[i] * mb[i];
    sum += ((2 * ma[i] * mb[i] + C1) * (2 * cov + C2)) / ((ma[i] * ma[i] + mb[i] * mb[i] + C1) * (va + vb + C2));
    count++;
  }
  return { sum, count };
}

export function ssim(a, b, width, height, mask, sigma = 1.5) {
  const { sum, count } = ssimSum(a, b, width, height, mask, sigma);
  return count ? sum / count : NaN;
}

/** Sum of squared RGB differences over the mask and the number of channel samples (for PSNR). */
export function squaredErrorRgb(a, b, mask) {
  let sum = 0;
  let count = 0;
  for (let i = 0, k = 0; i < mask.length; i++, k += 4) {
    if (!mask[i]) continue;
    for (let c = 0; c < 3; c++) {
      const d = a[k + c] - b[k + c];
      sum += d * d;
    }
    count += 3;
  }
  return { sum, count };
}

/** PSNR in dB from a mean squared error on the 0..255 scale. */
export const psnrFromMse = (mse) => (mse > 0 ? 10 * Math.log10((255 * 255) / mse) : Infinity);

/** Sum of mean-over-RGB absolute differences over the mask, and the pixel count. */
export function absDiffRgb(a, b, mask) {
  let sum = 0;
  let count = 0;
  for (let i = 0, k = 0; i < mask.length; i++, k += 4) {
    if (!mask[i]) continue;
    sum += (Math.abs(a[k] - b[k]) + Math.abs(a[k + 1] - b[k + 1]) + Math.abs(a[k + 2] - b[k + 2])) / 3;
    count++;
  }
  return { sum, count };
}

/** Sum over the mask pixels of luminosity (W3C Lum, 8-bit levels) of `a` minus that of `b`, and their count. */
export function lumaShift(a, b, mask) {
  let sum = 0;
  let count = 0;
  for (let i = 0, k = 0; i < mask.length; i++, k += 4) {
    if (!mask[i]) continue;
    sum += 0.3 * (a[k] - b[k]) + 0.59 * (a[k + 1] - b[k + 1]) + 0.11 * (a[k + 2] - b[k + 2]);
    count++;
  }
  return { sum, count };
}

/**
 * Sum of |∂x| + |∂y| of the luma (forward differences) over the mask pixels whose right and
 * lower neighbours are in the mask too, and their count: how much the picture changes when it
 * moves by a pixel. The flicker ratio of a moving face scales with it, so output ÷ input of
 * this (the style's contrast) says how much of a pack's flicker its own bolder drawing explains.
 */
export function gradientEnergy(rgba, width, height, mask) {
  const y = luma(rgba, width, height);
  let sum = 0;
  let count = 0;
  for (let r = 0; r < height - 1; r++) {
    for (let c = 0; c < width - 1; c++) {
      const i = r * width + c;
      if (!mask[i] || !mask[i + 1] || !mask[i + width]) continue;
      sum += Math.abs(y[i + 1] - y[i]) + Math.abs(y[i + width] - y[i]);
      count++;
    }
  }
  return { sum, count };
}

/**
 * Sum of squares of the checkerboard kernel's response over the pixels whose whole 3×3
 * neighbourhood is inside the image (and, with a mask, whose centre is in the mask).
 */
export function checkerEnergy(plane, width, height, mask) {
  const k = CHECKER_KERNEL;
  let sum = 0;
  let count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (mask && !mask[i]) continue;
      const r =
        k[0] * plane[i - width - 1] + k[1] * plane[i - width] + k[2] * plane[i - width + 1] +
        k[3] * plane[i - 1] + k[4] * plane[i] + k[5] * plane[i + 1] +
        k[6] * plane[i + width - 1] + k[7] * plane[i + width] + k[8] * plane[i + width + 1];
      sum += r * r;
      count++;
    }
  }
  return { sum, count };
}

export function checkerRms(plane, width, height, mask) {
  const { sum, count } = checkerEnergy(plane, width, height, mask);
  return count ? Math.sqrt(sum / count) : 0;
}

/** Checkerboard score: the kernel's RMS response on `output` ÷ that on `input`. */
export function checkerboardScore(output, input, width, height, mask) {
  return checkerRms(output, width, height, mask) / checkerRms(input, width, height, mask);
}

/** A contract tensor (NCHW, 3 planes, values in `range`) as a 0..255 luma plane. */
export function tensorLuma(tensor, size, range = [-1, 1]) {
  const plane = size * size;
  const scale = 255 / (range[1] - range[0]);
  const out = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    const r = (tensor[i] - range[0]) * scale;
    const g = (tensor[plane + i] - range[0]) * scale;
    const b = (tensor[2 * plane + i] - range[0]) * scale;
    out[i] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  return out;
}

/** Scale (pixels of the destination per pixel of the source) of an affine [a, b, c, d, e, f]. */
export const affineScale = (m) => Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));

/** Width of a polygon along the unit direction (ux, uy): the extent of its projection. */
export function extentAlong(polygon, ux, uy) {
  const t = polygon.map(([x, y]) => x * ux + y * uy);
  return Math.max(...t) - Math.min(...t);
}

/**
 * Crop geometry of one face: the oval's width in display pixels (along the crop's x axis, i.e.
 * across the face), the crop pixels covering that width, and crop px per display px.
 * `cropFromImage` is the alignment the runtime computed for the frame.
 */
export function ovalCoverage(oval, cropFromImage) {
  const [a, b] = cropFromImage;
  const norm = Math.hypot(a, b);
  const displayWidth = extentAlong(oval, a / norm, b / norm);
  const inCrop = oval.map(([x, y]) => [a * x + b * y + cropFromImage[2], cropFromImage[3] * x + cropFromImage[4] * y + cropFromImage[5]]);
  const cropWidth = Math.max(...inCrop.map((p) => p[0])) - Math.min(...inCrop.map((p) => p[0]));
  const ys = oval.map((p) => p[1]);
  return { displayWidth, cropWidth, cropPerDisplay: cropWidth / displayWidth, displayHeight: Math.max(...ys) - Math.min(...ys), scale: affineScale(cropFromImage) };
}

/** The JPEG images of an MJPEG stream (concatenated JPEGs): [start, end) byte offsets. */
export function splitJpegs(bytes) {
  const frames = [];
  let start = -1;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0xff) continue;
    const marker = bytes[i + 1];
    if (marker === 0xd8 && start < 0) start = i;
    else if (marker === 0xd9 && start >= 0) {
      frames.push([start, i + 2]);
      start = -1;
      i++;
    } else if (start >= 0 && marker !== 0x00 && !(marker >= 0xd0 && marker <= 0xd7) && marker !== 0xff && marker !== 0xd8) {
      // A marker segment with a length: skip it (its payload may hold 0xFFD9 bytes, e.g. a thumbnail).
      if (marker === 0xda) continue; // start of scan: entropy-coded data follows, byte-stuffed
      const length = (bytes[i + 2] << 8) | bytes[i + 3];
      if (length >= 2) i += 1 + length;
    }
  }
  return frames;
}
