#!/usr/bin/env node
// Wraps the base model's own generator (models/base/generator.onnx) into a v1 style pack at
// models/packs/base-reconstruction/, so the demo and the end-to-end tests have a default pack
// that goes through the real loader and verifier. It is a STAND-IN: the base generator
// reconstructs the face (it is not fine-tuned to any style) until the fine-tune module produces
// real packs. Then writes models/packs/index.json, the list of every pack under models/packs/
// (the demo's style picker reads it).
//
// The preview is honest: a synthetic face (scripts/lib/synthetic-face.mjs), aligned with the
// runtime's ffhq-v1 code, run through encoder → generator with onnxruntime-web in node; the PNG
// shows the input crop and the generator's output side by side.
//
// Usage: node scripts/make-base-pack.mjs [--base models/base] [--packs models/packs] [--force]
// Skips the rebuild when the pack already wraps the current generator and encoder.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import * as ort from 'onnxruntime-web';
import { encodePng } from './lib/png.mjs';
import { SyntheticScene } from './lib/synthetic-face.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? resolve(args[args.indexOf(name) + 1]) : fallback);
const baseDir = option('--base', join(root, 'models/base'));
const packsDir = option('--packs', join(root, 'models/packs'));
const force = args.includes('--force');
export const PACK_ID = 'base-reconstruction';

const { buildPack, sha256File } = await tsImport('../src/packs/index.ts', import.meta.url);
const { alignmentFor, applyAffine } = await tsImport('../packages/sdk/src/alignment/ffhq.ts', import.meta.url);

/** The synthetic face, aligned and sampled like the runtime's crop (CROP_SAMPLING), as NCHW floats. */
function syntheticCrop({ size, alignment: alignmentId }, [lo, hi]) {
  const width = 640;
  const height = 480;
  const scene = new SyntheticScene({ width, height, faces: [{ x: 320, y: 225, scale: 11, yaw: 0.12, pitch: 0.04, mouth: 0.2 }] });
  const rgb = scene.render(0);
  const alignment = alignmentFor(alignmentId)(scene.landmarks(0)[0], size);
  const mirror = (v, n) => {
    const period = 2 * n;
    const m = ((v % period) + period) % period;
    return m < n ? m : period - 1 - m;
  };
  const texel = (x, y, c) => rgb[3 * (mirror(y, height) * width + mirror(x, width)) + c];
  const bilinear = (x, y, c) => {
    const fx = x - 0.5;
    const fy = y - 0.5;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const ax = fx - x0;
    const ay = fy - y0;
    return (
      (texel(x0, y0, c) * (1 - ax) + texel(x0 + 1, y0, c) * ax) * (1 - ay) +
      (texel(x0, y0 + 1, c) * (1 - ax) + texel(x0 + 1, y0 + 1, c) * ax) * ay
    );
  };
  const tensor = new Float32Array(3 * size * size);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (const [dx, dy] of [[-0.25, -0.25], [0.25, -0.25], [-0.25, 0.25], [0.25, 0.25]]) {
          const p = applyAffine(alignment.imageFromCrop, { x: i + 0.5 + dx, y: j + 0.5 + dy });
          sum += bilinear(p.x, p.y, c);
        }
        tensor[c * size * size + j * size + i] = lo + ((sum / 4) / 255) * (hi - lo);
      }
    }
  }
  return tensor;
}

async function renderPreview(contract) {
  const size = contract.crop.size;
  const range = contract.pixel.range;
  ort.env.wasm.numThreads = 1;
  const session = async (file) => ort.InferenceSession.create(readFileSync(join(baseDir, file)), { executionProviders: ['wasm'] });
  const encoder = await session(contract.encoder.file);
  const generator = await session(contract.generator.file);
  const crop = syntheticCrop(contract.crop, range);
  const encoded = await encoder.run({ image: new ort.Tensor('float32', crop, [1, 3, size, size]) });
  const generated = await generator.run({
    w_plus: encoded.w_plus,
    features: encoded.features,
    alpha: new ort.Tensor('float32', new Float32Array([contract.alpha.default]), [1]),
  });
  const output = generated.image.data;
  // Preview: input crop | generator output, 2 × size by size, RGB.
  const pixels = new Uint8Array(2 * size * size * 3);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      for (let c = 0; c < 3; c++) {
        const toByte = (v) => Math.max(0, Math.min(255, Math.round(((v - range[0]) / (range[1] - range[0])) * 255)));
        const k = c * size * size + j * size + i;
        pixels[3 * (j * 2 * size + i) + c] = toByte(crop[k]);
        pixels[3 * (j * 2 * size + size + i) + c] = toByte(output[k]);
      }
    }
  }
  await encoder.release();
  await generator.release();
  return encodePng(pixels, 2 * size, size);
}

export async function makeBasePack() {
  const contract = JSON.parse(readFileSync(join(baseDir, 'contract.json'), 'utf8'));
  const generatorPath = join(baseDir, contract.generator.file);
  const encoderSha256 = await sha256File(join(baseDir, contract.encoder.file));
  const generatorSha256 = await sha256File(generatorPath);
  const outDir = join(packsDir, PACK_ID);
  const manifestPath = join(outDir, 'manifest.json');
  if (!force && existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.files?.generator?.sha256 === generatorSha256 && manifest.base?.encoderSha256 === encoderSha256) return false;
  }
  const preview = await renderPreview(contract);
  rmSync(outDir, { recursive: true, force: true });
  await buildPack({
    outDir,
    generatorOnnx: generatorPath,
    preview,
    contract,
    encoderSha256,
    id: PACK_ID,
    name: 'Base reconstruction (stand-in)',
    version: '0.1.0',
    description:
      'The base generator without any style fine-tuning: it reconstructs the face. A stand-in until the ' +
      'fine-tune module produces real style packs. Preview: a synthetic face, input crop | generator output.',
    licence: 'Non-commercial research use only: the base model is trained on CelebA and UTKFace (see models/base).',
    author: 'face-stylizer project',
    training: { kind: 'base-model', styleFineTune: false, generatorSha256, madeBy: 'scripts/make-base-pack.mjs' },
  });
  return true;
}

/** models/packs/index.json: every pack directory with a manifest (the demo's picker) and the default. */
export function writePackIndex() {
  const packs = [];
  for (const name of existsSync(packsDir) ? readdirSync(packsDir).sort() : []) {
    const manifestPath = join(packsDir, name, 'manifest.json');
    if (!existsSync(manifestPath)) continue;
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      packs.push({
        id: manifest.id,
        name: manifest.name,
        description: manifest.description,
        path: `${name}/`,
        preview: `${name}/${manifest.files.preview.path}`,
        alpha: manifest.alpha,
      });
    } catch (error) {
      console.warn(`make-base-pack: ${manifestPath} skipped in index.json (${error.message})`);
    }
  }
  // The default (models/packs/DEFAULT, one pack id, committed) comes first and the stand-in
  // last, so a real style is what the demo and <face-stylizer> load when none is chosen.
  const defaultFile = join(packsDir, 'DEFAULT');
  const wanted = existsSync(defaultFile) ? readFileSync(defaultFile, 'utf8').trim() : undefined;
  const rank = (p) => (p.id === wanted ? -1 : p.id === PACK_ID ? 1 : 0);
  packs.sort((a, b) => rank(a) - rank(b));
  const index = { default: packs[0]?.id, packs };
  writeFileSync(join(packsDir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  return packs;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!existsSync(join(baseDir, 'contract.json'))) {
    console.error(`make-base-pack: ${baseDir}/contract.json not found — export the base model first (training/export.py)`);
    process.exit(1);
  }
  if (await makeBasePack()) console.log(`make-base-pack: ${join(packsDir, PACK_ID)}/`);
  const packs = writePackIndex();
  console.log(`make-base-pack: ${join(packsDir, 'index.json')} (${packs.map((p) => p.id).join(', ')})`);
}
