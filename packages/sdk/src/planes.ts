/**
 * Operations on size × size Float32 planes that more than one stage uses (the temporal filter's
 * input-change window, the camera detail's gain statistics).
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
