import { describe, expect, it } from 'vitest';
import { blendFaceRegion } from '../src/blend/canvas2d-renderer';
import { MASK_TEXTURE_SIZE, fillMaskTexels } from '../src/blend/mask';
import { identityFlow } from './helpers';

const SIZE = 32;
// The crop is the frame's 64×64 region at (10, 10), scaled by 1/2: crop = (image − 10) / 2.
const cropFromImage = [0.5, 0, -5, 0, 0.5, -5];
// A square face oval well inside the crop.
const oval = Float32Array.of(6, 6, 26, 6, 26, 26, 6, 26);
const mask = fillMaskTexels(new Uint8Array(MASK_TEXTURE_SIZE * MASK_TEXTURE_SIZE), oval, SIZE, 3);
const texels = new Uint8ClampedArray(2 * SIZE * 2 * SIZE * 4).fill(200); // COLOR_TEXELS_PER_CROP_PIXEL = 2

function blend(strength: number) {
  const rect = { x: 0, y: 0, width: 90, height: 90 };
  const pixels = new Uint8ClampedArray(rect.width * rect.height * 4).fill(40);
  const changed = blendFaceRegion(pixels, rect, { cropFromImage, size: SIZE, texels, flow: identityFlow(SIZE), mask, feather: 3, strength });
  const at = (x: number, y: number) => pixels[(y * rect.width + x) * 4] as number;
  return { changed, at, pixels };
}

describe('CPU face blend', () => {
  it('writes the stylized face inside the oval and leaves every pixel of weight 0 as it was', () => {
    const { changed, at } = blend(1);
    expect(changed).toBe(true);
    expect(at(42, 42)).toBe(200); // crop (16, 16): the oval's core
    for (const [x, y] of [[5, 5], [11, 42], [42, 11], [80, 80], [73, 42]] as const) expect(at(x, y), `(${x}, ${y})`).toBe(40); // outside the oval or the crop
  });

  it('mixes by strength, and at strength 0 changes nothing', () => {
    expect(blend(0.5).at(42, 42)).toBe(120);
    const none = blend(0);
    expect(none.changed).toBe(false);
    expect(none.pixels.every((v) => v === 40)).toBe(true);
  });
});
