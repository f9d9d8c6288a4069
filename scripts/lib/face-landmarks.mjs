#!/usr/bin/env node
// Face landmarks + ffhq-v1 crop matrices of image files, computed by the SDK's own
// FaceLandmarker and alignment in headless Chromium (so pack building and metrics align
// exactly as the runtime does).
//
// Library:  const results = await landmarkImageFiles(['a.jpg', 'b.png'], { cropSize: 128 });
//   -> [{ file, width, height, faces: [{ points: [{x, y}] x478, cropFromImage: [a..f] }], error? }]
// CLI:      node scripts/lib/face-landmarks.mjs [--crop-size 128] IMAGE... > landmarks.json
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs } from './chromium.mjs';
import { startStaticServer } from './static-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMAGE_TYPES = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

/**
 * A headless-Chromium session running the landmarker page. `handlers` serve the images (see
 * static-server.mjs); `landmark(urls)` returns one result per URL.
 * Settings: pack building and metrics use 4 faces at confidence 0.3 (so "several faces" is
 * caught and stylised faces are found); dataset preparation uses 2 faces at MediaPipe's 0.5.
 * @param {{ cropSize?: number, numFaces?: number, minConfidence?: number, handlers?: object, chromiumPath?: string }} [options]
 */
export async function openLandmarker({ cropSize = 128, numFaces = 4, minConfidence = 0.3, handlers = {}, chromiumPath = '/usr/bin/chromium' } = {}) {
  const bundle = await build({
    entryPoints: [join(root, 'scripts/lib/face-landmarks-page.ts')],
    bundle: true, format: 'esm', write: false, target: 'es2022', logLevel: 'error',
  });
  const server = await startStaticServer({
    mounts: {
      '/tasks-vision-wasm': join(root, 'node_modules/@mediapipe/tasks-vision/wasm'),
      '/models': join(root, 'models'),
    },
    handlers: {
      '/page.js': (_req, res) => { res.writeHead(200, { 'Content-Type': 'text/javascript' }); res.end(bundle.outputFiles[0].text); },
      '/index.html': (_req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end('<script type="module" src="/page.js"></script>'); },
      ...handlers,
    },
  });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs() });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('landmarker page error:', e.message));
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => typeof globalThis.landmarkImages === 'function');
    await page.evaluate((settings) => globalThis.init(settings), { numFaces, minConfidence });
    return {
      landmark: (urls) => page.evaluate(([u, size]) => globalThis.landmarkImages(u, size), [urls, cropSize]),
      close: async () => { await browser.close(); await server.close(); },
    };
  } catch (error) {
    await browser.close();
    await server.close();
    throw error;
  }
}

/**
 * @param {string[]} files
 * @param {{ cropSize?: number, chromiumPath?: string }} [options]
 */
export async function landmarkImageFiles(files, { cropSize = 128, chromiumPath = '/usr/bin/chromium' } = {}) {
  const landmarker = await openLandmarker({
    cropSize,
    chromiumPath,
    handlers: {
      '/image/': (_req, res, rest) => {
        const file = files[Number(rest)];
        if (file === undefined) { res.writeHead(404); return res.end(); }
        res.writeHead(200, { 'Content-Type': IMAGE_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' });
        res.end(readFileSync(file));
      },
    },
  });
  try {
    const results = await landmarker.landmark(files.map((_, i) => `/image/${i}`));
    return results.map((r, i) => ({ file: files[i], width: r.width, height: r.height, faces: r.faces, ...(r.error ? { error: r.error } : {}) }));
  } finally {
    await landmarker.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  let cropSize = 128;
  const i = args.indexOf('--crop-size');
  if (i >= 0) { cropSize = Number(args[i + 1]); args.splice(i, 2); }
  if (!args.length) { console.error('usage: node scripts/lib/face-landmarks.mjs [--crop-size N] IMAGE...'); process.exit(2); }
  const results = await landmarkImageFiles(args.map((f) => resolve(f)), { cropSize });
  process.stdout.write(JSON.stringify(results) + '\n');
}
