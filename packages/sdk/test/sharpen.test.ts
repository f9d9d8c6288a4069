import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { StylizedCrop, StylizedFrame } from '../src/inference';
import { sharpenFaces, sharpenImage } from '../src/sharpen';

const SIZE = 8;
const plane = SIZE * SIZE;

/** A vertical edge in every channel: columns < 4 at `low`, the rest at `high`. */
function edge(low: number, high: number): Float32Array {
  return Float32Array.from({ length: 3 * plane }, (_, i) => ((i % plane) % SIZE < 4 ? low : high));
}

describe('sharpenImage', () => {
  it('leaves flat regions as they are and steepens an edge by the amount', () => {
    const flat = new Float32Array(3 * plane).fill(0.3);
    expect(Array.from(sharpenImage(flat, SIZE, 0.8)).every((v) => Math.abs(v - 0.3) < 1e-6)).toBe(true);

    const image = edge(-0.5, 0.5);
    const out = sharpenImage(image, SIZE, 0.8);
    // blur at column 3 = 0.25·(−0.5) + 0.5·(−0.5) + 0.25·0.5 = −0.25; out = −0.5 + 0.8·(−0.5 + 0.25)
    expect(out[3]).toBeCloseTo(-0.7, 5);
    expect(out[4]).toBeCloseTo(0.7, 5);
    expect(out[0]).toBeCloseTo(-0.5, 5); // far from the edge (and at the clamped border)
    expect(out[2 * plane + SIZE + 4]).toBeCloseTo(0.7, 5); // every channel, every row
    expect(Array.from(sharpenImage(image, SIZE, 0))).toEqual(Array.from(image));
    expect(image[3]).toBe(-0.5); // the input is not modified
  });
});

describe('sharpenFaces', () => {
  const crop = (version: number): StylizedCrop => ({
    faceId: 3, version, size: SIZE, image: edge(-0.5, 0.5), flow: new Float32Array(2 * plane),
    color: { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], offset: [0, 0, 0] }, input: new Float32Array(3 * plane), look: '',
  });
  const frame = (stylized: StylizedCrop[]) => ({ faces: [], stylized: new Map(stylized.map((c) => [c.faceId, c])) }) as unknown as StylizedFrame;

  it('sharpens each new result once, keeps its version, and is off at amount 0', () => {
    let amount = 0.8;
    const input = new Subject<StylizedFrame>();
    const out: StylizedFrame[] = [];
    input.pipe(sharpenFaces({ amount: () => amount })).subscribe((f) => out.push(f));
    const first = crop(1);
    input.next(frame([first]));
    const sharpened = out[0]!.stylized.get(3)!;
    expect(sharpened.version).toBe(1);
    expect(sharpened.image[3]).toBeCloseTo(-0.7, 5);
    expect(sharpened.flow).toBe(first.flow);
    input.next(frame([first])); // the same result shown again: the same sharpened crop
    expect(out[1]!.stylized.get(3)).toBe(sharpened);
    input.next(frame([crop(2)]));
    expect(out[2]!.stylized.get(3)!.version).toBe(2);
    expect(out[2]!.stylized.get(3)).not.toBe(sharpened);
    amount = 0;
    const plain = crop(3);
    input.next(frame([plain]));
    expect(out[3]!.stylized.get(3)).toBe(plain);
  });
});
