#!/usr/bin/env node
// Same-person material for the identity metric: frames of the real single-person clips of
// ../shared/data/videos (via their 640×480 MJPEG conversions in .cache/media, made by
// `node scripts/setup.mjs`), landmarked by the SDK's own FaceLandmarker + ffhq-v1 alignment in
// headless Chromium (scripts/lib/face-landmarks.mjs). training/identity.py then cuts the 128²
// crops with prepare_data.cut_crop, exactly as the training crops were cut.
//
// Writes one JSON file: { fps, frames: [{ video, frame, time, offset, length, width, height,
// faces, cropFromImage? }] } where offset/length locate the frame's JPEG inside the .mjpeg.
// Exit code 0 with a message and no output file when the shared clips are absent.
//
// Usage: node scripts/metrics/video-faces.mjs [--every 0.5] [--out .cache/identity/video-landmarks.json]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { landmarkImageFiles } from '../lib/face-landmarks.mjs';
import { mjpegFrames } from './mjpeg.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const every = Number(arg('--every', '0.5'));
const outFile = resolve(arg('--out', join(root, '.cache/identity/video-landmarks.json')));
const FPS = 30; // scripts/setup.mjs converts with fps=30
// Real clips with exactly one person (two-faces and no-face are left out).
const SAME_PERSON_VIDEOS = ['talking-1', 'talking-2', 'talking-3', 'head-turn', 'selfie-closeup', 'selfie-glasses'];

const videosDir = join(root, '../shared/data/videos');
const available = SAME_PERSON_VIDEOS.filter((v) => existsSync(join(videosDir, `${v}.mp4`)) && existsSync(join(root, '.cache/media', `${v}.mjpeg`)));
if (!available.length) {
  console.log(`video-faces: skipped — no real clips (${videosDir} and .cache/media/*.mjpeg from \`node scripts/setup.mjs\`)`);
  process.exit(0);
}

const temp = mkdtempSync(join(tmpdir(), 'video-faces-'));
try {
  const items = [];
  for (const video of available) {
    const file = join(root, '.cache/media', `${video}.mjpeg`);
    const bytes = readFileSync(file);
    const step = Math.max(1, Math.round(every * FPS));
    mjpegFrames(bytes).forEach(({ offset, length }, frame) => {
      if (frame % step !== 0) return;
      const path = join(temp, `${video}-${frame}.jpg`);
      writeFileSync(path, bytes.subarray(offset, offset + length));
      items.push({ video, frame, time: frame / FPS, offset, length, path });
    });
  }
  console.log(`video-faces: landmarking ${items.length} frames of ${available.join(', ')}`);
  const results = await landmarkImageFiles(items.map((i) => i.path), { cropSize: 128 });
  const frames = items.map(({ path, ...item }, i) => {
    const r = results[i];
    return {
      ...item, width: r.width, height: r.height, faces: r.faces.length,
      ...(r.faces.length ? { cropFromImage: r.faces[0].cropFromImage } : {}), ...(r.error ? { error: r.error } : {}),
    };
  });
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ fps: FPS, alignment: 'ffhq-v1', frames }, null, 1));
  const found = frames.filter((f) => f.faces === 1).length;
  console.log(`video-faces: ${found}/${frames.length} frames with exactly one face -> ${outFile}`);
} finally {
  rmSync(temp, { recursive: true, force: true });
}
