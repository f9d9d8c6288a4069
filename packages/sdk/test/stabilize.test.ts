import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { StylizedCrop, StylizedFrame } from '../src/inference';
import { INPUT_CHANGE_SCALE, newResultWeight, stabilizeFaces, stabilizeImage } from '../src/stabilize';

const SIZE = 16;
const plane = SIZE * SIZE;

function noisy(base: number, amplitude: number, seed: number): Float32Array {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Float32Array.from({ length: 3 * plane }, () => base + amplitude * random());
}

/** The identity flow: every output pixel samples the input pixel under it. */
function identityFlow(): Float32Array {
  const flow = new Float32Array(2 * plane);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      flow[y * SIZE + x] = ((x + 0.5) / SIZE) * 2 - 1;
      flow[plane + y * SIZE + x] = ((y + 0.5) / SIZE) * 2 - 1;
    }
  }
  return flow;
}

const spread = (images: Float32Array[]) => {
  // mean absolute change between consecutive images
  let sum = 0;
  for (let t = 1; t < images.length; t++) for (let i = 0; i < 3 * plane; i++) sum += Math.abs((images[t]![i] as number) - (images[t - 1]![i] as number));
  return sum / ((images.length - 1) * 3 * plane);
};

/** `image` with the left half (x < SIZE / 2) replaced by `value` in every channel. */
function leftHalf(image: Float32Array, value: number): Float32Array {
  const out = image.slice();
  for (let c = 0; c < 3; c++) for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE / 2; x++) out[c * plane + y * SIZE + x] = value;
  return out;
}

describe('temporal stabilisation guided by the input crop', () => {
  it('weights a new result by the input change: 1 − strength when still, ~1 for large changes', () => {
    expect(newResultWeight(0, 0.8)).toBeCloseTo(0.2, 6);
    expect(newResultWeight(3 * INPUT_CHANGE_SCALE, 0.8)).toBeGreaterThan(0.99);
    expect(newResultWeight(0.5 * INPUT_CHANGE_SCALE, 0.8)).toBeGreaterThan(0.2);
    expect(newResultWeight(0.5 * INPUT_CHANGE_SCALE, 0)).toBe(1);
  });

  it('averages away output shimmer, even large, while the input face is still', () => {
    const input = noisy(0, 0.3, 99); // a textured face that does not move
    const flow = identityFlow();
    // The generator redraws strokes differently each time: ±0.4 — far above any noise gate on the output.
    const raw = Array.from({ length: 30 }, (_, t) => noisy(0, 0.4, t + 1));
    const state = { image: raw[0]!.slice(), input: input.slice() };
    const shown = [state.image.slice()];
    for (const image of raw.slice(1)) {
      stabilizeImage(state, { image, input, flow }, SIZE, 0.8, 2);
      shown.push(state.image.slice());
    }
    expect(spread(shown)).toBeLessThan(0.3 * spread(raw));
  });

  it('takes the new result at once where the input changed (a mouth opening), and only there', () => {
    const flow = identityFlow();
    const before = noisy(0, 0.05, 7);
    const state = { image: new Float32Array(3 * plane), input: before.slice() };
    // The left half of the face changed by 0.8; the output changes everywhere by 1.
    const after = leftHalf(before, 0.8);
    const weights = stabilizeImage(state, { image: new Float32Array(3 * plane).fill(1), input: after, flow }, SIZE, 0.8, 2);
    expect(state.image[5 * SIZE + 1]).toBeGreaterThan(0.99); // left, away from the boundary
    expect(state.image[5 * SIZE + SIZE - 2]).toBeCloseTo(0.2, 2); // right: still, damped
    expect(weights[5 * SIZE + 1]).toBeGreaterThan(0.99);
    // the input state moved with the change where it passed
    expect(state.input[5 * SIZE + 1]).toBeCloseTo(0.8, 2);
  });

  it('follows the flow: an output pixel takes the weight of the input pixel it was drawn from', () => {
    const before = noisy(0, 0.05, 3);
    const state = { image: new Float32Array(3 * plane), input: before.slice() };
    const flow = identityFlow();
    // Output pixels of the right half sample the left half (a deformation moved them).
    for (let y = 0; y < SIZE; y++) for (let x = SIZE / 2; x < SIZE; x++) flow[y * SIZE + x] = flow[y * SIZE + x - SIZE / 2] as number;
    stabilizeImage(state, { image: new Float32Array(3 * plane).fill(1), input: leftHalf(before, 0.8), flow }, SIZE, 0.8, 2);
    expect(state.image[5 * SIZE + SIZE / 2 + 1]).toBeGreaterThan(0.99);
  });

  it('lets a slow change (light) through instead of holding it back for ever', () => {
    const flow = identityFlow();
    const state = { image: new Float32Array(3 * plane), input: new Float32Array(3 * plane) };
    // Brightness rises by 0.005 per result (below the gate every time), the output with it.
    for (let t = 1; t <= 200; t++) {
      const level = 0.005 * t;
      stabilizeImage(state, { image: new Float32Array(3 * plane).fill(level), input: new Float32Array(3 * plane).fill(level), flow }, SIZE, 0.8, 2);
    }
    expect(state.image[0]).toBeGreaterThan(1 - 0.05); // within a few results' lag of 1.0
    expect(state.input[0]).toBeGreaterThan(1 - 0.05);
  });

  it('keeps versions, restarts on a new look or a face that left, and is off at strength 0', () => {
    let strength = 0.8;
    const source = new Subject<StylizedFrame>();
    const out: StylizedFrame[] = [];
    source.pipe(stabilizeFaces({ strength: () => strength }, [-1, 1])).subscribe((f) => out.push(f));
    const flow = identityFlow();
    const crop = (version: number, value: number, look = 'pack-a:1'): StylizedCrop => ({
      faceId: 7, version, size: SIZE, image: new Float32Array(3 * plane).fill(value), flow,
      color: { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], offset: [0, 0, 0] }, input: new Float32Array(3 * plane), look,
    });
    const frame = (stylized: StylizedCrop[]) => ({ faces: [], stylized: new Map(stylized.map((c) => [c.faceId, c])) }) as unknown as StylizedFrame;
    source.next(frame([crop(1, 0)]));
    source.next(frame([crop(2, 0.5)]));
    const second = out[1]!.stylized.get(7)!;
    expect(second.version).toBe(2);
    expect(second.image[0]).toBeCloseTo(0.2 * 0.5, 4); // the input did not change: mostly the previous result
    source.next(frame([crop(2, 0.5)])); // same version: the same stabilised crop object
    expect(out[2]!.stylized.get(7)).toBe(second);
    source.next(frame([crop(3, 0.9, 'pack-b:1')])); // another pack: shown as it is
    expect(out[3]!.stylized.get(7)!.image[0]).toBeCloseTo(0.9, 6);
    source.next(frame([])); // the face left
    source.next(frame([crop(4, 0.3, 'pack-b:1')]));
    expect(out[5]!.stylized.get(7)!.image[0]).toBeCloseTo(0.3, 6); // starts afresh
    strength = 0;
    const raw = crop(5, 0.2, 'pack-b:1');
    source.next(frame([raw]));
    expect(out[6]!.stylized.get(7)).toBe(raw);
  });
});
