#!/usr/bin/env node
// Renders the project's own test and demo clips (no photograph involved): synthetic heads from
// MediaPipe's canonical face mesh (scripts/lib/synthetic-face.mjs), 640×480 at 30 fps, looping
// seamlessly (Chromium's fake camera replays the file), encoded by ffmpeg as
//   OUT/sample-face.mjpeg       one face turning, nodding and talking, 3 s (fake camera)
//   OUT/sample-face.webm        the same clip as VP8 WebM (the demo's clip when there is no camera)
//   OUT/sample-two-faces.mjpeg  two faces side by side, 3 s
//   OUT/sample-no-face.mjpeg    a room with moving shapes and no face, 2 s
// Deterministic: the same sources give the same frames. Skips clips that are up to date.
//
// Usage: node scripts/make-sample-clip.mjs [--out .cache/media] [--force]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SyntheticScene } from './lib/synthetic-face.mjs';
import { hasFfmpeg } from './lib/ffmpeg.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outDir = resolve(args.includes('--out') ? args[args.indexOf('--out') + 1] : join(here, '../.cache/media'));
const force = args.includes('--force');
const WIDTH = 640;
const HEIGHT = 480;
const FPS = 30;

const wave = (period, phase = 0) => (t) => Math.sin((2 * Math.PI * t) / period + phase);
const scaled = (f, k, offset = 0) => (t) => offset + k * f(t);

export const CLIPS = {
  'sample-face': {
    seconds: 3,
    formats: ['mjpeg', 'webm'],
    scene: {
      faces: [
        {
          x: scaled(wave(3, 1), 25, 320),
          y: scaled(wave(1.5), 8, 225),
          scale: 11,
          yaw: scaled(wave(3), 0.35),
          pitch: scaled(wave(1.5, 0.5), 0.08),
          roll: scaled(wave(3, 2), 0.05),
          mouth: (t) => 0.3 - 0.3 * Math.cos((2 * Math.PI * t) / 0.75),
        },
      ],
    },
  },
  'sample-two-faces': {
    seconds: 3,
    formats: ['mjpeg'],
    scene: {
      faces: [
        { x: scaled(wave(3), 10, 170), y: 230, scale: 7.5, yaw: scaled(wave(3), 0.2, 0.1), pitch: 0.03, mouth: (t) => 0.25 - 0.25 * Math.cos((2 * Math.PI * t) / 1) },
        { x: scaled(wave(3, 2), 10, 470), y: 225, scale: 7.5, yaw: scaled(wave(1.5), 0.15, -0.1), pitch: -0.02, mouth: (t) => 0.25 - 0.25 * Math.cos((2 * Math.PI * t) / 0.6) },
      ],
    },
  },
  'sample-no-face': { seconds: 2, formats: ['mjpeg'], scene: { faces: [], background: 'moving' } },
};

function sourcesDigest() {
  const hash = createHash('sha256');
  for (const file of ['make-sample-clip.mjs', 'lib/synthetic-face.mjs']) hash.update(readFileSync(join(here, file)));
  return hash.digest('hex').slice(0, 16);
}

async function render(name, clip, digest) {
  const targets = clip.formats.map((format) => join(outDir, `${name}.${format}`));
  const stamp = join(outDir, `${name}.stamp`);
  if (!force && targets.every(existsSync) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return false;
  const encoders = {
    mjpeg: ['-q:v', '3', '-f', 'mjpeg'],
    webm: ['-c:v', 'libvpx', '-b:v', '1M', '-crf', '8', '-deadline', 'good', '-f', 'webm'],
  };
  const ffmpeg = spawn('ffmpeg', [
    '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${WIDTH}x${HEIGHT}`, '-r', String(FPS), '-i', '-',
    ...clip.formats.flatMap((format, i) => [...encoders[format], '-pix_fmt', 'yuv420p', `${targets[i]}.tmp`]),
  ], { stdio: ['pipe', 'inherit', 'inherit'] });
  const done = new Promise((resolveDone, reject) => ffmpeg.on('exit', (code) => (code === 0 ? resolveDone() : reject(new Error(`ffmpeg exited with ${code}`)))));
  const scene = new SyntheticScene({ width: WIDTH, height: HEIGHT, ...clip.scene });
  const frames = Math.round(clip.seconds * FPS);
  for (let i = 0; i < frames; i++) {
    const rgb = scene.render(i / FPS);
    if (!ffmpeg.stdin.write(rgb)) await new Promise((r) => ffmpeg.stdin.once('drain', r));
  }
  ffmpeg.stdin.end();
  await done;
  targets.forEach((target) => renameSync(`${target}.tmp`, target));
  writeFileSync(stamp, digest);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!hasFfmpeg()) {
    console.log('make-sample-clip: ffmpeg not installed — the project-made clips are not available');
    process.exit(0);
  }
  mkdirSync(outDir, { recursive: true });
  const digest = sourcesDigest();
  for (const [name, clip] of Object.entries(CLIPS)) {
    const started = Date.now();
    try {
      if (await render(name, clip, digest)) console.log(`make-sample-clip: ${join(outDir, name)}.{${clip.formats}} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      for (const format of clip.formats) rmSync(join(outDir, `${name}.${format}.tmp`), { force: true });
      throw error;
    }
  }
}
