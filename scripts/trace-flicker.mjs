// Diagnostic (not a metric): one clip, one or more packs, `--frames` consecutive frames through the
// runtime as `npm run eval:display` runs its flicker ratio; writes per-frame change in / out and
// the face box (input | output) of every frame to .cache/flicker-trace/<clip>-<pack>/.
// node scripts/trace-flicker.mjs --clip talking-1 --packs cartoon-narrow,jojo [--frames 60] [--models DIR] [--stabilization S]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs } from './lib/chromium.mjs';
import { startDemoServer } from './serve-demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const clip = option('--clip', 'talking-1');
const packs = option('--packs', 'cartoon-narrow').split(',');
const frames = Number(option('--frames', 60));
const modelsDir = resolve(option('--models', join(root, 'models')));
const options = {
  ...(args.includes('--stabilization') ? { stabilization: Number(option('--stabilization')) } : {}),
  ...(args.includes('--color-match') ? { colorMatch: option('--color-match') } : {}),
  ...(args.includes('--tracking') ? { tracking: option('--tracking') } : {}),
  ...(args.includes('--options') ? JSON.parse(option('--options')) : {}),
};
const media = join(root, '.cache/media');
const file = join(media, `${clip}.mjpeg`);
if (!existsSync(file)) throw new Error(`${file} missing (npm run setup converts the shared clips)`);

const server = await startDemoServer({
  mounts: {
    '/sdk/': join(root, 'packages/sdk/dist'),
    '/eval/': join(root, 'scripts/eval-display'),
    '/eval-media/': media,
    '/assets/models/base/': join(modelsDir, 'base'),
    '/assets/packs/': join(modelsDir, 'packs'),
  },
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs({}) });
try {
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  if (args.includes('--console')) page.on('console', (m) => console.log(m.text()));
  await page.goto(`${server.url}/eval/page.html`);
  await page.waitForFunction(() => window.evalReady === true);
  const call = (fn, value) => page.evaluate(([name, v]) => window.evalDisplay[name](v), [fn, value]);
  await call('loadClip', { url: `/eval-media/${clip}.mjpeg` });
  for (const pack of packs) {
    const run = await call('flicker', { start: 0, count: frames, pack: `/assets/packs/${pack}/`, options, trace: true });
    const dir = join(root, '.cache/flicker-trace', `${clip}-${pack}`);
    mkdirSync(dir, { recursive: true });
    const rows = run.perFrame.map(({ t, changeIn, changeOut, png }) => {
      writeFileSync(join(dir, `${String(t).padStart(3, '0')}.png`), Buffer.from(png.slice(png.indexOf(',') + 1), 'base64'));
      return { t, changeIn, changeOut };
    });
    writeFileSync(join(dir, 'trace.json'), JSON.stringify(rows));
    console.log(`${clip} ${pack}: flicker ${run.flickerRatio?.toFixed(2)}; per frame out/in: ${rows.map((r) => `${r.changeOut.toFixed(1)}/${r.changeIn.toFixed(1)}`).join(' ')}`);
  }
} finally {
  await browser.close();
  await server.close();
}
