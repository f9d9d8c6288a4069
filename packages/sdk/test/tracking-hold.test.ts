import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Frame } from '../src/frames';
import { FaceTracker, trackFaces, type TrackedFrame } from '../src/tracking';
import type { WorkerLike } from '../src/workers/worker-client';

/** The parts of a VideoFrame the tracker touches; counts what is still open. */
class FakeVideoFrame {
  static open = 0;
  private closed = false;
  constructor() {
    FakeVideoFrame.open++;
  }
  clone(): FakeVideoFrame {
    return new FakeVideoFrame();
  }
  close(): void {
    if (!this.closed) FakeVideoFrame.open--;
    this.closed = true;
  }
}

/** A tracking worker whose detections the test answers by hand: one face, a square at x = the frame's timestamp / 10 px. */
class ManualTrackingWorker implements WorkerLike {
  private listener: ((event: MessageEvent) => void) | undefined;
  readonly pending: { id: number; timestampMs: number; frame: FakeVideoFrame }[] = [];
  postMessage(message: { id: number; type: string; timestampMs?: number; frame?: FakeVideoFrame }): void {
    if (message.type === 'detect') this.pending.push({ id: message.id, timestampMs: message.timestampMs as number, frame: message.frame as FakeVideoFrame });
    else setTimeout(() => this.listener?.({ data: { id: message.id, ok: true } } as MessageEvent), 0);
  }
  /** Answers the oldest detection. */
  answer(): void {
    const request = this.pending.shift();
    if (!request) throw new Error('no detection pending');
    request.frame.close(); // the worker closes its copy
    const x = request.timestampMs / 10 / 640;
    const face = new Float32Array([x, 0.4, x + 0.2, 0.4, x + 0.2, 0.7, x, 0.7]);
    this.listener?.({ data: { id: request.id, ok: true, faces: [face] } } as MessageEvent);
  }
  addEventListener(type: string, listener: (event: never) => void): void {
    if (type === 'message') this.listener = listener as (event: MessageEvent) => void;
  }
  terminate(): void {}
}

beforeEach(() => {
  (globalThis as Record<string, unknown>).VideoFrame = FakeVideoFrame;
  FakeVideoFrame.open = 0;
});
afterEach(() => {
  delete (globalThis as Record<string, unknown>).VideoFrame;
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 1));

async function setUp() {
  const worker = new ManualTrackingWorker();
  const tracker = await FaceTracker.create({ wasmBaseUrl: 'w/', modelUrl: 'm.task', worker, smoothing: { minCutoff: 1e6, beta: 0, derivativeCutoff: 1 } });
  const source = new Subject<Frame>();
  const out: TrackedFrame[] = [];
  const frames: FakeVideoFrame[] = [];
  const subscription = source.pipe(trackFaces(tracker, undefined, 'every-frame')).subscribe((f) => out.push(f));
  const send = (index: number) => {
    const image = new FakeVideoFrame();
    frames.push(image);
    source.next({ image: image as unknown as VideoFrame, width: 640, height: 480, timestampMs: 1000 + index * 100, index, skipped: 0 });
    image.close(); // the source closes its frame right after emission, as trackFrames does
  };
  return { worker, out, send, subscription, source };
}

describe('tracking worker: a frame waits for its own landmarks, never longer than the next frame', () => {
  it('shows a frame the worker took with the landmarks of that very frame', async () => {
    const { worker, out, send } = await setUp();
    send(0);
    await settle();
    expect(out).toHaveLength(0); // held while its landmarks are computed
    worker.answer();
    await settle();
    expect(out).toHaveLength(1);
    expect(out[0]!.predicted).toBe(false);
    expect(out[0]!.frame.index).toBe(0);
    expect(out[0]!.faces[0]!.landmarks[0]!.x).toBeCloseTo(100, 3); // x = 1000 ms / 10
    send(1);
    worker.answer();
    await settle();
    expect(out[1]!.faces[0]!.landmarks[0]!.x).toBeCloseTo(110, 3); // its own, not an extrapolation of frame 0's
    expect(FakeVideoFrame.open).toBe(0); // held copies closed once shown
  });

  it('lets the held frame go, in order, when the next frame comes first', async () => {
    const { worker, out, send } = await setUp();
    send(0);
    worker.answer();
    await settle();
    send(1); // sent to the worker, held
    await settle();
    send(2); // arrives before frame 1's landmarks: frame 1 goes on (extrapolated), then frame 2 (the worker is busy)
    expect(out.map((f) => f.frame.index)).toEqual([0, 1, 2]);
    expect(out[1]!.predicted).toBe(true);
    worker.answer(); // frame 1's landmarks, late: they update the tracks only
    await settle();
    expect(out).toHaveLength(3);
    send(3);
    worker.answer();
    await settle();
    expect(out.map((f) => f.frame.index)).toEqual([0, 1, 2, 3]);
    expect(out[3]!.predicted).toBe(false);
    expect(FakeVideoFrame.open).toBe(0);
  });

  it('closes a held frame when the stream is unsubscribed, and shows it when the source completes', async () => {
    const first = await setUp();
    first.send(0);
    await settle();
    first.subscription.unsubscribe();
    expect(FakeVideoFrame.open).toBe(1); // only the worker's own copy, still out there
    first.worker.answer();
    await settle();
    expect(FakeVideoFrame.open).toBe(0);
    expect(first.out).toHaveLength(0);

    const second = await setUp();
    second.send(0);
    await settle();
    second.source.complete();
    expect(second.out.map((f) => f.frame.index)).toEqual([0]);
  });
});
