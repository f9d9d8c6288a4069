// The packaging tools (tools/assets.mjs, tools/plugins.mjs, bin/face-stylizer.mjs) in the
// repository, where @face-stylizer/models resolves to models/: which files each execution
// provider needs, and that the CLI, Vite and Rollup plugins copy or serve exactly those.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { listAssets } from '../tools/assets.mjs';
import { faceStylizer, faceStylizerAssets } from '../tools/plugins.mjs';

const sdk = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(sdk, 'dist/worker/inference-worker.js')) && existsSync(join(sdk, '../../models/mediapipe/face_landmarker.task'));
const CPU_PATH = [
  'mediapipe/face_landmarker.task', 'mediapipe/wasm/vision_wasm_internal.js', 'mediapipe/wasm/vision_wasm_internal.wasm',
  'models/base/contract.json', 'models/base/encoder.onnx', 'models/base/generator.onnx',
  'ort/ort-wasm-simd-threaded.mjs', 'ort/ort-wasm-simd-threaded.wasm', 'sdk/inference-worker.js', 'sdk/tracking-worker.js',
];
const temps = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'face-stylizer-tools-'));
  temps.push(dir);
  return dir;
};
const files = (dir) => (readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
  .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort());
afterEach(() => temps.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe.skipIf(!built)('packaging tools (after npm run setup && npm run build)', () => {
  it('lists exactly what each execution provider loads', () => {
    expect(listAssets({ executionProviders: ['wasm'], packs: 'none' }).map((f) => f.path).sort()).toEqual(CPU_PATH);
    const both = listAssets({ packs: 'none' }).map((f) => f.path);
    expect(both.filter((p) => !CPU_PATH.includes(p)).sort()).toEqual(['ort/ort-wasm-simd-threaded.asyncify.mjs', 'ort/ort-wasm-simd-threaded.asyncify.wasm']);
    expect(() => listAssets({ executionProviders: ['webgl'] })).toThrow(/unknown execution provider/);
    expect(() => listAssets({ packs: ['no-such-pack'] })).toThrow(/no style pack/);
  });

  it('adds the chosen packs with an index of them', () => {
    const index = JSON.parse(listAssets({ executionProviders: ['wasm'] }).find((f) => f.path === 'packs/index.json').content);
    expect(index.packs.map((p) => p.id)).toEqual([index.default]);
    const all = listAssets({ executionProviders: ['wasm'], packs: 'all' });
    const ids = JSON.parse(all.find((f) => f.path === 'packs/index.json').content).packs.map((p) => p.id);
    for (const id of ids) expect(all.some((f) => f.path === `packs/${id}/manifest.json`)).toBe(true);
  });

  it('CLI: face-stylizer assets <dir> --ep wasm copies the CPU path (and the bundle unless --no-bundle)', () => {
    const dir = temp();
    execFileSync(process.execPath, [join(sdk, 'bin/face-stylizer.mjs'), 'assets', dir, '--ep', 'wasm', '--packs', 'none', '--no-bundle']);
    expect(files(dir)).toEqual(CPU_PATH);
    const withBundle = temp();
    execFileSync(process.execPath, [join(sdk, 'bin/face-stylizer.mjs'), 'assets', withBundle, '--ep', 'wasm', '--packs', 'none']);
    expect(files(withBundle)).toContain('face-stylizer.bundle.js');
  });

  it('Rollup plugin writes the assets beside the output and drops onnxruntime-web wasm copies', () => {
    const plugin = faceStylizerAssets({ executionProviders: ['wasm'], packs: 'none' });
    const bundle = { 'index.js': { type: 'chunk' }, 'ort-wasm-simd-threaded.jsep-abc.wasm': { type: 'asset' } };
    plugin.generateBundle({}, bundle);
    expect(Object.keys(bundle)).toEqual(['index.js']);
    const dir = temp();
    plugin.writeBundle({ dir });
    expect(files(dir)).toEqual(CPU_PATH);
  });

  it('Vite plugin: build writes into assetsDir; the dev middleware answers asset paths under any prefix', async () => {
    const plugin = faceStylizer({ executionProviders: ['wasm'], packs: 'none' });
    plugin.configResolved({ build: { assetsDir: 'static' } });
    const dir = temp();
    plugin.writeBundle({ dir });
    expect(files(join(dir, 'static'))).toEqual(CPU_PATH);

    let middleware;
    plugin.configureServer({ middlewares: { use: (fn) => (middleware = fn) } });
    const request = (url) => new Promise((resolve) => {
      const headers = {};
      const chunks = [];
      const res = {
        setHeader: (k, v) => (headers[k] = v),
        write: (c) => chunks.push(Buffer.from(c)),
        end: (c) => { if (c) chunks.push(Buffer.from(c)); resolve({ headers, body: Buffer.concat(chunks) }); },
        on: () => res, once: () => res, emit: () => true, removeListener: () => res,
      };
      middleware({ method: 'GET', url }, res, () => resolve('next'));
    });
    expect(await request('/src/main.js')).toBe('next');
    const contract = await request('/node_modules/.vite/deps/models/base/contract.json?v=1');
    expect(contract.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(contract.body.toString()).encoder).toBeDefined();
    expect(readFileSync(join(sdk, '../../models/base/contract.json')).equals(contract.body)).toBe(true);
  });
});
