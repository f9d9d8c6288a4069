#!/usr/bin/env node
// Landmarks every photo of ../shared/data/faces with the SDK's FaceLandmarker + ffhq-v1
// alignment in headless Chromium and writes one JSON line per photo (keypoints, crop matrix,
// face count). training/prepare_data.py then cuts the crops. Resumable: photos already in the
// output are skipped.
//
// Usage: node scripts/dataset/landmark-faces.mjs [--faces DIR] [--out FILE] [--limit N] [--part K/N]
// --part K/N takes every N-th photo from the K-th: N workers (one per core; Chromium's
// landmarker uses one) append whole batches to the same file, which is order-free.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLandmarker } from '../lib/face-landmarks.mjs';
import { indexTar, readMember } from '../lib/tar-index.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const facesDir = resolve(arg('--faces', join(root, '../shared/data/faces')));
const outFile = resolve(arg('--out', join(root, '.cache/aligned/landmarks.jsonl')));
const limit = Number(arg('--limit', 'Infinity'));
const [part, parts] = arg('--part', '0/1').split('/').map(Number);
const cropSize = Number(arg('--crop-size', '128'));
const BATCH = 48;

if (!existsSync(join(facesDir, 'manifest.jsonl'))) {
  console.error(`no face photos at ${facesDir} (see ../shared/data/README.md)`);
  process.exit(2);
}
const manifest = readFileSync(join(facesDir, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const done = new Set(existsSync(outFile) ? readFileSync(outFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).key) : []);
const todo = manifest.map((m) => ({ ...m, key: `${m.shard}/${m.name}` })).filter((m, i) => i % parts === part && !done.has(m.key)).slice(0, limit);
mkdirSync(dirname(outFile), { recursive: true }); // a fresh clone has no .cache/aligned yet
console.log(`${manifest.length} photos, ${done.size} already landmarked, ${todo.length} to do`);

const tars = new Map();
const tarIndex = (shard) => {
  if (!tars.has(shard)) tars.set(shard, indexTar(join(facesDir, shard)));
  return tars.get(shard);
};

// Dataset settings: up to 2 faces (a second face rejects the photo) at MediaPipe's default confidence.
const landmarker = await openLandmarker({
  cropSize,
  numFaces: 2,
  minConfidence: 0.5,
  handlers: {
    '/faces/': (_req, res, rest) => {
      const [shard, ...name] = rest.split('/');
      const member = tarIndex(shard).get(name.join('/'));
      if (!member) { res.writeHead(404); return res.end(); }
      res.writeHead(200, { 'Content-Type': 'image/webp' });
      res.end(readMember(join(facesDir, shard), member));
    },
  },
});
try {
  const started = Date.now();
  for (let i = 0; i < todo.length; i += BATCH) {
    const keys = todo.slice(i, i + BATCH).map((m) => m.key);
    const results = await landmarker.landmark(keys.map((key) => `/faces/${key}`));
    const rows = results.map(({ width, height, faces, error }, j) => {
      const row = { key: keys[j], width, height, faces: faces.length };
      if (faces.length) Object.assign(row, { keypoints: faces[0].keypoints, cropFromImage: faces[0].cropFromImage });
      return error ? { ...row, error } : row;
    });
    appendFileSync(outFile, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const n = Math.min(i + BATCH, todo.length);
    if ((i / BATCH) % 20 === 0 || n === todo.length) {
      const rate = n / ((Date.now() - started) / 1000);
      console.log(`${n}/${todo.length} photos, ${rate.toFixed(1)}/s, ETA ${((todo.length - n) / rate / 60).toFixed(1)} min`);
    }
  }
} finally {
  await landmarker.close();
}
