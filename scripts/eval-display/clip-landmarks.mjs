// Landmarks of the first 150 frames of shared clips (MediaPipe IMAGE mode, each frame on its
// own), for prediction-sim.py. Needs ../shared/data/videos (via npm run setup's .cache/media).
// node scripts/eval-display/clip-landmarks.mjs talking-1 talking-2 … > .cache/clip-landmarks.json
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { landmarkImageFiles } from '../lib/face-landmarks.mjs';

const FRAMES = 150;
const out = {};
for (const clip of process.argv.slice(2)) {
  const dir = join('.cache/clip-frames', clip);
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', `.cache/media/${clip}.mjpeg`, '-frames:v', String(FRAMES), '-q:v', '2', join(dir, '%03d.jpg')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`ffmpeg failed on .cache/media/${clip}.mjpeg`);
  const files = readdirSync(dir).sort().map((f) => join(dir, f));
  const results = await landmarkImageFiles(files);
  out[clip] = results.map((x) => (x.faces[0] ? x.faces[0].points.map((p) => [p.x, p.y]) : null));
  console.error(`${clip}: ${results.filter((x) => x.faces.length).length}/${results.length} frames with a face`);
}
writeFileSync('.cache/clip-landmarks.json', JSON.stringify(out));
