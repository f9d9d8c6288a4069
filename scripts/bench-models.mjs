#!/usr/bin/env node
// Model speed on onnxruntime-web's WASM execution provider, in node (the same WASM build the
// browser runs): the base encoder, the base generator and every style pack's generator, per
// face (batch 1). Prints median and 90th-percentile ms per model and the encoder + generator
// total per face. The models run in rounds (each model once per round), so a host whose speed
// drifts during the run slows them all alike; --compare DIR adds another base model folder
// (e.g. a previous export) to the rounds. ORT fixes its thread count per process: run once per
// count.
//
// Usage: npm run bench:models -- [--runs 50] [--threads 1] [--compare DIR] [--json]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const runs = Number(option('--runs', 50));
const threads = Number(option('--threads', 1));
const contract = JSON.parse(readFileSync(join(root, 'models/base/contract.json'), 'utf8'));

// [name, file, input tensors of its contract]
const models = [
  ['encoder', join(root, 'models/base', contract.encoder.file), contract.encoder.inputs],
  ['generator', join(root, 'models/base', contract.generator.file), contract.generator.inputs],
];
const compare = option('--compare');
if (compare) {
  const other = JSON.parse(readFileSync(join(compare, 'contract.json'), 'utf8'));
  models.push([`${compare} encoder`, join(compare, other.encoder.file), other.encoder.inputs]);
  models.push([`${compare} generator`, join(compare, other.generator.file), other.generator.inputs]);
}
const packs = join(root, 'models/packs');
for (const id of existsSync(packs) ? readdirSync(packs).sort() : []) {
  const manifest = join(packs, id, 'manifest.json');
  if (!existsSync(manifest)) continue;
  const pack = JSON.parse(readFileSync(manifest, 'utf8'));
  models.push([`pack ${id}`, join(packs, id, pack.files.generator.path), pack.contract.generator.inputs]);
}

/** Deterministic inputs of the contract's shapes (values in the range the models see). */
function feeds(tensors) {
  return Object.fromEntries(Object.entries(tensors).map(([name, { shape }]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = name === 'alpha' ? 1 : 0.5 * Math.sin(i * 0.37);
    return [name, new ort.Tensor('float32', data, shape)];
  }));
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const results = [];
ort.env.wasm.numThreads = threads;
const loaded = [];
for (const [name, file, tensors] of models) {
  const session = await ort.InferenceSession.create(readFileSync(file), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const inputs = feeds(tensors);
  for (let i = 0; i < 3; i++) await session.run(inputs); // warm-up
  loaded.push({ name, session, inputs, times: [] });
}
for (let round = 0; round < runs; round++) {
  for (const model of loaded) {
    const t = performance.now();
    await model.session.run(model.inputs);
    model.times.push(performance.now() - t);
  }
}
for (const { name, session, times } of loaded) {
  await session.release();
  times.sort((a, b) => a - b);
  results.push({ threads, model: name, p50: percentile(times, 0.5), p90: percentile(times, 0.9) });
}

if (args.includes('--json')) {
  console.log(JSON.stringify({ cpu: cpus()[0]?.model, results }, null, 2));
} else {
  console.log(`onnxruntime-web WASM, ${cpus().length} × ${cpus()[0]?.model}, ${runs} runs after warm-up`);
  console.log('threads  model                                   p50 ms   p90 ms');
  for (const r of results) console.log(`${String(r.threads).padStart(7)}  ${r.model.padEnd(38)} ${r.p50.toFixed(1).padStart(7)}  ${r.p90.toFixed(1).padStart(7)}`);
  /** Encoder + generator of the base model whose result names start with `prefix`. */
  const perFace = (label, prefix) => {
    const e = results.find((r) => r.model === `${prefix}encoder`);
    const g = results.find((r) => r.model === `${prefix}generator`);
    if (e && g) console.log(`${label} encoder + generator per face (${threads} thread${threads > 1 ? 's' : ''}): p50 ${(e.p50 + g.p50).toFixed(1)} ms, p90 ${(e.p90 + g.p90).toFixed(1)} ms`);
  };
  perFace('models/base', '');
  if (compare) perFace(compare, `${compare} `);
}
