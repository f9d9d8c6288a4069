import { describe, expect, it } from 'vitest';
import { DETAIL_MAX_GAIN, LumaDetail, detailGain, detailLevel, detailRegion, displayPerCropPixel } from '../src/blend/detail';
import { correctedTexels } from '../src/blend/renderer';
import { IDENTITY_COLOR } from '../src/blend/color-match';
import { identityFlow } from './helpers';

const SIZE = 32;
const plane = SIZE * SIZE;

/** A grey [3, SIZE, SIZE] crop in [-1, 1] whose value is f(x, y) in every channel. */
function crop(f: (x: number, y: number) => number): Float32Array {
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) out[c * plane + y * SIZE + x] = f(x, y);
  return out;
}

const texture = (x: number, y: number) => 0.4 * Math.sin(x * 1.3) * Math.cos(y * 0.9);
const at = (gain: Float32Array, x: number, y: number) => gain[y * SIZE + x] as number;

describe('camera detail gain', () => {
  it('is ~1 where the output reproduces the input, ~0 where the style painted it flat or inverted it, clamped above', () => {
    const input = crop(texture);
    const flow = identityFlow(SIZE);
    expect(at(detailGain(input, input, flow, SIZE, [-1, 1]), 16, 16)).toBeGreaterThan(0.9);
    expect(at(detailGain(input, crop(() => 0.3), flow, SIZE, [-1, 1]), 16, 16)).toBeCloseTo(0, 5);
    expect(at(detailGain(input, crop((x, y) => -texture(x, y)), flow, SIZE, [-1, 1]), 16, 16)).toBe(0);
    const louder = at(detailGain(input, crop((x, y) => 1.5 * texture(x, y)), flow, SIZE, [-1, 1]), 16, 16);
    expect(louder).toBeGreaterThan(1.35);
    expect(louder).toBeLessThan(1.55);
    expect(at(detailGain(input, crop((x, y) => 3 * texture(x, y)), flow, SIZE, [-1, 1]), 16, 16)).toBeCloseTo(DETAIL_MAX_GAIN, 5);
  });

  it('compares each output pixel with the input where the flow says it came from', () => {
    // The output is the input moved 3 px to the left; its flow says so.
    const input = crop(texture);
    const output = crop((x, y) => texture(x + 3, y));
    const flow = identityFlow(SIZE).map((v, i) => (i < plane ? v + (2 * 3) / SIZE : v));
    expect(at(detailGain(input, output, flow, SIZE, [-1, 1]), 12, 16)).toBeGreaterThan(0.9);
    expect(at(detailGain(input, output, identityFlow(SIZE), SIZE, [-1, 1]), 12, 16)).toBeLessThan(0.5);
  });

  it('reaches the texels as alpha = gain / DETAIL_MAX_GAIN', () => {
    const input = crop(texture);
    const texels = correctedTexels({ image: input, input, flow: identityFlow(SIZE), size: SIZE, color: IDENTITY_COLOR }, [-1, 1]);
    const wide = 2 * SIZE;
    expect(((texels[(32 * wide + 32) * 4 + 3] as number) / 255) * DETAIL_MAX_GAIN).toBeGreaterThan(0.85);
  });
});

describe('frame luma detail', () => {
  const rect = { x: 0, y: 0, width: 64, height: 64 };
  const frame = (f: (x: number, y: number) => number) => {
    const pixels = new Uint8ClampedArray(rect.width * rect.height * 4);
    for (let y = 0; y < rect.height; y++) for (let x = 0; x < rect.width; x++) pixels.fill(f(x, y), (y * rect.width + x) * 4, (y * rect.width + x) * 4 + 4);
    return pixels;
  };

  it('is 0 on flat and linear frames and keeps a one-pixel checker nearly whole', () => {
    expect(new LumaDetail(frame(() => 90), rect, 1.5).at(20.5, 20.5)).toBeCloseTo(0, 4);
    expect(new LumaDetail(frame((x) => 2 * x), rect, 1.5).at(20.5, 20.5)).toBeCloseTo(0, 4);
    const checker = new LumaDetail(frame((x, y) => ((x + y) % 2 ? 150 : 50)), rect, 2);
    expect(checker.at(20.5, 20.5)).toBeCloseTo(-50, 4); // luma 50, low-pass 100
    expect(checker.at(21.5, 20.5)).toBeCloseTo(50, 4);
  });

  it('picks the level whose cells are one crop pixel wide', () => {
    expect(displayPerCropPixel([0.25, 0, 0, 0, 0.25, 0])).toBeCloseTo(4, 6);
    expect(detailLevel(4)).toBeCloseTo(2, 6);
    expect(detailLevel(0.5)).toBe(0); // a face smaller than the crop: no band above the crop
  });
});

describe('the GL detail region', () => {
  it('covers the face box in whole cells of its coarsest level, inside the frame', () => {
    const level = 1.6; // levels 0..2 sampled: cells of 4 px
    const region = detailRegion({ minX: 101.3, minY: 50.2, maxX: 250.5, maxY: 199 }, level, 640, 480);
    expect(region).toEqual({ x: 100, y: 48, width: 152, height: 152 });
    // at the frame's right edge: only whole cells inside the frame
    const edge = detailRegion({ minX: 590, minY: 0, maxX: 700, maxY: 30 }, level, 642, 480);
    expect(edge).toEqual({ x: 588, y: 0, width: 52, height: 32 });
    expect(detailRegion({ minX: 641, minY: 0, maxX: 700, maxY: 30 }, level, 642, 480)).toBeUndefined();
    for (const r of [region, edge]) {
      const cell = 2 ** LumaDetail.levelsFor(level);
      expect([r!.x % cell, r!.y % cell, r!.width % cell, r!.height % cell]).toEqual([0, 0, 0, 0]);
    }
  });
});
