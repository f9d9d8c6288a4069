/**
 * The examples (examples/), from the packed packages only: `npm pack` of packages/sdk and
 * packages/models, `npm install <tarballs> vite@7` into a temporary folder (the npm registry for
 * the SDK's dependencies and Vite), then each example built or copied there the way its README
 * says, served alone on its own origin and opened in Chromium with the fake camera. Each must show
 * stylized faces and request nothing outside its origin; the CPU-path assets are measured.
 */
import { test, expect, chromium, type Browser } from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromiumArgs } from '../scripts/lib/chromium.mjs';
import { startStaticServer } from '../scripts/lib/static-server.mjs';
import { PROJECT_CLIPS, requireClip, root } from './fixtures';

test.describe.configure({ mode: 'serial' });

let work = '';
let app = '';

const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

function folderBytes(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const stat = statSync(join(dir, entry));
    if (stat.isFile()) (files += 1), (bytes += stat.size);
  }
  return { files, bytes };
}

test.beforeAll(async ({}, testInfo) => {
  testInfo.setTimeout(15 * 60_000);
  work = mkdtempSync(join(tmpdir(), 'face-stylizer-examples-'));
  // packages/models fills itself from models/ (prepack) and empties itself again (postpack)
  for (const pkg of ['sdk', 'models']) run('npm', ['pack', '--pack-destination', work], join(root, 'packages', pkg));
  const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  const sdkTarball = tarballs.find((f) => f.startsWith('face-stylizer-sdk-'))!;
  const sizes = Object.fromEntries(tarballs.map((f) => [f, statSync(join(work, f)).size]));
  testInfo.annotations.push({ type: 'tarballs', description: JSON.stringify(sizes) });
  console.log(`tarballs: ${JSON.stringify(sizes)}`);
  expect(sizes[sdkTarball], 'SDK tarball ≤ 1 MB').toBeLessThanOrEqual(1_000_000);
  const listing = run('tar', ['tzf', join(work, sdkTarball)], work).split('\n');
  expect(listing).toContain('package/LICENSE');
  expect(listing.filter((f) => f.endsWith('.map')), 'no source maps in the SDK tarball').toEqual([]);

  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "private": true, "type": "module" }\n');
  // one install for the three examples (each example's own folder resolves node_modules here)
  run('npm', ['install', '--no-audit', '--no-fund', ...tarballs.map((f) => join(work, f)), 'vite@^7'], app);
  cpSync(join(root, 'examples'), app, { recursive: true });
  run('npx', ['vite', 'build'], join(app, 'vite-app'));
  for (const example of ['no-build', 'video-call']) run('npx', ['face-stylizer', 'assets', 'face-stylizer', '--ep', 'wasm'], join(app, example));
});

const browsers: Browser[] = [];
/** Servers the tests start (vite dev), stopped after each test and if the worker exits (timeout). */
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
test.afterEach(async () => {
  for (const browser of browsers.splice(0)) await browser.close();
  for (const child of children.splice(0)) child.kill('SIGTERM');
});

test.afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Serves `dir` alone (or opens `server`), opens it with the fake camera, waits for stylized faces. */
async function openExample(
  dir: string,
  testInfo: { annotations: { type: string; description?: string }[] },
  server: { url: string; requests: string[]; close(): Promise<void> } | undefined = undefined,
) {
  server ??= await startStaticServer({ mounts: { '/': dir } });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs({ fakeCameraFile: requireClip(PROJECT_CLIPS.face) }) });
  browsers.push(browser);
  const requested: string[] = [];
  try {
    const context = await browser.newContext();
    context.on('request', (request) => requested.push(request.url()));
    const page = await context.newPage();
    page.on('pageerror', (error) => testInfo.annotations.push({ type: 'pageerror', description: error.message }));
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.body.dataset['status'] !== undefined, undefined, { timeout: 180_000 });
    const status = await page.evaluate(() => ({ status: document.body.dataset['status'], error: document.body.dataset['error'] }));
    expect(status).toEqual({ status: 'stylizing', error: undefined });
    const foreign = requested.filter((url) => !url.startsWith(`${server.url}/`) && !url.startsWith('data:') && !url.startsWith('blob:'));
    expect(foreign, 'requests outside the page origin').toEqual([]);
    // what the page loaded: every file the server sent, summed
    const served = [...new Set(server.requests)].filter((path) => !path.endsWith('/'));
    const bytes = served.reduce((sum, path) => {
      try {
        return sum + statSync(join(dir, path)).size;
      } catch {
        return sum;
      }
    }, 0);
    testInfo.annotations.push({ type: 'served', description: `${served.length} files, ${(bytes / 1e6).toFixed(1)} MB: ${served.join(' ')}` });
    if (served.length) console.log(`${dir.slice(app.length + 1)}: the page loaded ${served.length} files, ${(bytes / 1e6).toFixed(1)} MB`);
    return { page, served, bytes };
  } finally {
    await server.close();
  }
}

test('Vite app (vite build, the README example as written) stylizes the fake camera', async ({}, testInfo) => {
  const { served } = await openExample(join(app, 'vite-app/dist'), testInfo);
  // the default asset base is beside the chunks; onnxruntime-web's own .wasm copies are not emitted
  expect(served).toContain('/assets/models/base/encoder.onnx');
  expect(readdirSync(join(app, 'vite-app/dist/assets')).filter((f) => f.endsWith('.wasm'))).toEqual([]);
});

test('Vite app in the dev server (`vite`): the plugin serves the assets where the pre-bundled SDK looks', async ({}, testInfo) => {
  const port = await new Promise<number>((resolvePort) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolvePort(free));
    });
  });
  const vite = spawn(join(app, 'node_modules/.bin/vite'), ['--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: join(app, 'vite-app'), stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(vite);
  try {
    await new Promise<void>((ready, fail) => {
      setTimeout(() => fail(new Error('vite did not start in 60 s')), 60_000);
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        // "ready in N ms" (the URL's port is printed with colour codes inside)
        if (/ready in/.test(output)) ready();
      };
      vite.stdout.on('data', onData);
      vite.stderr.on('data', onData);
      vite.on('exit', (code) => fail(new Error(`vite exited with ${code}: ${output}`)));
    });
    const server = { url: `http://127.0.0.1:${port}`, requests: [] as string[], close: async () => undefined };
    await openExample(join(app, 'vite-app'), testInfo, server);
  } finally {
    vite.kill('SIGTERM');
  }
});

test('no-build page (<face-stylizer>, `face-stylizer assets --ep wasm`) stylizes the fake camera', async ({}, testInfo) => {
  const assets = folderBytes(join(app, 'no-build/face-stylizer'));
  testInfo.annotations.push({ type: 'assets (--ep wasm)', description: `${assets.files} files, ${(assets.bytes / 1e6).toFixed(1)} MB` });
  console.log(`face-stylizer assets --ep wasm: ${assets.files} files, ${(assets.bytes / 1e6).toFixed(1)} MB (with the SDK bundle and the default pack)`);
  const { served } = await openExample(join(app, 'no-build'), testInfo);
  expect(served).toContain('/face-stylizer/ort/ort-wasm-simd-threaded.wasm');
  expect(served.filter((path) => /asyncify|jsep|jspi/.test(path))).toEqual([]);
});

test('video-call page (stylizeTrack through two RTCPeerConnections) receives the stylized track', async ({}, testInfo) => {
  const { page } = await openExample(join(app, 'video-call'), testInfo);
  const received = await page.evaluate(() => Number(document.body.dataset['received']));
  const size = await page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('#remote')!;
    return [video.videoWidth, video.videoHeight];
  });
  expect(received).toBeGreaterThanOrEqual(30);
  expect(size[0]).toBeGreaterThan(0);
});
