import { describe, expect, it } from 'vitest';
import { StyleEngine } from '../src/inference/engine';
import type { InferenceBackend } from '../src/inference/backend';
import type { ModelRunner, StyleResult } from '../src/inference/runner';
import { WorkerRunner } from '../src/inference/worker-runner';
import type { WorkerRequest } from '../src/inference/worker-protocol';
import type { FaceStylizerWarning } from '../src/errors';
import type { ModelContract } from '../src/packs/contract';
import type { WorkerLike } from '../src/workers/worker-client';

const SIZE = 4;
const contract = {
  contractVersion: 1,
  crop: { size: SIZE, alignment: 'ffhq-v1' },
  pixel: { layout: 'NCHW', channels: 'RGB', range: [-1, 1] },
  alpha: { min: 0, max: 1.5, default: 1 },
} as unknown as ModelContract;

/** A worker whose runs finish when the test says so; it records what it was sent. */
class FakeWorker implements WorkerLike {
  readonly received: WorkerRequest[] = [];
  readonly running: { id: number; alpha: number }[] = [];
  terminated = false;
  private readonly listeners: Record<string, ((event: never) => void)[]> = {};

  postMessage(message: unknown): void {
    const request = message as WorkerRequest;
    this.received.push(request);
    if (request.type === 'run') this.running.push({ id: request.id, alpha: request.alpha });
    else queueMicrotask(() => this.reply({ id: request.id, ok: true }));
  }

  addEventListener(type: string, listener: (event: never) => void): void {
    (this.listeners[type] ??= []).push(listener);
  }

  terminate(): void {
    this.terminated = true;
  }

  /** Answers the oldest running request with an image filled with its alpha. */
  finishOne(): void {
    const run = this.running.shift();
    if (!run) throw new Error('nothing running');
    const result = { image: new Float32Array(3 * SIZE * SIZE).fill(run.alpha), flow: new Float32Array(2 * SIZE * SIZE), crop: new Float32Array(3 * SIZE * SIZE) };
    this.reply({ id: run.id, ok: true, result, timings: [['encoder', 5]] });
  }

  crash(message: string): void {
    for (const listener of this.listeners['error'] ?? []) listener({ type: 'error', message } as never);
  }

  private reply(data: unknown): void {
    for (const listener of this.listeners['message'] ?? []) listener({ data } as never);
  }
}

const crop = () => new Float32Array(3 * SIZE * SIZE);

/** A camera frame reference as the pipeline hands it over (FrameCrop); records reads and close. */
class FakeFrame {
  readonly displayWidth = 8;
  readonly displayHeight = 8;
  readonly visibleRect = { x: 0, y: 0, width: 8, height: 8 };
  reads = 0;
  closed = false;

  async copyTo(destination: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('read after close');
    this.reads++;
    destination.fill(128);
  }

  close(): void {
    this.closed = true;
  }
}

function frameCrop(frame: FakeFrame) {
  return { frame: frame as unknown as VideoFrame, imageFromCrop: [2, 0, 0, 0, 2, 0] as const, width: 8, height: 8 };
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
/** The promise, marked as handled: these tests look at rejections after they happen. */
const observed = <T>(promise: Promise<T>) => (promise.catch(() => undefined), promise);

async function runnerWith(worker: FakeWorker, timings: [string, number][] = []) {
  return WorkerRunner.create(worker, {
    contract,
    encoder: Uint8Array.of(1),
    generator: Uint8Array.of(2),
    wasmBaseUrl: '/ort/',
    onTiming: (stage, ms) => timings.push([stage, ms]),
  });
}

describe('WorkerRunner', () => {
  it('loads the models once, with copies of the bytes (the caller keeps its own)', async () => {
    const worker = new FakeWorker();
    const encoder = Uint8Array.of(1);
    await WorkerRunner.create(worker, { contract, encoder, generator: Uint8Array.of(2), wasmBaseUrl: '/ort/' });
    const load = worker.received[0];
    expect(load?.type).toBe('load');
    expect(load?.type === 'load' && load.encoder).not.toBe(encoder);
    expect(encoder[0]).toBe(1);
  });

  it('keeps one run per face in the worker; a newer request replaces the waiting one, never queueing', async () => {
    const worker = new FakeWorker();
    const timings: [string, number][] = [];
    const runner = await runnerWith(worker, timings);
    const first = runner.run(crop(), 0.1, 7);
    const second = observed(runner.run(crop(), 0.2, 7));
    const third = runner.run(crop(), 0.3, 7);
    const otherFace = runner.run(crop(), 0.9, 8);
    await settle();
    expect(worker.running.map((run) => run.alpha)).toEqual([0.1, 0.9]); // one per face in the worker
    await expect(second).rejects.toMatchObject({ name: 'SupersededError' });
    worker.finishOne();
    expect((await first).image[0]).toBeCloseTo(0.1);
    await settle();
    expect(worker.running.map((run) => run.alpha)).toEqual([0.9, 0.3]); // the newest waiting request went next
    worker.finishOne();
    worker.finishOne();
    expect((await otherFace).image[0]).toBeCloseTo(0.9);
    expect((await third).image[0]).toBeCloseTo(0.3);
    expect(timings.filter(([stage]) => stage === 'encoder')).toHaveLength(3);
  });

  it('sends the seam request with the run, so the colour match is computed in the worker beside the models', async () => {
    const worker = new FakeWorker();
    const runner = await runnerWith(worker);
    const seam = { ovalInCrop: Float32Array.of(1, 1, 3, 1, 3, 3), feather: 2, mode: 'skin' as const };
    const result = runner.run(crop(), 0.5, 7, seam);
    await settle();
    const sent = worker.received.find((request) => request.type === 'run');
    expect(sent?.type === 'run' && sent.seam).toEqual(seam);
    worker.finishOne();
    await result;
    runner.run(crop(), 0.5, 7); // without one, none is sent
    await settle();
    const second = worker.received.filter((request) => request.type === 'run')[1];
    expect(second?.type === 'run' && 'seam' in second).toBe(false);
  });

  it('reads a frame when its run is sent: a replaced frame is released unread, each read frame at once', async () => {
    const worker = new FakeWorker();
    const runner = await runnerWith(worker);
    const frames = [new FakeFrame(), new FakeFrame(), new FakeFrame()] as const;
    const runs = frames.map((frame, i) => observed(runner.run(frameCrop(frame), i / 10))) as [Promise<StyleResult>, Promise<StyleResult>, Promise<StyleResult>];
    await settle();
    expect(frames.map((frame) => [frame.reads, frame.closed])).toEqual([[1, true], [0, true], [0, false]]);
    await expect(runs[1]).rejects.toMatchObject({ name: 'SupersededError' });
    worker.finishOne();
    await runs[0];
    await settle();
    expect([frames[2].reads, frames[2].closed]).toEqual([1, true]); // read only now, when sent
    const sent = worker.received.filter((request) => request.type === 'run');
    expect(sent.map((request) => request.type === 'run' && request.alpha)).toEqual([0, 0.2]);
    worker.finishOne();
    expect((await runs[2]).image[0]).toBeCloseTo(0.2);
  });

  it('releases the waiting frame when the worker fails or the runner is released', async () => {
    for (const end of ['crash', 'release'] as const) {
      const worker = new FakeWorker();
      const runner = await runnerWith(worker);
      observed(runner.run(frameCrop(new FakeFrame()), 0.1));
      const waitingFrame = new FakeFrame();
      const waiting = observed(runner.run(frameCrop(waitingFrame), 0.2));
      await settle();
      if (end === 'crash') worker.crash('gone');
      else void runner.release().catch(() => undefined);
      await expect(waiting).rejects.toBeDefined();
      expect([waitingFrame.reads, waitingFrame.closed]).toEqual([0, true]);
    }
  });

  it('rejects what is pending and what comes later when the worker crashes', async () => {
    const worker = new FakeWorker();
    const runner = await runnerWith(worker);
    const running = observed(runner.run(crop(), 0.1));
    const waiting = observed(runner.run(crop(), 0.2));
    await settle();
    worker.crash('out of memory');
    await expect(running).rejects.toThrow(/inference worker failed: out of memory/);
    await expect(waiting).rejects.toThrow(/out of memory/);
    await expect(runner.run(crop(), 0.3)).rejects.toThrow(/out of memory/);
  });

  it('terminates the worker when its models fail to load', async () => {
    const worker = new FakeWorker();
    worker.postMessage = (message: unknown) => {
      const request = message as WorkerRequest;
      queueMicrotask(() => (worker as unknown as { reply(data: unknown): void }).reply({ id: request.id, ok: false, error: { name: 'Error', message: 'bad model' } }));
    };
    await expect(runnerWith(worker)).rejects.toThrow('bad model');
    expect(worker.terminated).toBe(true);
  });
});

describe('StyleEngine with the inference worker', () => {
  /** In-page sessions that answer with an image of 42s (the fallback's signature). */
  const pageBackend = {
    isAvailable: async () => true,
    createSession: async (model: Uint8Array) => ({
      run: async () =>
        model[0] === 1
          ? { w_plus: fakeTensor(6), features: fakeTensor(8) }
          : { image: fakeTensor(3 * SIZE * SIZE, 42), flow: fakeTensor(2 * SIZE * SIZE) },
      release: async () => undefined,
    }),
    tensor: (_provider: string, data: Float32Array, dims: readonly number[]) => ({ dims, getData: async () => data, dispose: () => undefined }),
    deviceLost: () => new Promise<string>(() => undefined),
  } as unknown as InferenceBackend;
  const fullContract = {
    ...contract,
    encoder: { file: 'e', inputs: { image: { shape: [1, 3, SIZE, SIZE] } }, outputs: {} },
    generator: { file: 'g', inputs: { alpha: { shape: [1] } }, outputs: {} },
  } as unknown as ModelContract;

  async function engineWith(wasmRunner: () => Promise<ModelRunner>, warnings: FaceStylizerWarning[]) {
    return StyleEngine.create({
      backend: pageBackend,
      contract: fullContract,
      encoder: Uint8Array.of(1),
      generator: Uint8Array.of(2),
      providers: ['wasm'],
      wasmRunner,
      onWarning: (warning) => warnings.push(warning),
    });
  }

  it('runs on this thread, with a worker-fallback warning, when the worker cannot start', async () => {
    const warnings: FaceStylizerWarning[] = [];
    const engine = await engineWith(() => Promise.reject(new Error('404')), warnings);
    expect(engine.takesFrames).toBe(false);
    expect((await engine.run(crop(), 1)).image[0]).toBe(42);
    expect(warnings.map((w) => w.code)).toEqual(['worker-fallback']);
  });

  it('moves to this thread when the worker dies mid-stream; the next request runs there', async () => {
    const worker = new FakeWorker();
    const warnings: FaceStylizerWarning[] = [];
    const engine = await engineWith(() => runnerWith(worker), warnings);
    expect(engine.acceptsWhileBusy).toBe(true);
    const lost = observed(engine.run(crop(), 1));
    await settle();
    worker.crash('gone');
    await expect(lost).rejects.toMatchObject({ name: 'SupersededError' }); // dropped, not an error: the warning reports it
    expect(engine.executionProvider).toBe('wasm');
    expect(engine.acceptsWhileBusy).toBe(false);
    expect((await engine.run(crop(), 1)).image[0]).toBe(42);
    expect(warnings.map((w) => w.code)).toEqual(['worker-fallback']);
  });
});

function fakeTensor(length: number, fill = 0) {
  const data = new Float32Array(length).fill(fill);
  return { dims: [length], getData: async () => data, dispose: () => undefined };
}
