import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { StylizedCrop, StylizedFrame } from '../src/inference';
import { CHANGE_SCALE, newResultWeight, stabilizeFaces, stabilizeImage } from '../src/stabilize';

const SIZE = 8;
const plane = SIZE * SIZE;

function noisy(base: number, amplitude: number, seed: number): Float32Array {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Float32Array.from({ length: 3 * plane }, () => base + amplitude * random());
}

const spread = (images: Float32Array[]) => {
  // mean absolute change between consecutive images
  let sum = 0;
  for (let t = 1; t < images.length; t++) for (let i = 0; i < 3 * plane; i++) sum += Math.abs((images[t]![i] as number) - (images[t - 1]![i] as number));
  return sum / ((images.length - 1) * 3 * plane);
};

describe('temporal stabilisation', () => {
  it('weights a new result by its change: 1 − strength when still, ~1 for large changes', () => {
    expect(newResultWeight(0, 0.6)).toBeCloseTo(0.4, 6);
    expect(newResultWeight(3 * CHANGE_SCALE, 0.6)).toBeGreaterThan(0.99);
    expect(newResultWeight(0.5 * CHANGE_SCALE, 0.6)).toBeGreaterThan(0.4);
    expect(newResultWeight(0.5 * CHANGE_SCALE, 0)).toBe(1);
  });

  it('averages small noise between results and passes a large change at once', () => {
    const raw = Array.from({ length: 20 }, (_, t) => noisy(0, 0.02, t + 1));
    const state = Float32Array.from(raw[0]!);
    const filtered = [state.slice()];
    for (const next of raw.slice(1)) filtered.push(stabilizeImage(state, next, SIZE, 0.6, 2).slice());
    expect(spread(filtered)).toBeLessThan(0.6 * spread(raw));
    // a step of 1.0 (a quarter of the range in every channel) is taken almost entirely
    const step = new Float32Array(3 * plane).fill(1);
    const after = stabilizeImage(state, step, SIZE, 0.6, 2);
    for (const v of after) expect(v).toBeGreaterThan(0.99);
  });

  it('keeps versions, replaces images per face, restarts a face that left, and is off at strength 0', () => {
    let strength = 0.6;
    const input = new Subject<StylizedFrame>();
    const out: StylizedFrame[] = [];
    input.pipe(stabilizeFaces({ strength: () => strength }, [-1, 1])).subscribe((f) => out.push(f));
    const crop = (version: number, value: number): StylizedCrop => ({
      faceId: 7, version, size: SIZE, image: new Float32Array(3 * plane).fill(value), flow: new Float32Array(2 * plane),
      color: { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], offset: [0, 0, 0] },
    });
    const frame = (stylized: StylizedCrop[]) => ({ faces: [], stylized: new Map(stylized.map((c) => [c.faceId, c])) }) as unknown as StylizedFrame;
    input.next(frame([crop(1, 0)]));
    input.next(frame([crop(2, 0.01)]));
    const second = out[1]!.stylized.get(7)!;
    expect(second.version).toBe(2);
    expect(second.image[0]).toBeCloseTo(0.4 * 0.01, 4); // mostly the previous result
    input.next(frame([crop(2, 0.01)])); // same version: the same stabilised crop object
    expect(out[2]!.stylized.get(7)).toBe(second);
    input.next(frame([])); // the face left
    input.next(frame([crop(3, 0.5)]));
    expect(out[4]!.stylized.get(7)!.image[0]).toBeCloseTo(0.5, 6); // starts afresh
    strength = 0;
    const raw = crop(4, 0.2);
    input.next(frame([raw]));
    expect(out[5]!.stylized.get(7)).toBe(raw);
  });
});
