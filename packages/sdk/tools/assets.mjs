// The files a page using @face-stylizer/sdk serves under its asset base, found in the installed
// packages (this one, @face-stylizer/models, @mediapipe/tasks-vision, onnxruntime-web). One list
// for the `face-stylizer assets` CLI and the Vite/Rollup plugins, so they copy exactly what the
// SDK requests for the chosen execution providers (the asset-base layout of src/outputs/assets.ts).
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Finds an installed package's folder, walking up node_modules from this package. */
export function packageDir(name, from = sdkDir) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`face-stylizer: the package ${name} is not installed (npm install ${name})`);
  }
}

/**
 * The models: the installed @face-stylizer/models package, or, inside the face-stylizer
 * repository (where that workspace is only filled at `npm pack`), the repository's models/.
 */
export function modelsDir() {
  const installed = packageDir('@face-stylizer/models');
  if (existsSync(join(installed, 'base/contract.json'))) return installed;
  const repo = resolve(realpathSync(installed), '../../models');
  if (existsSync(join(repo, 'base/contract.json'))) return repo;
  throw new Error(`face-stylizer: ${installed} has no base/contract.json (an unpacked workspace; install the published package)`);
}

export const EXECUTION_PROVIDERS = ['webgpu', 'wasm'];

/**
 * @param {{ executionProviders?: readonly ('webgpu' | 'wasm')[], packs?: 'default' | 'all' | 'none' | readonly string[], bundle?: boolean }} [options]
 *   executionProviders: the SDK option of the same name (default both, as the SDK);
 *   packs: style packs from @face-stylizer/models to include (default: the default pack);
 *   bundle: also the self-contained SDK build for <script type="module"> (face-stylizer.bundle.js + chunks/)
 * @returns {{ path: string, from: string, bytes: number }[]} path: relative to the asset base (POSIX)
 */
export function listAssets({ executionProviders = EXECUTION_PROVIDERS, packs = 'default', bundle = false } = {}) {
  for (const ep of executionProviders) {
    if (!EXECUTION_PROVIDERS.includes(ep)) throw new Error(`face-stylizer: unknown execution provider ${ep} (${EXECUTION_PROVIDERS.join(', ')})`);
  }
  const models = modelsDir();
  const mediapipe = join(packageDir('@mediapipe/tasks-vision'), 'wasm');
  const ort = join(packageDir('onnxruntime-web'), 'dist');
  const files = [];
  const add = (path, from) => files.push({ path, from, bytes: statSync(from).size });

  // tasks-vision's FilesetResolver picks the SIMD build (every browser that runs onnxruntime-web's
  // SIMD-only WASM has it).
  add('mediapipe/wasm/vision_wasm_internal.js', join(mediapipe, 'vision_wasm_internal.js'));
  add('mediapipe/wasm/vision_wasm_internal.wasm', join(mediapipe, 'vision_wasm_internal.wasm'));
  add('mediapipe/face_landmarker.task', join(models, 'mediapipe/face_landmarker.task'));
  // onnxruntime-web: the plain build for WASM, the asyncify build for WebGPU (src/inference/ort-builds.ts)
  const ortCores = { wasm: 'ort-wasm-simd-threaded', webgpu: 'ort-wasm-simd-threaded.asyncify' };
  for (const ep of executionProviders) {
    add(`ort/${ortCores[ep]}.mjs`, join(ort, `${ortCores[ep]}.mjs`));
    add(`ort/${ortCores[ep]}.wasm`, join(ort, `${ortCores[ep]}.wasm`));
  }
  for (const worker of ['inference-worker.js', 'tracking-worker.js']) add(`sdk/${worker}`, join(sdkDir, 'dist/worker', worker));
  const contract = JSON.parse(readFileSync(join(models, 'base/contract.json'), 'utf8'));
  add('models/base/contract.json', join(models, 'base/contract.json'));
  for (const file of new Set([contract.encoder.file, contract.generator.file])) add(`models/base/${file}`, join(models, 'base', file));

  const chosen = choosePacks(models, packs);
  if (chosen.length) {
    const index = readPackIndex(models);
    for (const id of chosen) {
      const manifest = JSON.parse(readFileSync(join(models, 'packs', id, 'manifest.json'), 'utf8'));
      add(`packs/${id}/manifest.json`, join(models, 'packs', id, 'manifest.json'));
      for (const file of Object.values(manifest.files)) add(`packs/${id}/${file.path}`, join(models, 'packs', id, file.path));
    }
    files.push({
      path: 'packs/index.json',
      content: `${JSON.stringify({ default: chosen.includes(index.default) ? index.default : chosen[0], packs: index.packs.filter((p) => chosen.includes(p.id)) }, null, 2)}\n`,
    });
    files[files.length - 1].bytes = Buffer.byteLength(files[files.length - 1].content);
  }
  if (bundle) {
    add('face-stylizer.bundle.js', join(sdkDir, 'dist/face-stylizer.bundle.js'));
    for (const chunk of readdirSync(join(sdkDir, 'dist/chunks')).filter((f) => f.endsWith('.js'))) {
      add(`chunks/${chunk}`, join(sdkDir, 'dist/chunks', chunk));
    }
  }
  return files;
}

function readPackIndex(models) {
  const file = join(models, 'packs/index.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { packs: [] };
}

function choosePacks(models, packs) {
  if (packs === 'none') return [];
  const index = readPackIndex(models);
  const available = index.packs.map((p) => p.id).filter((id) => existsSync(join(models, 'packs', id, 'manifest.json')));
  if (packs === 'all') return available;
  if (packs === 'default') return index.default && available.includes(index.default) ? [index.default] : available.slice(0, 1);
  const ids = typeof packs === 'string' ? packs.split(',') : [...packs];
  for (const id of ids) {
    if (!available.includes(id)) throw new Error(`face-stylizer: no style pack ${id} in ${join(models, 'packs')} (${available.join(', ')})`);
  }
  return ids;
}

/** The request path under the asset base for a URL path ending in one of the assets, or undefined. */
export function matchAsset(files, urlPath) {
  for (const file of files) if (urlPath.endsWith(`/${file.path}`)) return file;
  return undefined;
}
