/**
 * The inference worker (built to dist/worker/inference-worker.js, served from the asset base):
 * onnxruntime-web's plain WASM build running encoder → generator off the page's thread. Crop
 * requests arrive as the frame pixels around the face and are cut here, so a stylization costs
 * the page one message each way and never waits for a GPU readback; the seam's colour match
 * (SeamRequest) is computed here too, beside the models. Which requests come (one in
 * flight per face, the newest) is the page's side, WorkerRunner.
 */
import { isCropPixels, sampleCrop } from '../alignment/cpu-crop';
import type { ModelContract } from '../packs/contract';
import { serveRequests } from '../workers/worker-server';
import { createOrtBackend } from './ort-backend';
import { SessionRunner, type InferenceStage } from './runner';
import type { WorkerReplyFields, WorkerRequest } from './worker-protocol';

let runner: SessionRunner | undefined;
let contract: ModelContract | undefined;
/** Timings SessionRunner reports for the run in progress. */
let timings: [InferenceStage, number][] = [];
/** When the previous run ended: the models idle from then until the next request arrives. */
let lastRunEnd: number | undefined;

serveRequests<WorkerRequest, WorkerReplyFields>(async (request) => {
  switch (request.type) {
    case 'load': {
      contract = request.contract;
      const backend = createOrtBackend(
        { wasmBaseUrl: request.wasmBaseUrl, ...(request.numThreads ? { numThreads: request.numThreads } : {}) },
        { wasm: () => import('onnxruntime-web/wasm') },
      );
      runner = await SessionRunner.create(backend, contract, 'wasm', request, (stage, ms) => timings.push([stage, ms]));
      return;
    }
    case 'set-generator':
      await loaded().runner.setGenerator(request.generator);
      return;
    case 'run': {
      timings = lastRunEnd === undefined ? [] : [['idle', performance.now() - lastRunEnd]];
      const crop = cutCrop(request.input);
      const result = await loaded().runner.run(crop, request.alpha, 0, request.seam);
      lastRunEnd = performance.now();
      // (a seam field is already in result.image: SessionRunner bakes it in, so the colour carries none)
      return { reply: { result, timings }, transfer: [result.image.buffer, result.flow.buffer, result.crop.buffer] as ArrayBuffer[] };
    }
    case 'release':
      await runner?.release();
      runner = undefined;
      return;
  }
});

/** Cuts the crop from the pixels the page read (or takes the page's tensor). */
function cutCrop(input: Extract<WorkerRequest, { type: 'run' }>['input']): Float32Array {
  if (!isCropPixels(input)) return input;
  const io = loaded().contract;
  const start = performance.now();
  const crop = sampleCrop(input.pixels, input.imageFromCrop, io.crop.size, io.pixel.range);
  timings.push(['crop', performance.now() - start]);
  return crop;
}

function loaded(): { runner: SessionRunner; contract: ModelContract } {
  if (!runner || !contract) throw new Error('inference worker: models not loaded');
  return { runner, contract };
}
