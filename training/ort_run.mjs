// Run an ONNX model with onnxruntime-web (wasm EP) in node, for the exporter's parity check
// (onnxruntime is not packaged for Debian's Python; the runtime ships onnxruntime-web anyway).
//
//   node training/ort_run.mjs MODEL.onnx DIR [RUNS]
// reads DIR/in.NAME.npy for every model input, writes DIR/out.NAME.npy for every output and
// prints {"ms": median ms per run, "outputs": {...shapes}} as JSON on stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { readNpy, writeNpy } from '../scripts/lib/npy.mjs';

const [model, dir, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
ort.env.wasm.numThreads = 1; // deterministic and no worker threads needed in node
const session = await ort.InferenceSession.create(readFileSync(model), { executionProviders: ['wasm'] });
const feeds = {};
for (const name of session.inputNames) {
  const { shape, data } = readNpy(join(dir, `in.${name}.npy`));
  if (!(data instanceof Float32Array)) throw new Error(`in.${name}.npy: the models take float32`);
  feeds[name] = new ort.Tensor('float32', data, shape);
}
let results;
const times = [];
for (let i = 0; i < runs + 1; i++) {
  const t = performance.now();
  results = await session.run(feeds);
  if (i > 0) times.push(performance.now() - t); // first run includes warm-up
}
const outputs = {};
for (const name of session.outputNames) {
  writeNpy(join(dir, `out.${name}.npy`), results[name].data, results[name].dims);
  outputs[name] = results[name].dims;
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ ms: times[Math.floor(times.length / 2)] ?? null, outputs }));
