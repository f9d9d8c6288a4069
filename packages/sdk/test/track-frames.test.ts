import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { trackFrames } from '../src/frames';

/** The parts of a VideoFrame trackFrames reads. */
class FakeVideoFrame {
  readonly displayWidth = 640;
  readonly displayHeight = 480;
  closed = false;
  constructor(readonly timestamp: number) {}
  close(): void {
    this.closed = true;
  }
}

/** A live track whose processor yields the given frames. */
function trackWith(frames: FakeVideoFrame[], frameRate?: number): MediaStreamTrack {
  (globalThis as Record<string, unknown>).MediaStreamTrackProcessor = class {
    readonly readable = new ReadableStream({
      start(controller) {
        for (const frame of frames) controller.enqueue(frame);
        controller.close();
      },
    });
  };
  return {
    readyState: 'live',
    getSettings: () => (frameRate === undefined ? {} : { frameRate }),
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  } as unknown as MediaStreamTrack;
}

afterEach(() => {
  delete (globalThis as Record<string, unknown>).MediaStreamTrackProcessor;
});

describe('trackFrames', () => {
  it("counts the frames the processor dropped from the timestamps' gaps at the track's frame rate", async () => {
    // 30 fps: 33.3 ms apart; the processor delivered frames 0, 1, 3 and 6.
    const frames = [0, 1, 3, 6].map((n) => new FakeVideoFrame(Math.round((n * 1e6) / 30)));
    const emitted = await firstValueFrom(trackFrames(trackWith(frames, 30)).pipe(take(frames.length), toArray()));
    expect(emitted.map((frame) => frame.skipped)).toEqual([0, 0, 1, 2]);
    expect(emitted.map((frame) => frame.index)).toEqual([0, 1, 2, 3]);
    expect(frames.every((frame) => frame.closed)).toBe(true); // each closed right after emission
  });

  it('assumes 30 fps when the track does not report its frame rate (a generated track)', async () => {
    const frames = [0, 33_333, 100_000].map((timestamp) => new FakeVideoFrame(timestamp));
    const emitted = await firstValueFrom(trackFrames(trackWith(frames)).pipe(take(frames.length), toArray()));
    expect(emitted.map((frame) => frame.skipped)).toEqual([0, 0, 1]);
  });
});
