// Builds packages/sdk into packages/sdk/dist (and the demo, once it has sources).
//
// TypeScript 7 (the native compiler) has no JS API, so @rollup/plugin-typescript and
// rollup-plugin-dts cannot run; instead `tsc` emits ES modules + .d.ts into build/tsc, rollup
// bundles the JS, and the declaration files ship as emitted (dist/index.d.ts re-exports them).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const root = dirname(fileURLToPath(import.meta.url));
const sdk = join(root, 'packages/sdk');
const tscOut = join(sdk, 'build/tsc');
const tsc = join(root, 'node_modules/.bin/tsc');

/** Runs tsc once per rollup run (both SDK outputs share its emit). */
function typescriptEmit(project, outDir) {
  let done = false;
  return {
    name: 'typescript-emit',
    buildStart() {
      if (done) return;
      rmSync(outDir, { recursive: true, force: true });
      execFileSync(tsc, ['-p', project], { stdio: 'inherit' });
      done = true;
    },
  };
}

/** Copies the emitted .d.ts tree next to the bundle, so `exports["."].types` resolves. */
function copyDeclarations(from, to) {
  return {
    name: 'copy-declarations',
    writeBundle() {
      const copy = (dir) => {
        for (const name of readdirSync(dir)) {
          const path = join(dir, name);
          if (statSync(path).isDirectory()) copy(path);
          else if (name.endsWith('.d.ts')) cpSync(path, join(to, path.slice(from.length)));
        }
      };
      copy(from);
    },
  };
}

const emitSdk = typescriptEmit(join(sdk, 'tsconfig.build.json'), tscOut);
const isDependency = (id) => /^(rxjs|onnxruntime-web|@mediapipe\/tasks-vision)(\/|$)/.test(id);
const browser = nodeResolve({ browser: true, exportConditions: ['browser', 'import', 'default'] });

export default [
  // The library: dependencies stay imports, resolved by the application's bundler.
  {
    input: join(tscOut, 'index.js'),
    external: isDependency,
    plugins: [emitSdk, browser, terser({ module: true }), copyDeclarations(tscOut, join(sdk, 'dist'))],
    output: { file: join(sdk, 'dist/index.js'), format: 'es', sourcemap: true },
  },
  // Build for <script type="module"> without a bundler, and the size budget: everything included
  // (wasm files come from the asset base). What only some pages need, tasks-vision (tracking on
  // the page's thread) and each onnxruntime-web build, is a chunk in dist/chunks loaded on use.
  {
    input: join(tscOut, 'index.js'),
    plugins: [emitSdk, browser, terser({ module: true })],
    output: {
      dir: join(sdk, 'dist'),
      entryFileNames: 'face-stylizer.bundle.js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      format: 'es',
      sourcemap: true,
      manualChunks: (id) => {
        const ort = /\/node_modules\/onnxruntime-web\/dist\/ort\.(webgpu|wasm)\./.exec(id);
        if (ort) return `onnxruntime-web-${ort[1]}`;
        return /\/node_modules\/@mediapipe\/tasks-vision\//.test(id) ? 'tasks-vision' : undefined;
      },
    },
  },
  // The workers, served from the asset base (sdk/*.js), each self-contained. The inference worker:
  // onnxruntime-web's plain WASM build running the models.
  {
    input: join(tscOut, 'inference/inference-worker.js'),
    plugins: [emitSdk, browser, terser({ module: true })],
    output: { file: join(sdk, 'dist/worker/inference-worker.js'), format: 'es', sourcemap: true, inlineDynamicImports: true },
  },
  // The tracking worker (sdk/tracking-worker.js): MediaPipe's landmarker off the page's thread. A
  // classic script (IIFE): tasks-vision loads its WASM glue with importScripts.
  {
    input: join(tscOut, 'tracking/tracking-worker.js'),
    plugins: [emitSdk, browser, terser()],
    output: { file: join(sdk, 'dist/worker/tracking-worker.js'), format: 'iife', sourcemap: true, inlineDynamicImports: true },
  },
  ...demoBuild(),
];

/** Copies static files (the demo's index.html, CSS) into the output folder. */
function copyStatic(from, to) {
  return {
    name: 'copy-static',
    writeBundle() {
      if (existsSync(from)) cpSync(from, to, { recursive: true });
    },
  };
}

/**
 * The demo (packages/demo/src/main.ts, compiled with packages/demo/tsconfig.build.json into
 * build/tsc), bundled with the SDK and its dependencies, once it exists; packages/demo/public
 * (index.html, CSS) is copied next to it, so dist/ is the whole page.
 */
function demoBuild() {
  const demo = join(root, 'packages/demo');
  const project = join(demo, 'tsconfig.build.json');
  if (!existsSync(project)) return [];
  const out = join(demo, 'build/tsc');
  return [
    {
      input: join(out, 'main.js'),
      plugins: [typescriptEmit(project, out), browser, terser({ module: true }), copyStatic(join(demo, 'public'), join(demo, 'dist'))],
      output: {
        dir: join(demo, 'dist'),
        format: 'es',
        sourcemap: true,
        // One chunk per onnxruntime-web build: a page loads only the build it runs (the WebGPU
        // one on a GPU; the WASM one only when the inference worker is off).
        manualChunks: (id) => {
          const build = /\/node_modules\/onnxruntime-web\/dist\/ort\.(webgpu|wasm)\./.exec(id);
          return build ? `onnxruntime-web-${build[1]}` : undefined;
        },
      },
    },
  ];
}
