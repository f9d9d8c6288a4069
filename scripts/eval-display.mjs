#!/usr/bin/env node
// Display-resolution fidelity check (`npm run eval:display`, issue 12, results in docs/quality.md).
// Frames of the shared clips (../shared/data/videos) and the project's own clips go in lockstep
// through the real runtime (the built SDK bundle in headless Debian Chromium, WASM EP,
// stylize(MediaStreamTrackGenerator) as in the e2e harness) at each resolution, and per clip
// and resolution it measures (metric code: scripts/eval-display/metrics.mjs, unit-tested):
//   - base-reconstruction pack at α = 0, over the face core (the face oval of the runtime's own
//     landmarks for that frame, shrunk to 70 % about its centroid) against the input frame:
//     PSNR (RGB), SSIM (luma, Gaussian σ 1.5), detail ratio (RMS of luma − blur σ 1.5 px, out ÷ in);
//   - the default pack (models/packs/DEFAULT) over --frames consecutive frames: flicker ratio
//     (mean absolute frame-to-frame change in the face core, output ÷ input);
//   - the face oval's width in display pixels and the crop pixels covering it, from the crop
//     transform the SDK's alignFace computes for that frame's landmarks and the contract's crop;
//   - (first resolution only) the checkerboard score in crop space: the aligned input crops of
//     the sampled frames through the base encoder and each generator (base at α = 0, every pack
//     at its default α): RMS of the [[1,-2,1],[-2,4,-2],[1,-2,1]]/4 response, output ÷ input.
//
// Usage: npm run eval:display -- [--clips a,b] [--resolutions 640x480,1280x720] [--frames 60]
//          [--samples 4] [--span 300] [--no-checker] [--no-docs] [--models DIR] [--stabilization S] [--sharpening S] [--detail D] [--grade G] [--trackingMaxWidth W]
//          [--color-match luminance|lighting|skin|color|off]
//          [--flicker-packs]
// --models DIR measures candidate models instead of models/: DIR/base (contract.json, encoder,
// generator) and DIR/packs (index.json, DEFAULT, packs), e.g. a mid-training export; it implies
// --no-docs (docs/quality.md records the shipped models only).
// Frames come from .cache/media/NAME.mjpeg (640×480, made by set-up) and NAME-WxH.mjpeg (made
// here with ffmpeg, letterboxed like scripts/setup.mjs, first --span frames). Writes
// .cache/eval-display/results.json, face PNGs (input | output) in .cache/eval-display/, and the
// table into docs/quality.md between its eval:display markers. Shared clips are skipped with a
// message when ../shared/data/videos is absent; only project clips' pictures go into docs/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs } from './lib/chromium.mjs';
import { fakeCameraMjpeg, hasFfmpeg, letterboxFilter } from './lib/ffmpeg.mjs';
import { SEAM_CONTINUOUS } from './eval-display/metrics.mjs';
import { startDemoServer } from './serve-demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

const SHARED = ['talking-1', 'talking-2', 'talking-3', 'selfie-glasses', 'selfie-closeup', 'head-turn'];
const PROJECT = ['sample-face', 'generated-face'];
const videos = resolve(root, '../shared/data/videos');
const media = join(root, '.cache/media');
const outDir = join(root, '.cache/eval-display');

const clips = option('--clips', [...SHARED, ...PROJECT].join(',')).split(',').filter(Boolean);
const resolutions = option('--resolutions', '640x480,1280x720').split(',').map((r) => {
  const [width, height] = r.split('x').map(Number);
  return { width, height, name: `${width}x${height}` };
});
const flickerFrames = Number(option('--frames', 60));
// --flicker-packs: the flicker ratio of every style pack too (at the first resolution), not only the default's
const flickerPacks = args.includes('--flicker-packs');
const sampleCount = Number(option('--samples', 4));
const span = Number(option('--span', 300));
const withChecker = !args.includes('--no-checker');
// the runtime's temporal stabilisation for the flicker run (default: the SDK's default)
// FaceStylizer options under test (each defaults to the SDK's default)
const runOptions = {
  ...Object.fromEntries(
    ['stabilization', 'sharpening', 'detail', 'grade', 'trackingMaxWidth'].filter((name) => args.includes(`--${name}`)).map((name) => [name, Number(option(`--${name}`))]),
  ),
  ...(args.includes('--color-match') ? { colorMatch: option('--color-match') } : {}),
};
const modelsDir = resolve(option('--models', join(root, 'models')));
const candidate = modelsDir !== join(root, 'models');
const writeDocs = !args.includes('--no-docs') && !candidate;

/** Where a clip comes from: the shared mp4, or the project's own renders. */
function sourceOf(clip) {
  if (clip === 'generated-face') return join(root, 'models/media/generated-face.webm');
  if (clip === 'sample-face') return join(media, 'sample-face.webm');
  return join(videos, `${clip}.mp4`);
}
const isProject = (clip) => PROJECT.includes(clip);

/** The MJPEG of `clip` at `res`: set-up's 640×480 file, or converted here (letterboxed as set-up does). */
function clipFile(clip, res) {
  const setupFile = join(media, `${clip}.mjpeg`);
  if (res.width === 640 && res.height === 480 && existsSync(setupFile)) return setupFile;
  const target = join(media, `${clip}-${res.name}.mjpeg`);
  const source = sourceOf(clip);
  if (!existsSync(source)) return undefined;
  if (fakeCameraMjpeg(source, target, { videoFilter: letterboxFilter(res.width, res.height), frames: span })) console.log(`eval:display: ${target}`);
  return target;
}

const sharedPresent = existsSync(videos);
const selected = clips.filter((clip) => {
  if (isProject(clip) || sharedPresent) return true;
  console.log(`eval:display: ../shared/data/videos is absent: ${clip} skipped (the project's own clips still run)`);
  return false;
});
if (!selected.length) {
  console.log('eval:display: no clip to measure');
  process.exit(0);
}
if (!hasFfmpeg()) console.log('eval:display: ffmpeg not installed: only clips already converted can run');
for (const built of ['packages/sdk/dist/face-stylizer.bundle.js', join(modelsDir, 'base/contract.json'), join(modelsDir, 'packs/DEFAULT')]) {
  if (!existsSync(resolve(root, built))) {
    console.error(`eval:display: ${built} missing (npm run setup && npm run build)`);
    process.exit(2);
  }
}

const defaultPack = readFileSync(join(modelsDir, 'packs/DEFAULT'), 'utf8').trim();
const packIndex = JSON.parse(readFileSync(join(modelsDir, 'packs/index.json'), 'utf8'));
const contract = JSON.parse(readFileSync(join(modelsDir, 'base/contract.json'), 'utf8'));
const generators = [
  { id: 'base', url: `/assets/models/base/${contract.generator.file}`, alpha: 0 },
  ...packIndex.packs.filter((p) => p.id !== 'base-reconstruction').map((p) => ({ id: p.id, url: `/assets/packs/${p.path}generator.onnx`, alpha: p.alpha?.default ?? 1 })),
];

mkdirSync(outDir, { recursive: true });
const server = await startDemoServer({
  mounts: {
    '/sdk/': join(root, 'packages/sdk/dist'),
    '/eval/': join(root, 'scripts/eval-display'),
    '/eval-media/': media,
    ...(candidate ? { '/assets/models/base/': join(modelsDir, 'base'), '/assets/packs/': join(modelsDir, 'packs') } : {}),
  },
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs({}) });
const started = Date.now();
const results = [];

try {
  for (const clip of selected) {
    for (const [r, res] of resolutions.entries()) {
      const file = clipFile(clip, res);
      if (!file) {
        console.log(`eval:display: ${clip} at ${res.name}: no source (${sourceOf(clip)}), skipped`);
        continue;
      }
      const t0 = Date.now();
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
      const pageErrors = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      try {
        await page.goto(`${server.url}/eval/page.html`);
        await page.waitForFunction(() => window.evalReady === true);
        const call = (fn, value) => page.evaluate(([name, v]) => window.evalDisplay[name](v), [fn, value]);
        const loaded = await call('loadClip', { url: `/eval-media/${file.slice(media.length + 1)}` });
        const usable = Math.min(loaded.frames, span);
        // Sampled frames spread over the first `span` frames (the same frames at every resolution).
        const indices = Array.from({ length: sampleCount }, (_, i) => Math.floor(((i + 0.5) * usable) / sampleCount));
        const recon = await call('reconstruction', {
          indices,
          pack: '/assets/packs/base-reconstruction/',
          exaggeration: 0,
          pngIndices: indices.slice(0, 2),
          options: runOptions,
        });
        const flicker = await call('flicker', { start: 0, count: Math.min(flickerFrames, loaded.frames), pack: `/assets/packs/${defaultPack}/`, options: runOptions });
        const checker = withChecker && r === 0 ? await call('checkerboard', { generators }) : undefined;
        const packFlicker = {};
        if (flickerPacks && r === 0) {
          for (const { id, url } of generators.filter((g) => g.id !== 'base')) {
            const pack = url.slice(0, url.lastIndexOf('/') + 1);
            const run = await call('flicker', { start: 0, count: Math.min(flickerFrames, loaded.frames), pack, options: runOptions });
            packFlicker[id] = {
              flicker: run.flickerRatio,
              contrast: run.contrastRatio,
              seamOut: run.seamStepOut,
              seamIn: run.seamStepIn,
              seamLumaOut: run.seamLumaStepOut,
              seamLumaIn: run.seamLumaStepIn,
              lumaShift: run.faceLumaShift,
            };
          }
        }
        const pngs = [];
        for (const [k, [index, dataUrl]] of Object.entries(recon.pngs).entries()) {
          const png = join(outDir, `${clip}-${res.name}-${index}.png`);
          const bytes = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
          writeFileSync(png, bytes);
          pngs.push(png);
          // Pictures in docs/ only of the project's own clips (the shared clips are third-party).
          if (writeDocs && isProject(clip) && k === 0) {
            mkdirSync(join(root, 'docs/quality'), { recursive: true });
            writeFileSync(join(root, 'docs/quality', `${clip}-${res.name}.png`), bytes);
          }
        }
        delete recon.pngs;
        const coverage = recon.samples.filter((s) => s.coverage).map((s) => s.coverage);
        const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
        const result = {
          clip,
          resolution: res.name,
          frames: loaded.frames,
          indices,
          reconstruction: recon,
          flicker,
          packFlicker,
          checkerboard: checker,
          coverage: {
            ovalWidthDisplay: mean(coverage.map((c) => c.displayWidth)),
            ovalWidthCrop: mean(coverage.map((c) => c.cropWidth)),
            cropPerDisplay: mean(coverage.map((c) => c.cropPerDisplay)),
            ovalHeightFraction: mean(coverage.map((c) => c.displayHeight / res.height)),
            // crop px per display px for a face whose oval is 40 % of the frame height (issue 12's target case)
            cropPerDisplayAt40: mean(coverage.map((c) => (c.cropPerDisplay * c.displayHeight) / (0.4 * res.height))),
          },
          pngs: pngs.map((p) => p.slice(root.length + 1)),
          pageErrors,
          seconds: (Date.now() - t0) / 1000,
        };
        results.push(result);
        console.log(line(result));
      } catch (error) {
        console.error(`eval:display: ${clip} at ${res.name} failed: ${error.message}`);
        results.push({ clip, resolution: res.name, error: error.message, pageErrors });
      } finally {
        await page.close();
      }
    }
  }
} finally {
  await browser.close();
  await server.close();
}

function fmt(x, digits = 2) {
  return x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits);
}

function line(r) {
  const rc = r.reconstruction;
  return `${r.clip} ${r.resolution}: PSNR ${fmt(rc.psnr)} dB, SSIM ${fmt(rc.ssim, 3)}, detail ${fmt(rc.detailRatio)}, ` +
    `flicker ${fmt(r.flicker.flickerRatio)} (contrast ${fmt(r.flicker.contrastRatio)}; ${r.flicker.stylizedFrames}/${r.flicker.frames} stylized), ` +
    `oval ${fmt(r.coverage.ovalWidthDisplay, 0)} px ← ${fmt(r.coverage.ovalWidthCrop, 1)} crop px (${fmt(r.coverage.cropPerDisplay)} crop/display) ` +
    `[${fmt(r.seconds, 0)} s]`;
}

const run = {
  date: new Date().toISOString(),
  command: `npm run eval:display${args.length ? ` -- ${args.join(' ')}` : ''}`,
  loadavg: loadavg(),
  contract: { version: contract.contractVersion, crop: contract.crop },
  defaultPack,
  seconds: (Date.now() - started) / 1000,
  results,
};
writeFileSync(join(outDir, 'results.json'), JSON.stringify(run, null, 2));

const ok = results.filter((r) => !r.error);
const tables = [
  `Run ${run.date.slice(0, 16).replace('T', ' ')} UTC, \`${run.command}\`, ${fmt(run.seconds / 60, 1)} min, load average ${run.loadavg.map((x) => x.toFixed(1)).join(' / ')}; ` +
    `contract v${contract.contractVersion}, crop ${contract.crop.size}² \`${contract.crop.alignment}\`; default pack \`${defaultPack}\`; ` +
    `${sampleCount} sampled frames per clip (reconstruction), ${flickerFrames} consecutive frames (flicker).`,
  '',
  '| clip | resolution | PSNR dB | SSIM | detail ratio | flicker ratio (default pack) | oval width, display px | crop px covering it | crop px / display px | … at a 40 %-height oval |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...ok.map((r) => `| ${r.clip} | ${r.resolution} | ${fmt(r.reconstruction.psnr)} | ${fmt(r.reconstruction.ssim, 3)} | ${fmt(r.reconstruction.detailRatio)} | ${fmt(r.flicker.flickerRatio)} | ${fmt(r.coverage.ovalWidthDisplay, 0)} | ${fmt(r.coverage.ovalWidthCrop, 1)} | ${fmt(r.coverage.cropPerDisplay)} | ${fmt(r.coverage.cropPerDisplayAt40)} |`),
];
const checkers = ok.filter((r) => r.checkerboard?.crops);
if (checkers.length) {
  const ids = generators.map((g) => g.id);
  tables.push('', `Checkerboard score (crop space, ${contract.crop.size}² generator grid, over the face oval in the crop; whole crop in results.json), resolution ${resolutions[0].name}:`, '');
  tables.push(`| clip | ${ids.map((id) => (id === 'base' ? 'base (α 0)' : id)).join(' | ')} |`, `| --- | ${ids.map(() => '---:').join(' | ')} |`);
  for (const r of checkers) tables.push(`| ${r.clip} | ${ids.map((id) => fmt(r.checkerboard.generators[id]?.oval)).join(' | ')} |`);
}
const flickers = ok.filter((r) => r.packFlicker && Object.keys(r.packFlicker).length);
if (flickers.length) {
  const ids = Object.keys(flickers[0].packFlicker);
  tables.push(
    '',
    `Flicker ratio per pack / the pack's contrast ratio (mean |luma gradient| of the output ÷ the input's over the same face core and frames: a moving face flickers in proportion to it), ${flickerFrames} consecutive frames, resolution ${resolutions[0].name}:`,
    '',
  );
  tables.push(`| clip | ${ids.join(' | ')} |`, `| --- | ${ids.map(() => '---:').join(' | ')} |`);
  for (const r of flickers) tables.push(`| ${r.clip} | ${ids.map((id) => `${fmt(r.packFlicker[id].flicker)} / ${fmt(r.packFlicker[id].contrast)}`).join(' | ')} |`);
  tables.push(
    '',
    `Colour step across the face's outline where the camera's picture continues (seamChromaStep: at each face-oval vertex whose camera chroma step is below ${SEAM_CONTINUOUS} levels, the distance between the mean chroma — RGB minus luminosity, 8-bit levels — just inside the oval and just outside the blend's feather), output (camera), same frames; a large step is a face that shows as a differently coloured mask:`,
    '',
  );
  tables.push(`| clip | ${ids.join(' | ')} |`, `| --- | ${ids.map(() => '---:').join(' | ')} |`);
  for (const r of flickers) tables.push(`| ${r.clip} | ${ids.map((id) => `${fmt(r.packFlicker[id].seamOut, 1)} (${fmt(r.packFlicker[id].seamIn, 1)})`).join(' | ')} |`);
  tables.push(
    '',
    "The style's brightness on screen and its seam, same frames: mean luminosity of the face core, output minus camera (8-bit levels; the pack's frame tone keeps what its generator does to faces), and the luminosity step across the outline at the same vertices as above, output (camera):",
    '',
  );
  tables.push(`| clip | ${ids.join(' | ')} |`, `| --- | ${ids.map(() => '---:').join(' | ')} |`);
  for (const r of flickers) tables.push(`| ${r.clip} | ${ids.map((id) => `${fmt(r.packFlicker[id].lumaShift, 1)}; ${fmt(r.packFlicker[id].seamLumaOut, 1)} (${fmt(r.packFlicker[id].seamLumaIn, 1)})`).join(' | ')} |`);
}
const failed = results.filter((r) => r.error);
if (failed.length) tables.push('', `Failed: ${failed.map((r) => `${r.clip} ${r.resolution} (${r.error})`).join('; ')}`);
console.log(`\n${tables.join('\n')}\n`);
console.log(`eval:display: ${join(outDir, 'results.json')}`);

if (writeDocs) {
  const doc = join(root, 'docs/quality.md');
  const begin = '<!-- eval:display:begin -->';
  const end = '<!-- eval:display:end -->';
  const block = `${begin}\n${tables.join('\n')}\n${end}`;
  const text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Display quality\n\n${begin}\n${end}\n`;
  const next = text.includes(begin) && text.includes(end)
    ? text.slice(0, text.indexOf(begin)) + block + text.slice(text.indexOf(end) + end.length)
    : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(doc, next);
  console.log(`eval:display: ${doc} (between the eval:display markers)`);
}
