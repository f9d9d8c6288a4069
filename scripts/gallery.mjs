#!/usr/bin/env node
// The style-pack gallery (`npm run gallery`): every pack of models/packs on the same six faces
// from clips, through the real runtime (the built SDK bundle, WASM EP, lockstep frames at
// 640×480, the pack's default α), at display resolution: the face oval's box as the output
// canvas shows it, before (camera) and after (stylized), scaled to 160 px high.
//
// Default: the project's own clips (composite faces of generated-face and sample-face) →
// docs/gallery/*.png and docs/gallery.md (the text after its "<!-- notes -->" line is kept).
// --shared: six real people, one face from each of ../shared/data/videos' clips, with each
// pack's style image beside its row → .cache/gallery/ only (the shared data's licence forbids
// committing its faces and images).
//
// Usage: npm run gallery -- [--shared] [--packs a,b] [--height 160] [--alpha A] [--candidates DIR,DIR]
// --candidates: also (with --packs '' only) draw pack folders outside models/packs, e.g. builds being compared;
// each is named after its folder.
// --alpha A draws every pack at α A instead of its default (files get an -aA suffix, docs are left alone).
// --color-match MODE (luminance | lighting | skin | color | off) instead of the SDK's default seam colour match
// (files get a -MODE suffix, docs are left alone): shows what the generator itself drew.
// --options JSON: further FaceStylizer options (e.g. '{"detail": 0}'); with --tag T the files get a -T suffix.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs } from './lib/chromium.mjs';
import { startDemoServer } from './serve-demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const shared = args.includes('--shared');
const height = Number(option('--height', 160));
const alphaOverride = option('--alpha');
const colorMatch = option('--color-match');
const extraOptions = JSON.parse(option('--options', '{}'));
const optionsTag = option('--tag');
const suffix = `${alphaOverride === undefined ? '' : `-a${alphaOverride}`}${colorMatch === undefined ? '' : `-${colorMatch}`}${optionsTag ? `-${optionsTag}` : ''}`;
const media = join(root, '.cache/media');
const sharedData = join(root, '../shared/data');

// Six faces: frame indices per clip (spread over the clip, a different head pose or person each).
const FACES = shared
  ? [['talking-1', [60]], ['talking-2', [90]], ['talking-3', [30]], ['selfie-glasses', [50]], ['selfie-closeup', [40]], ['head-turn', [37]]]
  : [['generated-face', [10, 55, 100, 150]], ['sample-face', [15, 60]]];
const outDir = shared ? join(root, '.cache/gallery') : join(root, 'docs/gallery');

const packIndex = JSON.parse(readFileSync(join(root, 'models/packs/index.json'), 'utf8'));
const wanted = option('--packs')?.split(',');
const candidates = (option('--candidates') ?? '').split(',').filter(Boolean).map((dir) => resolve(dir));
const packs = [
  ...packIndex.packs
    .filter((p) => p.id !== 'base-reconstruction' && (!wanted || wanted.includes(p.id)))
    .map((p) => ({ id: p.id, url: `/assets/packs/${p.path}`, dir: join(root, 'models/packs', p.path) })),
  ...candidates.map((dir, i) => ({ id: basename(dir), url: `/candidate-${i}/`, dir })),
];
const manifests = Object.fromEntries(packs.map((p) => [p.id, JSON.parse(readFileSync(join(p.dir, 'manifest.json'), 'utf8'))]));
for (const [clip] of FACES) {
  if (!existsSync(join(media, `${clip}.mjpeg`))) {
    console.error(`gallery: ${join(media, `${clip}.mjpeg`)} missing (npm run setup${shared ? ', with ../shared beside the project' : ''})`);
    process.exit(2);
  }
}
if (!existsSync(join(root, 'packages/sdk/dist/face-stylizer.bundle.js'))) {
  console.error('gallery: the SDK bundle is missing (npm run build)');
  process.exit(2);
}

mkdirSync(outDir, { recursive: true });
const server = await startDemoServer({
  mounts: {
    '/sdk/': join(root, 'packages/sdk/dist'),
    '/eval/': join(root, 'scripts/eval-display'),
    '/eval-media/': media,
    ...(shared ? { '/shared-data/': sharedData } : {}),
    ...Object.fromEntries(candidates.map((dir, i) => [`/candidate-${i}/`, dir])),
  },
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs({}) });
const started = Date.now();
const strips = { before: [], after: Object.fromEntries(packs.map((p) => [p.id, []])) };
const dataUrlToBytes = (url) => Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
let page;
try {
  for (const [clip, indices] of FACES) {
    page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    page.on('pageerror', (error) => console.error(`gallery: page error: ${error.message}`));
    await page.goto(`${server.url}/eval/page.html`);
    await page.waitForFunction(() => window.evalReady === true);
    const call = (fn, value) => page.evaluate(([name, v]) => window.evalDisplay[name](v), [fn, value]);
    await call('loadClip', { url: `/eval-media/${clip}.mjpeg` });
    for (const [k, pack] of packs.entries()) {
      const alpha = alphaOverride === undefined ? (manifests[pack.id].alpha?.default ?? 1) : Number(alphaOverride);
      const run = await call('galleryStrips', { indices, pack: pack.url, exaggeration: alpha, height, options: { ...extraOptions, ...(colorMatch ? { colorMatch } : {}) } });
      if (run.faces < indices.length) console.log(`gallery: ${clip} through ${pack.id}: ${run.faces} of ${indices.length} faces stylized`);
      if (k === 0) strips.before.push(run.before);
      strips.after[pack.id].push(run.after);
      console.log(`gallery: ${clip} × ${pack.id} (α ${alpha}) [${((Date.now() - started) / 1000).toFixed(0)} s]`);
    }
    await page.close();
  }
  page = await browser.newPage();
  await page.goto(`${server.url}/eval/page.html`);
  await page.waitForFunction(() => window.evalReady === true);
  const join_ = (urls) => page.evaluate((v) => window.evalDisplay.joinImages(v), { urls, height, gap: 4 });
  writeFileSync(join(outDir, 'before.png'), dataUrlToBytes(await join_(strips.before)));
  for (const pack of packs) {
    const style = manifests[pack.id].training?.style;
    // manifests name the style image by file name; it lives in pairs/ or styles/
    const folder = shared && style ? ['pairs', 'styles'].find((f) => existsSync(join(sharedData, f, style))) : undefined;
    const exemplar = folder ? [`/shared-data/${folder}/${style}`] : [];
    writeFileSync(join(outDir, `${pack.id}${suffix}.png`), dataUrlToBytes(await join_([...exemplar, ...strips.after[pack.id]])));
  }
} finally {
  await browser.close();
  await server.close();
}

const seconds = (Date.now() - started) / 1000;
console.log(`gallery: ${packs.length} packs × ${FACES.reduce((n, [, i]) => n + i.length, 0)} faces in ${seconds.toFixed(0)} s → ${outDir}`);
if (shared || wanted || suffix || candidates.length) process.exit(0); // docs/gallery.md lists every pack: only a full run rewrites it

const docs = join(root, 'docs/gallery.md');
const notes = existsSync(docs) && readFileSync(docs, 'utf8').includes('<!-- notes -->') ? readFileSync(docs, 'utf8').split('<!-- notes -->')[1] : '\n';
const lines = [
  '# Style-pack gallery',
  '',
  `Made by \`npm run gallery\` (${new Date().toISOString().slice(0, 10)}, ${seconds.toFixed(0)} s): every default pack on the same six faces of the project's own clips`,
  '(composite faces of `generated-face` and `sample-face`; the shared real clips and style images may not be committed:',
  '`npm run gallery -- --shared` draws six real people with each style image beside its row into `.cache/gallery/`),',
  'through the real runtime at 640×480 (WASM EP, lockstep frames, the pack\'s default α and its frame grade), the face oval\'s box as the output',
  'canvas shows it, scaled to 160 px high. Scores per pack: `docs/scorecard.md`.',
  '',
  '**Camera (before)**',
  '',
  '![before](gallery/before.png)',
  '',
];
for (const pack of packs) {
  const m = manifests[pack.id];
  const source = m.training?.real ? `pair \`${m.training.real}\` → \`${m.training.style}\`` : `style image \`${m.training?.style}\``;
  lines.push(`**${m.name}** (\`${pack.id}\`, α ${m.alpha?.default ?? 1}; ${source})`, '', `![${pack.id}](gallery/${pack.id}.png)`, '');
}
writeFileSync(docs, `${lines.join('\n')}<!-- notes -->${notes}`);
console.log(`gallery: ${docs}`);
