/** The identity flow of a size × size crop: [2, size, size], each pixel samples its own centre (normalised [-1, 1]). */
export function identityFlow(size: number): Float32Array {
  const flow = new Float32Array(2 * size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      flow[y * size + x] = ((x + 0.5) / size) * 2 - 1;
      flow[size * size + y * size + x] = ((y + 0.5) / size) * 2 - 1;
    }
  }
  return flow;
}
