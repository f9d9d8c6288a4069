/**
 * The inference worker (built to dist/worker/inference-worker.js, served from the asset base):
 * onnxruntime-web's plain WASM build running encoder → generator off the page's thread. Crop
 * requests arrive as the frame pixels around the face and are cut here, so a stylization costs
 * the page one message each way and never waits for a GPU readback. Which requests come (at most
 * two per face at a time, the newest) is the page's side, WorkerRunner.
 */
import { isCropPixels, sampleCrop } from '../alignment/cpu-crop';
import type { ModelContract } from '../packs/contract';
import { createOrtBackend } from './ort-backend';
import { SessionRunner, type InferenceStage } from './runner';
import type { WorkerReply, WorkerRequest } from './worker-protocol';

interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

type RunRequest = Extract<WorkerRequest, { type: 'run' }>;

let runner: SessionRunner | undefined;
let contract: ModelContract | undefined;
/** Requests are handled one at a time, in order (the page keeps at most two runs per face in flight). */
let queue: Promise<void> = Promise.resolve();
/** Timings SessionRunner reports for the run in progress. */
let timings: [InferenceStage, number][] = [];

scope.onmessage = (event) => {
  const request = event.data;
  queue = queue.then(() => (request.type === 'run' ? run(request) : control(request)));
};

async function run(request: RunRequest): Promise<void> {
  try {
    timings = [];
    const crop = cutCrop(request.input);
    const result = await loaded().runner.run(crop, request.alpha);
    reply({ id: request.id, ok: true, result, timings }, [result.image.buffer, result.flow.buffer, result.crop.buffer]);
  } catch (error) {
    replyError(request.id, error);
  }
}

/** Cuts the crop from the pixels the page read (or takes the page's tensor). */
function cutCrop(input: RunRequest['input']): Float32Array {
  if (!isCropPixels(input)) return input;
  const io = loaded().contract;
  const start = performance.now();
  const crop = sampleCrop(input.pixels, input.imageFromCrop, io.crop.size, io.pixel.range);
  timings.push(['crop', performance.now() - start]);
  return crop;
}

async function control(request: Exclude<WorkerRequest, RunRequest>): Promise<void> {
  try {
    switch (request.type) {
      case 'load': {
        contract = request.contract;
        const backend = createOrtBackend(
          { wasmBaseUrl: request.wasmBaseUrl, ...(request.numThreads ? { numThreads: request.numThreads } : {}) },
          { wasm: () => import('onnxruntime-web/wasm') },
        );
        runner = await SessionRunner.create(backend, contract, 'wasm', request, (stage, ms) => timings.push([stage, ms]));
        break;
      }
      case 'set-generator':
        await loaded().runner.setGenerator(request.generator);
        break;
      case 'release':
        await runner?.release();
        runner = undefined;
        break;
    }
    reply({ id: request.id, ok: true });
  } catch (error) {
    replyError(request.id, error);
  }
}

function loaded(): { runner: SessionRunner; contract: ModelContract } {
  if (!runner || !contract) throw new Error('inference worker: models not loaded');
  return { runner, contract };
}

function replyError(id: number, error: unknown): void {
  const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
  reply({ id, ok: false, error: { name, message } });
}

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}
