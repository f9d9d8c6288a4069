import { describe, expect, it } from 'vitest';
import { blendFaceRegion } from '../src/blend/canvas2d-renderer';
import { MASK_TEXTURE_SIZE, fillMaskTexels } from '../src/blend/mask';
import { identityFlow } from './helpers';
import { DETAIL_MAX_GAIN, LumaDetail, detailLevel, displayPerCropPixel } from '../src/blend/detail';

const SIZE = 32;
// The crop is the frame's 64×64 region at (10, 10), scaled by 1/2: crop = (image − 10) / 2.
const cropFromImage = [0.5, 0, -5, 0, 0.5, -5];
const imageFromCrop = [2, 0, 10, 0, 2, 10];
// A square face oval well inside the crop.
const oval = Float32Array.of(6, 6, 26, 6, 26, 26, 6, 26);
const mask = fillMaskTexels(new Uint8Array(MASK_TEXTURE_SIZE * MASK_TEXTURE_SIZE), oval, SIZE, 3);
const texels = new Uint8ClampedArray(2 * SIZE * 2 * SIZE * 4).fill(200); // COLOR_TEXELS_PER_CROP_PIXEL = 2

function blend(strength: number) {
  const rect = { x: 0, y: 0, width: 90, height: 90 };
  const pixels = new Uint8ClampedArray(rect.width * rect.height * 4).fill(40);
  const changed = blendFaceRegion(pixels, rect, { cropFromImage, imageFromCrop, size: SIZE, texels, flow: identityFlow(SIZE), mask, feather: 3, strength });
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

  it("adds the camera frame's fine detail at the gain in the texels' alpha, taken where the flow points", () => {
    // The frame: grey 100 with a one-pixel vertical line of 160 every 4 px (detail far above the
    // crop's resolution: a crop pixel covers 2 frame pixels).
    const rect = { x: 0, y: 0, width: 96, height: 96 };
    const frame = new Uint8ClampedArray(rect.width * rect.height * 4);
    for (let i = 0; i < rect.width * rect.height; i++) frame.fill(i % 4 === 0 ? 160 : 100, 4 * i, 4 * i + 3).fill(255, 4 * i + 3, 4 * i + 4);
    // The stylized crop: the frame's mean (115) everywhere, gain 1 (alpha 255 / DETAIL_MAX_GAIN).
    const flat = (gain: number) => new Uint8ClampedArray(2 * SIZE * 2 * SIZE * 4).map((_, i) => (i % 4 === 3 ? (gain * 255) / DETAIL_MAX_GAIN : 115));
    const run = (gain: number, amount: number, flow = identityFlow(SIZE)) => {
      const pixels = frame.slice();
      const camera = new LumaDetail(frame, rect, detailLevel(displayPerCropPixel(cropFromImage)));
      blendFaceRegion(pixels, rect, { cropFromImage, imageFromCrop, size: SIZE, texels: flat(gain), flow, mask, feather: 3, strength: 1, detail: { camera, amount } });
      return (x: number, y: number) => pixels[(y * rect.width + x) * 4] as number;
    };
    expect(detailLevel(displayPerCropPixel(cropFromImage))).toBe(1);
    const none = run(0, 1);
    const full = run(1, 1);
    const half = run(1, 0.5);
    const double = run(2, 1);
    // Without gain the flat stylized value; with it, the lines come back. The low-pass is level 1
    // (cells of 2 px: 130 on a line's cell, 100 between) sampled bilinearly: 122.5 at x = 40 and 41.
    expect(none(40, 42)).toBe(115);
    expect(none(41, 42)).toBe(115);
    expect(full(40, 42)).toBeCloseTo(115 + 160 - 122.5, -0.5);
    expect(full(41, 42)).toBeCloseTo(115 + 100 - 122.5, -0.5);
    expect(half(40, 42) - 115).toBeCloseTo((full(40, 42) - 115) / 2, -0.5);
    expect(double(40, 42) - 115).toBeCloseTo(2 * (full(40, 42) - 115), -0.5);
    // A flow that shifts every pixel's source by one crop pixel (2 frame px) to the right takes
    // the detail from there: the line column's value moves 2 px to the left.
    const shifted = identityFlow(SIZE).map((v, i) => (i < SIZE * SIZE ? v + 2 / SIZE : v));
    const moved = run(1, 1, shifted);
    expect(moved(38, 42)).toBeCloseTo(full(40, 42), -0.5);
    expect(moved(40, 42)).toBeCloseTo(full(38, 42), -0.5);
  });
});
