import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AlignedFace, AlignedFrame, CropRenderer } from '../src/alignment';
import type { Frame } from '../src/frames';
import { StatsRecorder } from '../src/frames/stats';
import type { StyleEngine } from '../src/inference/engine';
import type { SeamRequest, StyleResult } from '../src/inference/runner';
import { IDENTITY_COLOR, type ColorMatchMode } from '../src/blend/color-match';
import type { SeamGrade } from '../src/blend/grade';
import { stylizeFaces, type StylizedFrame } from '../src/inference/index';

const SIZE = 8;

function frame(index: number, faceIds: number[], predicted = false): AlignedFrame {
  const image = {} as Frame['image'];
  const faces = faceIds.map(
    (id): AlignedFace => ({
      id,
      landmarks: [],
      centre: { x: 0, y: 0 },
      alignment: { cropFromImage: [1, 0, 0, 0, 1, 0], imageFromCrop: [1, 0, 0, 0, 1, 0], size: SIZE },
      ovalInCrop: Float32Array.of(1, 1, 7, 1, 7, 7, 1, 7),
    }),
  );
  return { frame: { image, width: SIZE, height: SIZE, timestampMs: index, index, skipped: 0 }, faces, predicted };
}

/** An engine whose inferences finish only when the test says so. */
function controllableEngine() {
  const pending: { alpha: number; finish: () => void }[] = [];
  const engine = {
    executionProvider: 'wasm',
    takesFrames: false,
    run: (crop: Float32Array, alpha: number) =>
      new Promise<StyleResult>((resolve) =>
        pending.push({
          alpha,
          finish: () => resolve({ image: new Float32Array(3 * SIZE * SIZE).fill(alpha), flow: new Float32Array(2 * SIZE * SIZE), crop }),
        }),
      ),
  } as unknown as StyleEngine;
  return { engine, pending };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('stylizeFaces', () => {
  it('passes every frame on at once, runs inference on the latest frame only, and attaches the latest result per face', async () => {
    const { engine, pending } = controllableEngine();
    const cropped: number[] = [];
    const crops: CropRenderer = {
      extract: async (f) => (cropped.push(f.index), new Float32Array(3 * SIZE * SIZE)),
      dispose: () => undefined,
    };
    let alpha = 1;
    const stats = new StatsRecorder();
    const errors: unknown[] = [];
    const frames = new Subject<AlignedFrame>();
    const out: StylizedFrame[] = [];
    frames
      .pipe(stylizeFaces({ engine, crops, cropSize: SIZE, alpha: () => alpha, feather: 2, stats, onError: (e) => errors.push(e) }))
      .subscribe((f) => out.push(f));

    frames.next(frame(0, [7]));
    frames.next(frame(1, [7])); // inference busy: dropped, not queued
    frames.next(frame(2, [7]));
    expect(out.map((f) => f.frame.index)).toEqual([0, 1, 2]); // display never waits
    expect(out.every((f) => f.stylized.size === 0)).toBe(true);
    await settle();
    expect(cropped).toEqual([0]); // crops only for the frame that was stylized
    expect(pending).toHaveLength(1);

    alpha = 0.5;
    pending[0]?.finish();
    await settle();
    frames.next(frame(3, [7])); // idle again: this (latest) frame is stylized next
    expect(out[3]?.stylized.get(7)?.image[0]).toBe(1);
    expect(out[3]?.stylized.get(7)?.version).toBe(1);
    await settle();
    expect(cropped).toEqual([0, 3]);
    expect(pending[1]?.alpha).toBe(0.5); // options are read per inference
    expect(stats.snapshot().dropped['stylize']).toBe(2);
    expect(errors).toEqual([]);
  });

  it('forgets a face that left the frame and stylizes every face of a frame', async () => {
    const { engine, pending } = controllableEngine();
    const crops: CropRenderer = { extract: async () => new Float32Array(3 * SIZE * SIZE), dispose: () => undefined };
    const frames = new Subject<AlignedFrame>();
    const out: StylizedFrame[] = [];
    frames.pipe(stylizeFaces({ engine, crops, cropSize: SIZE, alpha: () => 1, feather: 2, onError: () => undefined })).subscribe((f) => out.push(f));

    frames.next(frame(0, [1, 2]));
    await settle();
    pending[0]?.finish();
    await settle();
    pending[1]?.finish(); // faces are stylized one after the other
    await settle();
    frames.next(frame(1, [1, 2]));
    expect([...(out[1]?.stylized.keys() ?? [])].sort()).toEqual([1, 2]);
    frames.next(frame(2, [2]));
    expect([...(out[2]?.stylized.keys() ?? [])]).toEqual([2]);
  });

  it('cuts crops from tracked frames only, never from frames with extrapolated landmarks', async () => {
    const { engine, pending } = controllableEngine();
    let extracted = 0;
    const crops: CropRenderer = { extract: async () => (extracted++, new Float32Array(3 * SIZE * SIZE)), dispose: () => undefined };
    const frames = new Subject<AlignedFrame>();
    const out: StylizedFrame[] = [];
    frames.pipe(stylizeFaces({ engine, crops, cropSize: SIZE, alpha: () => 1, feather: 2, onError: () => undefined })).subscribe((f) => out.push(f));

    frames.next(frame(0, [1], true));
    await settle();
    expect(extracted).toBe(0);
    frames.next(frame(1, [1]));
    await settle();
    expect(extracted).toBe(1);
    pending[0]?.finish();
    await settle();
    frames.next(frame(2, [1], true)); // engine idle, but a predicted frame: no new crop
    await settle();
    expect(extracted).toBe(1);
    expect(out).toHaveLength(3); // every frame passed on
    expect(out[2]?.stylized.has(1)).toBe(true);
  });

  it('asks for the seam colour match with each run (mode and grade as they are then) and keeps the match the run returns', async () => {
    const seams: (SeamRequest | undefined)[] = [];
    const matched = { matrix: [2, 0, 0, 0, 2, 0, 0, 0, 2], offset: [0.1, 0, -0.1] as [number, number, number] };
    let withColor = true;
    const engine = {
      executionProvider: 'wasm',
      run: async (crop: Float32Array, _alpha: number, _key: number, seam?: SeamRequest): Promise<StyleResult> => {
        seams.push(seam);
        const result = { image: new Float32Array(3 * SIZE * SIZE), flow: new Float32Array(2 * SIZE * SIZE), crop };
        return withColor ? { ...result, color: matched } : result;
      },
    } as unknown as StyleEngine;
    const crops: CropRenderer = { extract: async () => new Float32Array(3 * SIZE * SIZE), dispose: () => undefined };
    let mode: ColorMatchMode = 'skin';
    const grade: SeamGrade = { tone: { gain: 1.1, offset: 0.02 }, opacity: 0.2, chroma: [0.1, 0, -0.1] };
    const frames = new Subject<AlignedFrame>();
    const out: StylizedFrame[] = [];
    frames
      .pipe(stylizeFaces({ engine, crops, cropSize: SIZE, alpha: () => 1, feather: 3, colorMatch: () => mode, grade: () => grade, onError: () => undefined }))
      .subscribe((f) => out.push(f));
    const first = frame(0, [4]);
    frames.next(first);
    await settle();
    expect(seams[0]).toEqual({ ovalInCrop: first.faces[0]?.ovalInCrop, feather: 3, mode: 'skin', grade });
    frames.next(frame(1, [4]));
    expect(out[1]?.stylized.get(4)?.color).toBe(matched);
    mode = 'off';
    withColor = false;
    await settle();
    expect(seams[1]?.mode).toBe('off');
    frames.next(frame(2, [4]));
    expect(out[2]?.stylized.get(4)?.color).toBe(IDENTITY_COLOR); // a run that brought no match
  });

  it('reports inference errors without stopping the frames', async () => {
    const engine = { executionProvider: 'wasm', run: () => Promise.reject(new Error('boom')) } as unknown as StyleEngine;
    const crops: CropRenderer = { extract: async () => new Float32Array(3 * SIZE * SIZE), dispose: () => undefined };
    const errors: unknown[] = [];
    const frames = new Subject<AlignedFrame>();
    const out: StylizedFrame[] = [];
    frames.pipe(stylizeFaces({ engine, crops, cropSize: SIZE, alpha: () => 1, feather: 2, onError: (e) => errors.push(e) })).subscribe((f) => out.push(f));
    frames.next(frame(0, [1]));
    await settle();
    frames.next(frame(1, [1]));
    expect(out).toHaveLength(2);
    expect(errors).toHaveLength(1);
  });
});
