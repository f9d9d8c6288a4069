// Build-tool plugins that serve and emit the SDK's assets (tools/assets.mjs) where the SDK looks
// for them by default: the folder of the JavaScript file that contains the SDK (its module URL).
//
//   // vite.config.js                                  // rollup.config.js
//   import { faceStylizer } from '@face-stylizer/sdk/vite';   import { faceStylizerAssets } from '@face-stylizer/sdk/rollup';
//   export default { plugins: [faceStylizer()] };      plugins: [nodeResolve(), faceStylizerAssets()]
//
// Vite build: the files go to <outDir>/<assetsDir>/ beside the chunks, and the onnxruntime-web
// .wasm files Vite emits from `new URL(..., import.meta.url)` in onnxruntime-web (never requested:
// the SDK points onnxruntime-web at its asset base) are dropped. Vite dev server: a middleware
// answers any URL that ends in an asset's path (the SDK runs from /node_modules/.vite/deps/ there).
import { copyFileSync, createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { listAssets, matchAsset } from './assets.mjs';

const MEDIA_TYPES = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.webp': 'image/webp',
};

function copyAssets(files, dir) {
  for (const file of files) {
    const target = join(dir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    if (file.content !== undefined) writeFileSync(target, file.content);
    else copyFileSync(file.from, target);
  }
}

/** Serves the assets to a connect/Node request; false when the URL is not one of them. */
function serveAsset(files, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const file = matchAsset(files, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  if (!file) return false;
  res.setHeader('Content-Type', MEDIA_TYPES[extname(file.path)] ?? 'application/octet-stream');
  res.setHeader('Content-Length', String(file.bytes));
  if (req.method === 'HEAD') res.end();
  else if (file.content !== undefined) res.end(file.content);
  else createReadStream(file.from).pipe(res);
  return true;
}

const ORT_EMITTED = /(^|\/)ort-wasm-simd-threaded[^/]*\.(wasm|mjs)$/;

/**
 * Vite plugin. Options as listAssets: `executionProviders` (default ['webgpu', 'wasm'], as the
 * SDK; pass ['wasm'] with the same SDK option for the CPU path only) and `packs`
 * ('default' | 'all' | 'none' | ids; served under packs/).
 */
export function faceStylizer(options = {}) {
  let files;
  let assetsDir = 'assets';
  const assets = () => (files ??= listAssets({ ...options, bundle: false }));
  return {
    name: 'face-stylizer-assets',
    configResolved(config) {
      assetsDir = config.build.assetsDir;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!serveAsset(assets(), req, res)) next();
      });
    },
    generateBundle(_options, bundle) {
      for (const [name, output] of Object.entries(bundle)) {
        if (output.type === 'asset' && ORT_EMITTED.test(name)) delete bundle[name];
      }
    },
    writeBundle(outputOptions) {
      if (outputOptions.dir) copyAssets(assets(), join(outputOptions.dir, assetsDir));
    },
  };
}

/** Plain Rollup plugin: copies the assets next to the output (its `dir`, or the folder of `file`). */
export function faceStylizerAssets(options = {}) {
  return {
    name: 'face-stylizer-assets',
    generateBundle(_options, bundle) {
      for (const [name, output] of Object.entries(bundle)) {
        if (output.type === 'asset' && ORT_EMITTED.test(name)) delete bundle[name];
      }
    },
    writeBundle(outputOptions) {
      copyAssets(listAssets({ ...options, bundle: false }), outputOptions.dir ?? dirname(outputOptions.file));
    },
  };
}
