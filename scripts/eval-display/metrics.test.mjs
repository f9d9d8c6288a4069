import { describe, expect, it } from 'vitest';
import {
  absDiffRgb,
  checkerboardScore,
  detailRatio,
  gaussianBlur,
  gradientEnergy,
  ovalCoverage,
  polygonMask,
  psnrFromMse,
  seamChromaStep,
  lumaShift,
  shrinkPolygon,
  splitJpegs,
  squaredErrorRgb,
  ssim,
  tensorLuma,
} from './metrics.mjs';

const W = 64;
const H = 48;

/** A textured plane (0..255): smooth shading plus fine detail, deterministic. */
function texture(width = W, height = H) {
  const plane = new Float32Array(width * height);
  let seed = 7;
  for (let i = 0; i < plane.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const x = i % width;
    const y = Math.floor(i / width);
    plane[i] = 100 + 40 * Math.sin(x / 9) * Math.cos(y / 7) + ((seed >>> 16) % 60) - 30;
  }
  return plane;
}

const full = (width = W, height = H) => new Uint8Array(width * height).fill(1);
const rgbaOf = (plane) => {
  const rgba = new Uint8ClampedArray(plane.length * 4);
  plane.forEach((v, i) => rgba.set([v, v, v, 255], 4 * i));
  return rgba;
};

describe('display-fidelity metrics', () => {
  it('identical images: detail ratio 1, SSIM 1, no error, checkerboard 1', () => {
    const a = texture();
    expect(detailRatio(a, a, W, H, full())).toBeCloseTo(1, 10);
    expect(ssim(a, a, W, H, full())).toBeCloseTo(1, 6);
    expect(squaredErrorRgb(rgbaOf(a), rgbaOf(a), full()).sum).toBe(0);
    expect(psnrFromMse(0)).toBe(Infinity);
    expect(checkerboardScore(a, a, W, H)).toBeCloseTo(1, 10);
  });

  it('a blurred image has a detail ratio below 1 and SSIM below 1', () => {
    const a = texture();
    const blurred = gaussianBlur(a, W, H, 2);
    const ratio = detailRatio(blurred, a, W, H, full());
    expect(ratio).toBeLessThan(0.5);
    expect(ratio).toBeGreaterThan(0);
    expect(ssim(blurred, a, W, H, full())).toBeLessThan(0.9);
    expect(checkerboardScore(blurred, a, W, H)).toBeLessThan(0.5);
  });

  it('a checkerboard pattern on top of an image gives a high checkerboard score', () => {
    const a = gaussianBlur(texture(), W, H, 1);
    const grid = a.map((v, i) => v + (((i % W) + Math.floor(i / W)) % 2 ? 12 : -12));
    expect(checkerboardScore(grid, a, W, H)).toBeGreaterThan(3);
  });

  it('PSNR from MSE, and mean absolute change', () => {
    expect(psnrFromMse(255 * 255)).toBeCloseTo(0, 10);
    expect(psnrFromMse(65.025)).toBeCloseTo(30, 3);
    const a = rgbaOf(new Float32Array(4).fill(10));
    const b = rgbaOf(new Float32Array(4).fill(13));
    expect(absDiffRgb(a, b, new Uint8Array([1, 1, 0, 0]))).toEqual({ sum: 6, count: 2 });
  });

  it('gradient energy: a ramp of slope 3 along x gives 3 per pixel; doubling the contrast doubles it', () => {
    const ramp = new Float32Array(W * H).map((_, i) => 10 + 3 * (i % W));
    const e = gradientEnergy(rgbaOf(ramp), W, H, full());
    expect(e.count).toBe((W - 1) * (H - 1));
    expect(e.sum / e.count).toBeCloseTo(3, 1);
    const tex = texture();
    const bold = tex.map((v) => 128 + 1.5 * (v - 128));
    const ratio = gradientEnergy(rgbaOf(bold), W, H, full()).sum / gradientEnergy(rgbaOf(tex), W, H, full()).sum;
    expect(ratio).toBeGreaterThan(1.4);
    expect(ratio).toBeLessThan(1.6);
  });

  it('seam chroma step: the output face coloured unlike the continuous skin around it', () => {
    const size = 120;
    const oval = Array.from({ length: 24 }, (_, k) => [60 + 32 * Math.cos((k / 24) * 2 * Math.PI), 60 + 38 * Math.sin((k / 24) * 2 * Math.PI)]);
    const skin = [200, 150, 120];
    const paint = (inside, outside) => {
      const mask = polygonMask(oval, size, size);
      const rgba = new Uint8ClampedArray(size * size * 4);
      for (let i = 0; i < size * size; i++) rgba.set([...(mask[i] ? inside : outside), 255], 4 * i);
      return rgba;
    };
    const camera = paint(skin, skin);
    expect(seamChromaStep(camera, camera, size, size, oval)).toEqual({ points: 24, camera: 0, output: 0, cameraLuma: 0, outputLuma: 0 });
    // a grey face on that skin: the step is the skin's chroma, its distance from grey
    const lum = 0.3 * 200 + 0.59 * 150 + 0.11 * 120;
    const grey = seamChromaStep(paint([lum, lum, lum], skin), camera, size, size, oval);
    expect(grey.points).toBe(24);
    expect(grey.output).toBeCloseTo(Math.hypot(...skin.map((v) => v - lum)), 0);
    expect(grey.outputLuma).toBeCloseTo(0, 0); // same luminosity (up to 8-bit rounding): no brightness step
    // a face 30 levels paler than the skin around it: a luminosity step of 30, no colour step
    const pale = seamChromaStep(paint(skin.map((v) => v + 30), skin), camera, size, size, oval);
    expect(pale.outputLuma).toBeCloseTo(30, 0);
    expect(pale.output).toBeCloseTo(0, 0);
    expect(lumaShift(paint(skin.map((v) => v + 30), skin), camera, polygonMask(oval, size, size)).sum / polygonMask(oval, size, size).reduce((a, v) => a + v, 0)).toBeCloseTo(30, 6);
    // where the camera itself changes colour across the outline (skin → a blue wall) nothing is counted
    expect(seamChromaStep(camera, paint(skin, [40, 60, 200]), size, size, oval)).toBeNull();
  });

  it('polygon mask and core shrink', () => {
    const square = [[10, 10], [30, 10], [30, 30], [10, 30]];
    expect(polygonMask(square, W, H).reduce((s, v) => s + v, 0)).toBe(400);
    const core = shrinkPolygon(square, 0.5);
    expect(core[0]).toEqual([15, 15]);
    expect(polygonMask(core, W, H).reduce((s, v) => s + v, 0)).toBe(100);
  });

  it('oval coverage reads crop px per display px from the crop transform', () => {
    const oval = Array.from({ length: 36 }, (_, i) => [100 + 80 * Math.cos((i / 36) * 2 * Math.PI), 100 + 100 * Math.sin((i / 36) * 2 * Math.PI)]);
    // A rotated similarity at 0.4 crop px per display px.
    const [s, t] = [0.4 * Math.cos(0.3), 0.4 * Math.sin(0.3)];
    const coverage = ovalCoverage(oval, [s, t, 5, -t, s, 7]);
    expect(coverage.cropPerDisplay).toBeCloseTo(0.4, 6);
    expect(coverage.scale).toBeCloseTo(0.4, 6);
    expect(coverage.displayHeight).toBeCloseTo(200, 0);
  });

  it('tensor luma maps [-1, 1] to 0..255', () => {
    expect(Array.from(tensorLuma(new Float32Array([1, 1, 1]), 1))[0]).toBeCloseTo(255, 3);
    expect(Array.from(tensorLuma(new Float32Array([-1, -1, -1]), 1))[0]).toBeCloseTo(0, 3);
  });

  it('splits an MJPEG stream into its JPEGs, skipping marker segments that hold 0xFFD9', () => {
    const jpeg = (payload) => [0xff, 0xd8, 0xff, 0xe1, 0x00, 0x06, 0xff, 0xd9, 0x00, 0x00, 0xff, 0xda, 0x00, 0x02, ...payload, 0xff, 0xd9];
    const a = jpeg([1, 2, 0xff, 0x00, 3]);
    const b = jpeg([4, 0xff, 0xd3, 5]);
    expect(splitJpegs(new Uint8Array([...a, ...b]))).toEqual([[0, a.length], [a.length, a.length + b.length]]);
  });
});
