import { isCropPixels, readCropPixels, type CropPixels } from '../alignment/cpu-crop';
import type { ModelContract } from '../packs/contract';
import { WorkerClient, type WorkerLike } from '../workers/worker-client';
import { SupersededError, isFrameCrop, type CropInput, type ModelRunner, type SeamRequest, type StyleResult, type TimingListener } from './runner';
import type { WorkerReplyFields, WorkerRequest } from './worker-protocol';

export interface WorkerRunnerOptions {
  readonly contract: ModelContract;
  readonly encoder: Uint8Array;
  readonly generator: Uint8Array;
  /** Folder serving onnxruntime-web's dist files, as seen from the worker. */
  readonly wasmBaseUrl: string;
  readonly numThreads?: number;
  readonly onTiming?: TimingListener;
}

/**
 * Runs per face sent to the worker and not answered yet. One: the next request waits here and a
 * newer one replaces it (the replaced one rejects with SupersededError), so when the worker is
 * free it gets the newest frame and a busy worker never builds a queue. (Two in flight would save
 * the reply's round trip between runs but start every run on a frame one run old; measured the
 * same stylized rate.)
 */
const MAX_IN_FLIGHT_PER_FACE = 1;

interface Job {
  /** A waiting FrameCrop keeps its own frame reference: its pixels are read only when it is sent. */
  readonly input: CropInput;
  readonly alpha: number;
  readonly seam?: SeamRequest;
  readonly resolve: (result: StyleResult) => void;
  readonly reject: (error: Error) => void;
}

interface Lane {
  inFlight: number;
  waiting?: Job;
}

/**
 * The WASM provider in the SDK's inference worker (inference-worker.ts): encoder → generator
 * run back to back there, and a crop request travels as the frame pixels it is cut from (read
 * here with VideoFrame.copyTo, no GPU readback) and is cut there, so one stylization is one
 * message each way, whatever the page's thread is doing. Runs are accepted while the worker is
 * busy (see MAX_IN_FLIGHT_PER_FACE); a waiting request holds one frame, and its pixels are read
 * when it is sent, so only frames that get stylized are read (about half of them at 30 fps).
 */
export class WorkerRunner implements ModelRunner {
  readonly provider = 'wasm' as const;
  readonly takesFrames = true;
  readonly acceptsWhileBusy = true;
  /** Per face (run key): runs sent and not answered yet, and the newest one waiting to be sent. */
  private readonly lanes = new Map<number, Lane>();

  private constructor(
    private readonly client: WorkerClient<WorkerRequest, WorkerReplyFields>,
    private readonly cropSize: number,
    private readonly onTiming?: TimingListener,
  ) {
    client.onFailure((error) => this.dropWaiting(error));
  }

  /** Starts the models in `worker` (warmed up there); rejects, and terminates it, if they cannot run. */
  static async create(worker: WorkerLike, options: WorkerRunnerOptions): Promise<WorkerRunner> {
    const client = new WorkerClient<WorkerRequest, WorkerReplyFields>(worker, 'inference worker');
    const encoder = options.encoder.slice(); // transferred: the caller keeps its own bytes
    const generator = options.generator.slice();
    try {
      await client.request(
        {
          type: 'load',
          wasmBaseUrl: options.wasmBaseUrl,
          ...(options.numThreads ? { numThreads: options.numThreads } : {}),
          contract: options.contract,
          encoder,
          generator,
        },
        [encoder.buffer, generator.buffer],
      );
    } catch (error) {
      client.terminate();
      throw error;
    }
    return new WorkerRunner(client, options.contract.crop.size, options.onTiming);
  }

  run(input: CropInput, alpha: number, key = 0, seam?: SeamRequest): Promise<StyleResult> {
    return new Promise<StyleResult>((resolve, reject) => {
      const lane = this.lanes.get(key) ?? { inFlight: 0 };
      this.lanes.set(key, lane);
      const job = { input, alpha, ...(seam ? { seam } : {}), resolve, reject };
      if (lane.inFlight < MAX_IN_FLIGHT_PER_FACE) return void this.send(key, lane, job);
      if (lane.waiting) dropUnsent(lane.waiting, new SupersededError('a newer frame replaced this request'));
      lane.waiting = job;
    });
  }

  async setGenerator(generator: Uint8Array): Promise<void> {
    const copy = generator.slice();
    await this.client.request({ type: 'set-generator', generator: copy }, [copy.buffer]);
  }

  async release(): Promise<void> {
    this.dropWaiting(new SupersededError('the inference worker was released'));
    try {
      if (!this.client.failed) await this.client.request({ type: 'release' });
    } finally {
      this.client.terminate();
    }
  }

  /** Ends every waiting request (the worker failed, or is being released); runs in flight end with their replies. */
  private dropWaiting(error: Error): void {
    for (const lane of this.lanes.values()) if (lane.waiting) dropUnsent(lane.waiting, error);
    this.lanes.clear();
  }

  private async send(key: number, lane: Lane, job: Job): Promise<void> {
    lane.inFlight++;
    try {
      const crop = await this.readInput(job.input);
      const transfer = [isCropPixels(crop) ? crop.pixels.rgba.buffer : crop.buffer] as ArrayBuffer[];
      const reply = await this.client.request({ type: 'run', input: crop, alpha: job.alpha, ...(job.seam ? { seam: job.seam } : {}) }, transfer);
      for (const [stage, milliseconds] of reply.timings ?? []) this.onTiming?.(stage, milliseconds);
      if (reply.result) job.resolve(reply.result);
      else job.reject(new Error('inference worker: run without a result'));
    } catch (error) {
      job.reject(error instanceof Error ? error : new Error(String(error)));
    } finally {
      lane.inFlight--;
      const next = lane.waiting;
      lane.waiting = undefined;
      if (next) void this.send(key, lane, next);
      else if (lane.inFlight === 0) this.lanes.delete(key);
    }
  }

  /** The pixels to send: a frame's face read now (and the frame released), or a copy of a crop tensor. */
  private async readInput(input: CropInput): Promise<Float32Array | CropPixels> {
    if (!isFrameCrop(input)) return input.slice(); // transferred: the caller keeps its own
    const readStart = performance.now();
    try {
      return await readCropPixels(input, this.cropSize);
    } finally {
      input.frame.close();
      this.onTiming?.('readback', performance.now() - readStart);
    }
  }
}

/** Ends a request that was never sent: its frame reference is closed, its promise rejected. */
function dropUnsent(job: Job, error: Error): void {
  if (isFrameCrop(job.input)) job.input.frame.close();
  job.reject(error);
}
