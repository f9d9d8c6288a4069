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
// An input given with N > 1 items where the model's batch is fixed at 1 (the exported graphs
// are batch 1) is run item by item; outputs are stacked back along axis 0.
const inputs = {};
let items = 1;
for (const name of session.inputNames) {
  const { shape, data } = readNpy(join(dir, `in.${name}.npy`));
  if (!(data instanceof Float32Array)) throw new Error(`in.${name}.npy: the models take float32`);
  const modelBatch = session.inputMetadata?.find?.((m) => m.name === name)?.shape?.[0];
  const perItem = modelBatch === 1 && shape.length > 1 && shape[0] > 1;
  if (perItem) {
    if (items > 1 && shape[0] !== items) throw new Error(`in.${name}.npy: ${shape[0]} items, other inputs have ${items}`);
    items = shape[0];
  }
  inputs[name] = { shape, data, perItem };
}
const feedsOf = (item) => Object.fromEntries(Object.entries(inputs).map(([name, { shape, data, perItem }]) => {
  if (!perItem) return [name, new ort.Tensor('float32', data, shape)];
  const size = data.length / shape[0];
  return [name, new ort.Tensor('float32', data.subarray(item * size, (item + 1) * size), [1, ...shape.slice(1)])];
}));
const chunks = Object.fromEntries(session.outputNames.map((name) => [name, []]));
const times = [];
for (let item = 0; item < items; item++) {
  const feeds = feedsOf(item);
  const repeats = item === 0 ? runs + 1 : 1; // timing on the first item; the first run includes warm-up
  let results;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    results = await session.run(feeds);
    if (item === 0 && i > 0) times.push(performance.now() - t);
  }
  for (const name of session.outputNames) chunks[name].push(results[name]);
}
const outputs = {};
for (const name of session.outputNames) {
  const parts = chunks[name];
  const dims = items > 1 ? [items, ...parts[0].dims.slice(1)] : parts[0].dims;
  const data = new Float32Array(parts.reduce((n, t) => n + t.data.length, 0));
  let offset = 0;
  for (const t of parts) { data.set(t.data, offset); offset += t.data.length; }
  writeNpy(join(dir, `out.${name}.npy`), data, dims);
  outputs[name] = dims;
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ ms: times[Math.floor(times.length / 2)] ?? null, outputs }));
