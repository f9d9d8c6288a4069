/**
 * Operations on size × size Float32 planes that more than one stage uses (the temporal filter's
 * input-change window, the camera detail's gain statistics, its and the seam field's bilinear reads).
 */

/** Mean over the (2r + 1)² window around each pixel of a size × size plane (the window clipped at the edges); running sums. */
export function boxMean(plane: Float32Array, size: number, r: number): Float32Array {
  const rows = new Float32Array(plane.length);
  const out = new Float32Array(plane.length);
  for (let y = 0; y < size; y++) boxLine(plane, y * size, 1, size, r, rows);
  for (let x = 0; x < size; x++) boxLine(rows, x, size, size, r, out);
  return out;
}

/** One line of n samples (at from + k·step) replaced by its clipped window means, into `dst` at the same indices. */
function boxLine(src: Float32Array, from: number, step: number, n: number, r: number, dst: Float32Array): void {
  let sum = 0;
  let count = 0;
  for (let k = 0; k < r && k < n; k++, count++) sum += src[from + k * step] as number;
  for (let k = 0; k < n; k++) {
    const enter = k + r;
    if (enter < n) {
      sum += src[from + enter * step] as number;
      count++;
    }
    const leave = k - r - 1;
    if (leave >= 0) {
      sum -= src[from + leave * step] as number;
      count--;
    }
    dst[from + k * step] = sum / count;
  }
}

/** Bilinear sample of a width × height plane at (x, y) (texel i's centre at i), edges clamped. */
export function bilinear(plane: Float32Array, width: number, height: number, x: number, y: number): number {
  const tx = x < 0 ? 0 : x > width - 1 ? width - 1 : x;
  const ty = y < 0 ? 0 : y > height - 1 ? height - 1 : y;
  const x0 = tx | 0;
  const y0 = ty | 0;
  const x1 = x0 < width - 1 ? x0 + 1 : x0;
  const y1 = y0 < height - 1 ? y0 + 1 : y0;
  const ax = tx - x0;
  const ay = ty - y0;
  const top = (plane[y0 * width + x0] as number) * (1 - ax) + (plane[y0 * width + x1] as number) * ax;
  const bottom = (plane[y1 * width + x0] as number) * (1 - ax) + (plane[y1 * width + x1] as number) * ax;
  return top * (1 - ay) + bottom * ay;
}
