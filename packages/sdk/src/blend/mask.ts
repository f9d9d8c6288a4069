/**
 * The feathered face mask, as math shared by the blend (renderer.ts fills the mask texture
 * with it) and the CPU colour matching. The mask is 1 well inside the face-oval polygon, falls to 0
 * over `feather` pixels towards the outline, and is exactly 0 on and outside it — so every
 * pixel outside the oval keeps the input frame's value bit for bit.
 */

/**
 * Signed distance from (x, y) to a closed polygon given as [x0, y0, x1, y1, ...]:
 * negative inside, positive outside (Inigo Quilez's even-odd formulation).
 */
export function signedDistanceToPolygon(x: number, y: number, polygon: ArrayLike<number>): number {
  const n = polygon.length / 2;
  let squared = Infinity;
  let sign = 1;
  for (let i = 0, j = n - 1; i < n; j = i, i++) {
    const vix = polygon[2 * i] as number;
    const viy = polygon[2 * i + 1] as number;
    const ex = (polygon[2 * j] as number) - vix;
    const ey = (polygon[2 * j + 1] as number) - viy;
    const wx = x - vix;
    const wy = y - viy;
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey || 1)));
    const bx = wx - ex * t;
    const by = wy - ey * t;
    squared = Math.min(squared, bx * bx + by * by);
    const above = y >= viy;
    const below = y < (polygon[2 * j + 1] as number);
    const left = ex * wy > ey * wx;
    if ((above && below && left) || (!above && !below && !left)) sign = -sign;
  }
  return sign * Math.sqrt(squared);
}

/** GLSL smoothstep. */
export function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/**
 * Mask weight in [0, 1] at a point: 0 outside the polygon and within `inset` of its outline,
 * then ramps up to 1 over `feather`.
 */
export function featherMask(x: number, y: number, polygon: ArrayLike<number>, feather: number, inset = 0): number {
  return 1 - smoothstep(-inset - feather, -inset, signedDistanceToPolygon(x, y, polygon));
}

/** Side of the mask texture filled per face and frame (the mask is smooth, so coarse is enough). */
export const MASK_TEXTURE_SIZE = 64;

/**
 * Inset (crop px) that keeps a bilinearly sampled mask texture exactly 0 outside the polygon:
 * the four texels around any point lie within √2 texels of it, and a signed distance changes
 * by at most the distance moved, so an inset above √2 texels leaves all four at 0.
 */
export function maskInset(cropSize: number, maskSize: number = MASK_TEXTURE_SIZE): number {
  return 1.5 * (cropSize / maskSize);
}

/**
 * The mask texture's texels (row 0 = crop y 0, values 0–255) for a face oval in crop pixels:
 * featherMask at each texel centre. Outside the oval's bounding box the mask is exactly 0, so
 * only texels inside it are computed.
 */
export function fillMaskTexels(
  texels: Uint8Array,
  ovalInCrop: ArrayLike<number>,
  cropSize: number,
  feather: number,
  maskSize: number = MASK_TEXTURE_SIZE,
): Uint8Array {
  const texelToCrop = cropSize / maskSize;
  const inset = maskInset(cropSize, maskSize);
  const { minX, minY, maxX, maxY } = polygonBounds(ovalInCrop);
  const texel = (crop: number) => Math.min(maskSize - 1, Math.max(0, Math.floor(crop / texelToCrop)));
  texels.fill(0);
  for (let row = texel(minY); row <= texel(maxY); row++) {
    for (let column = texel(minX); column <= texel(maxX); column++) {
      const weight = featherMask((column + 0.5) * texelToCrop, (row + 0.5) * texelToCrop, ovalInCrop, feather, inset);
      texels[row * maskSize + column] = Math.round(weight * 255);
    }
  }
  return texels;
}

/** Axis-aligned bounding box of a polygon [x0, y0, x1, y1, ...]; the mask is 0 outside it. */
export function polygonBounds(polygon: ArrayLike<number>): { minX: number; minY: number; maxX: number; maxY: number } {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < polygon.length; i += 2) {
    minX = Math.min(minX, polygon[i] as number);
    maxX = Math.max(maxX, polygon[i] as number);
    minY = Math.min(minY, polygon[i + 1] as number);
    maxY = Math.max(maxY, polygon[i + 1] as number);
  }
  return { minX, minY, maxX, maxY };
}

/**
 * The crop-space rectangle [x0, y0, x1, y1] where a face's mask can be non-zero: the oval's box
 * widened by how far the flow moves any pixel (`flowReach`, crop px; a pixel further out samples
 * the mask outside the oval, where it is 0), clamped to the crop. Both renderers draw only there.
 */
export function blendCropRect(ovalInCrop: ArrayLike<number>, flowReach: number, size: number): [number, number, number, number] {
  const oval = polygonBounds(ovalInCrop);
  const margin = flowReach + 1;
  const clampToCrop = (v: number) => Math.min(size, Math.max(0, v));
  return [clampToCrop(oval.minX - margin), clampToCrop(oval.minY - margin), clampToCrop(oval.maxX + margin), clampToCrop(oval.maxY + margin)];
}

/** The frame-space bounding box of a crop-space rectangle under an affine image-from-crop map. */
export function imageBounds(imageFromCrop: readonly number[], [x0, y0, x1, y1]: readonly number[]): { minX: number; minY: number; maxX: number; maxY: number } {
  const corners: number[] = [];
  for (const [cx, cy] of [[x0, y0], [x1, y0], [x0, y1], [x1, y1]] as const) {
    corners.push(
      (imageFromCrop[0] as number) * (cx as number) + (imageFromCrop[1] as number) * (cy as number) + (imageFromCrop[2] as number),
      (imageFromCrop[3] as number) * (cx as number) + (imageFromCrop[4] as number) * (cy as number) + (imageFromCrop[5] as number),
    );
  }
  return polygonBounds(corners);
}
