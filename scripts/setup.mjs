#!/usr/bin/env node
// One-time (idempotent) set-up shared by `npm start`, `npm test` and `npm run bench`:
//  1. rebuild the MediaPipe .task bundle from the npm packages and check it against the pins;
//  2. convert the real face clips of ../shared/data/videos (when present) into the MJPEG files
//     Chromium's fake camera reads, as a 640×480 webcam would deliver them (portrait clips are
//     letterboxed, not cropped, so no face is cut off);
//  3. render the project's own clips (scripts/make-sample-clip.mjs: synthetic faces, no data
//     from ../shared) and convert the base generator's committed clip
//     (models/media/generated-face.webm, training/make_clip.py), used by the end-to-end tests on
//     a fresh clone and by the demo without camera;
//  4. wrap the base generator into the default style pack and list the packs
//     (scripts/make-base-pack.mjs → models/packs/base-reconstruction/, models/packs/index.json).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fakeCameraMjpeg, hasFfmpeg, letterboxFilter } from './lib/ffmpeg.mjs';

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status}`);
};

run('bash', ['scripts/install-system-deps.sh']);
run(process.execPath, ['scripts/mediapipe-assets/build.mjs']);

const videos = '../shared/data/videos';
const media = '.cache/media';
const ffmpegInstalled = hasFfmpeg();

/** Makes the fake camera's MJPEG of `source` (see fakeCameraMjpeg), saying so when it converted. */
function toMjpeg(source, target, options) {
  if (fakeCameraMjpeg(source, target, options)) console.log(`setup: ${target}`);
}

if (!existsSync(videos)) {
  console.log(`setup: ${videos} not found — end-to-end tests on real clips will be skipped`);
} else if (!ffmpegInstalled) {
  console.log('setup: ffmpeg not installed — end-to-end tests on real clips will be skipped');
} else {
  for (const file of readdirSync(videos).filter((f) => f.endsWith('.mp4'))) {
    toMjpeg(join(videos, file), join(media, `${basename(file, '.mp4')}.mjpeg`), { videoFilter: letterboxFilter(640, 480) });
  }
}

run(process.execPath, ['scripts/make-sample-clip.mjs']);

// The base generator's own clip (training/make_clip.py; committed): the fake camera reads MJPEG.
const generated = 'models/media/generated-face.webm';
if (existsSync(generated) && ffmpegInstalled) toMjpeg(generated, join(media, 'generated-face.mjpeg'));
if (existsSync('models/base/contract.json')) {
  run(process.execPath, ['scripts/make-base-pack.mjs']);
} else {
  console.log('setup: models/base/contract.json not found — no default style pack (export the base model with training/export.py)');
}
