// Run an ONNX model with onnxruntime-web (wasm EP) in node, for the exporter's parity check
// (onnxruntime is not packaged for Debian's Python; the runtime ships onnxruntime-web anyway).
//
//   node training/ort_run.mjs MODEL.onnx DIR [RUNS]
// reads DIR/in.NAME.npy for every model input, writes DIR/out.NAME.npy for every output and
// prints {"ms": median ms per run, "outputs": {...shapes}} as JSON on stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';

// .npy v1/v2 reader and v1 writer, float32 little-endian C-order only (all we exchange).
function readNpy(path) {
  const buf = readFileSync(path);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) {
    throw new Error(`${path}: only little-endian float32 C-order .npy is supported (${header})`);
  }
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const bytes = buf.subarray(start);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { shape, data };
}

function writeNpy(path, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

const [model, dir, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
ort.env.wasm.numThreads = 1; // deterministic and no worker threads needed in node
const session = await ort.InferenceSession.create(readFileSync(model), { executionProviders: ['wasm'] });
const feeds = {};
for (const name of session.inputNames) {
  const { shape, data } = readNpy(join(dir, `in.${name}.npy`));
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
  writeNpy(join(dir, `out.${name}.npy`), results[name].dims, results[name].data);
  outputs[name] = results[name].dims;
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ ms: times[Math.floor(times.length / 2)] ?? null, outputs }));
