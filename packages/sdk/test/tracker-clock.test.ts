import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Frame } from '../src/frames';
import { FaceTracker, trackFaces } from '../src/tracking';
import type { WorkerLike } from '../src/workers/worker-client';

/** The parts of a VideoFrame the tracker touches (it clones the frame for the worker). */
class FakeVideoFrame {
  clone(): FakeVideoFrame {
    return new FakeVideoFrame();
  }
  close(): void {}
}

/**
 * A tracking worker that behaves like MediaPipe's VIDEO mode: a detect whose timestamp is not
 * after the previous one fails ("Packet timestamp mismatch"). Replies on a later task.
 */
class FakeTrackingWorker implements WorkerLike {
  readonly timestamps: number[] = [];
  private listener: ((event: MessageEvent) => void) | undefined;
  postMessage(message: { id: number; type: string; timestampMs?: number }): void {
    let reply: object = { id: message.id, ok: true };
    if (message.type === 'detect') {
      const last = this.timestamps.at(-1) ?? -Infinity;
      this.timestamps.push(message.timestampMs as number);
      reply =
        (message.timestampMs as number) > last
          ? { id: message.id, ok: true, faces: [] }
          : { id: message.id, ok: false, error: { name: 'Error', message: `Packet timestamp mismatch: expected > ${last}, received ${message.timestampMs}` } };
    }
    setTimeout(() => this.listener?.({ data: reply } as MessageEvent), 0);
  }
  addEventListener(type: string, listener: (event: never) => void): void {
    if (type === 'message') this.listener = listener as (event: MessageEvent) => void;
  }
  terminate(): void {}
}

beforeEach(() => {
  (globalThis as Record<string, unknown>).VideoFrame = FakeVideoFrame;
});
afterEach(() => {
  delete (globalThis as Record<string, unknown>).VideoFrame;
});

const frame = (timestampMs: number, index: number): Frame => ({
  image: new FakeVideoFrame() as unknown as VideoFrame,
  width: 640,
  height: 480,
  timestampMs,
  index,
  skipped: 0,
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('FaceTracker clock across sources', () => {
  it('gives the landmarker strictly increasing timestamps when the source switches camera → file → camera', async () => {
    const worker = new FakeTrackingWorker();
    const tracker = await FaceTracker.create({ wasmBaseUrl: 'w/', modelUrl: 'm.task', worker });
    const warnings: string[] = [];
    // Camera capture times (~6031 s since boot), a file's media time from 0, the camera again.
    const streams = [6_031_493.551, 5.2, 6_031_600.1];
    for (const start of streams) {
      const source = new Subject<Frame>();
      const subscription = source.pipe(trackFaces(tracker, undefined, 'every-frame', (w) => warnings.push(w.code))).subscribe();
      for (let i = 0; i < 5; i++) {
        source.next(frame(start + i * 33.3, i));
        await settle(); // the worker answered: the next frame is sent
      }
      subscription.unsubscribe();
    }
    expect(worker.timestamps).toHaveLength(15);
    for (let i = 1; i < worker.timestamps.length; i++) expect(worker.timestamps[i]).toBeGreaterThan(worker.timestamps[i - 1] as number);
    // Within a stream the source's spacing is kept.
    expect((worker.timestamps[6] as number) - (worker.timestamps[5] as number)).toBeCloseTo(33.3, 6);
    expect(warnings).toEqual([]); // the worker never failed, so tracking never fell back to the page
  });

  it('carries on from its latest time when a source goes back in time within a stream', () => {
    const tracker = Object.create(FaceTracker.prototype) as FaceTracker;
    Object.assign(tracker, { offsetMs: 0, lastSourceMs: -Infinity, lastTrackerMs: -Infinity, rebase: false });
    const times = [1000, 1033, 10, 43].map((ms) => tracker.trackerTime(ms));
    expect(times.slice(0, 2)).toEqual([1000, 1033]);
    expect(times[2]).toBeGreaterThan(1033);
    expect((times[3] as number) - (times[2] as number)).toBeCloseTo(33, 6);
  });
});
