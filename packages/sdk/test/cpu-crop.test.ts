import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cropSourceRect, sampleCrop } from '../src/alignment/cpu-crop';
import { FACE_CORE_FRAMING, alignmentFor, invertAffine, reframe, type Affine } from '../src/alignment/ffhq';

// Written by training/crop_fixture.py from dataset preparation's own sampling (torch grid_sample,
// reflection padding, 2×2 supersampling); the trainer's tests check it still matches.
const fixture = JSON.parse(readFileSync(new URL('./fixtures/crop-sampling.json', import.meta.url), 'utf8')) as {
  width: number;
  height: number;
  size: number;
  rgb: number[];
  cases: { name: string; cropFromImage: number[]; outside: number; crop: number[] }[];
  faceCore: { framing: { scale: number; shift: number }; size: number; ffhqCropFromImage: number[]; faceCoreCropFromImage: number[] };
};

describe('face-core-v1 framing', () => {
  it('reframes an ffhq-v1 matrix exactly as dataset preparation does', () => {
    const { framing, size, ffhqCropFromImage, faceCoreCropFromImage } = fixture.faceCore;
    expect(FACE_CORE_FRAMING).toEqual(framing);
    const { cropFromImage } = reframe(ffhqCropFromImage as unknown as Affine, size);
    cropFromImage.forEach((v, i) => expect(v).toBeCloseTo(faceCoreCropFromImage[i] as number, 6));
  });

  it('frames a smaller, lower square of the ffhq-v1 crop', () => {
    // A frontal face: eyes at y = 100, mouth at y = 160, in a 468-point landmark array.
    const landmarks = Array.from({ length: 468 }, () => ({ x: 200, y: 100 }));
    for (const i of [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]) landmarks[i] = { x: 170, y: 100 };
    for (const i of [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]) landmarks[i] = { x: 230, y: 100 };
    landmarks[61] = { x: 180, y: 160 };
    landmarks[291] = { x: 220, y: 160 };
    const ffhq = alignmentFor('ffhq-v1')(landmarks, 128);
    const core = alignmentFor('face-core-v1')(landmarks, 128);
    const side = (m: Affine) => 128 / Math.hypot(m[0], m[1]); // crop side in image pixels
    expect(side(core.cropFromImage) / side(ffhq.cropFromImage)).toBeCloseTo(0.77, 6);
    // the centre moves down by 0.1 of the ffhq side
    const centreY = (m: Affine) => m[3] * 64 + m[4] * 64 + m[5];
    expect(centreY(core.imageFromCrop) - centreY(ffhq.imageFromCrop)).toBeCloseTo(0.1 * side(ffhq.cropFromImage), 6);
    expect(() => alignmentFor('ffhq-v9')).toThrow(/not implemented/);
  });
});

/** The fixture's RGB image as RGBA rows of `rect` only, as copyTo delivers it. */
function pixelsOf(rect: { x: number; y: number; width: number; height: number }) {
  const rgba = new Uint8Array(rect.width * rect.height * 4);
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      for (let ch = 0; ch < 3; ch++) {
        rgba[(y * rect.width + x) * 4 + ch] = fixture.rgb[((rect.y + y) * fixture.width + rect.x + x) * 3 + ch] as number;
      }
      rgba[(y * rect.width + x) * 4 + 3] = 255;
    }
  }
  return { rgba, rect, frameWidth: fixture.width, frameHeight: fixture.height };
}

describe('CPU crop', () => {
  for (const c of fixture.cases) {
    it(`matches the training crops' sampling: ${c.name} (${Math.round(c.outside * 100)} % outside the frame)`, () => {
      const imageFromCrop = invertAffine(c.cropFromImage as unknown as Affine);
      const { size, width, height } = fixture;
      const rect = cropSourceRect(imageFromCrop, size, width, height);
      const tensor = sampleCrop(pixelsOf(rect), imageFromCrop, size, [0, 255]);
      let maxError = 0;
      for (let i = 0; i < size * size; i++) {
        for (let ch = 0; ch < 3; ch++) {
          maxError = Math.max(maxError, Math.abs((tensor[ch * size * size + i] as number) - (c.crop[i * 3 + ch] as number)));
        }
      }
      expect(maxError).toBeLessThan(0.01); // of 255; the fixture is rounded to 1e-4
    });
  }

  it('reads only the rectangle the taps reach, at even coordinates inside the frame', () => {
    const { size, width, height } = fixture;
    for (const c of fixture.cases) {
      const rect = cropSourceRect(invertAffine(c.cropFromImage as unknown as Affine), size, width, height);
      expect(rect.x % 2).toBe(0);
      expect(rect.y % 2).toBe(0);
      expect(rect.x + rect.width).toBeLessThanOrEqual(width);
      expect(rect.y + rect.height).toBeLessThanOrEqual(height);
      expect(rect.width * rect.height).toBeGreaterThan(0);
    }
    // A small face in a large frame reads a small patch, not the frame.
    const rect = cropSourceRect([0.5, 0, 300, 0, 0.5, 200], 128, 640, 480);
    expect(rect).toEqual({ x: 298, y: 198, width: 68, height: 68 });
  });

  it('scales its range: bytes 0 and 255 map to the range ends', () => {
    const rgba = new Uint8Array(4 * 4 * 4).fill(255);
    const rect = { x: 0, y: 0, width: 4, height: 4 };
    const white = sampleCrop({ rgba, rect, frameWidth: 4, frameHeight: 4 }, [0.5, 0, 0, 0, 0.5, 0], 8, [-1, 1]);
    expect(Math.min(...white)).toBeCloseTo(1, 5);
    const black = sampleCrop({ rgba: new Uint8Array(64), rect, frameWidth: 4, frameHeight: 4 }, [0.5, 0, 0, 0, 0.5, 0], 8, [-1, 1]);
    expect(Math.max(...black)).toBeCloseTo(-1, 5);
  });
});
