/**
 * Shared fixtures: one static server per worker (the demo's mounts plus the SDK bundle, the
 * harness page and fixture style packs), and `openPage(clip, options)`, which launches Debian's
 * Chromium with that clip as the fake camera. Every test also checks that its pages requested
 * nothing outside the server's origin.
 */
import { test as base, expect, chromium, type Browser, type Page } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UNCLOSED_VIDEOFRAME_WARNING, chromiumArgs } from '../scripts/lib/chromium.mjs';
import { startDemoServer } from '../scripts/serve-demo.mjs';
import { writeFixturePacks } from './fixture-packs';

export { expect };

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const media = join(root, '.cache/media');

/** Clips the project makes itself, so a fresh clone runs every core test: synthetic heads
 * (scripts/make-sample-clip.mjs) and the base generator's faces (generated-face:
 * training/make_clip.py, committed in models/media, converted at set-up). */
export const PROJECT_CLIPS = { face: 'sample-face', generatedFace: 'generated-face', twoFaces: 'sample-two-faces', noFace: 'sample-no-face' } as const;
/** Real clips from ../shared/data/videos, converted by scripts/setup.mjs when present. */
export const SHARED_CLIPS = { talking: ['talking-1', 'talking-2', 'talking-3'], twoFaces: 'two-faces', noFace: 'no-face' } as const;

const isProjectClip = (clip: string) => clip.startsWith('sample-') || clip.startsWith('generated-');

/** Skips the current test, with the reason, when the clip was not made at set-up. */
export function requireClip(clip: string): string {
  const file = join(media, `${clip}.mjpeg`);
  if (!existsSync(file)) {
    const reason = isProjectClip(clip)
      ? `${file} missing: the project-made clip is rendered by \`npm run setup\` (scripts/make-sample-clip.mjs, needs ffmpeg)`
      : existsSync(join(root, '../shared/data/videos'))
        ? `${file} missing: run \`npm run setup\` to convert ../shared/data/videos (needs ffmpeg)`
        : `../shared/data/videos is absent: the real-clip test on ${clip} is skipped (the project-made clips still run)`;
    base.skip(true, reason);
  }
  return file;
}

export interface Server {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly webgpu?: boolean;
  /** false: no fake camera device at all (getUserMedia fails, as on a machine without a camera). */
  readonly camera?: boolean;
  /** Page to open; the harness by default. */
  readonly path?: string;
}

interface Fixtures {
  openPage: (clip: string | undefined, options?: OpenOptions) => Promise<Page>;
  /** Every URL the test's pages (and their workers) requested. */
  requestedUrls: string[];
  /** Uncaught exceptions of the test's pages and workers: asserted empty after every test. */
  uncaughtErrors: string[];
  /**
   * Chromium's "A VideoFrame was garbage collected without being closed" warnings: recorded (test
   * annotation 'unclosed-videoframe'), not asserted: every frame the SDK makes is closed or
   * transferred (docs/reliability.md), the rare warning comes from a frame Chromium made.
   */
  unclosedFrameWarnings: string[];
}

/** A console message that means an exception nobody caught (a worker's arrive this way). */
const UNCAUGHT = /^Uncaught /;

export const test = base.extend<Fixtures, { server: Server }>({
  server: [
    async ({}, use) => {
      const validPack = join(root, 'models/packs/base-reconstruction');
      if (!existsSync(join(validPack, 'manifest.json'))) throw new Error(`${validPack} missing: run \`npm run setup\` (scripts/make-base-pack.mjs)`);
      for (const built of ['packages/sdk/dist/face-stylizer.bundle.js', 'packages/demo/dist/index.html']) {
        if (!existsSync(join(root, built))) throw new Error(`${built} missing: run \`npm run build\``);
      }
      const packs = mkdtempSync(join(tmpdir(), 'face-stylizer-e2e-packs-'));
      writeFixturePacks(validPack, packs);
      const brokenMedia = mkdtempSync(join(tmpdir(), 'face-stylizer-e2e-media-'));
      writeBrokenMedia(brokenMedia);
      const server = (await startDemoServer({
        mounts: {
          '/sdk/': join(root, 'packages/sdk/dist'),
          '/e2e/': join(root, 'e2e/pages'),
          '/assets/packs/e2e/': packs,
          '/e2e-media/': brokenMedia,
        },
      })) as Server;
      await use(server);
      await server.close();
      rmSync(packs, { recursive: true, force: true });
      rmSync(brokenMedia, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],

  requestedUrls: async ({}, use) => {
    await use([]);
  },

  uncaughtErrors: async ({}, use) => {
    await use([]);
  },

  unclosedFrameWarnings: async ({}, use, testInfo) => {
    const warnings: string[] = [];
    await use(warnings);
    if (warnings.length) testInfo.annotations.push({ type: 'unclosed-videoframe', description: `${warnings.length} warning(s)` });
  },

  openPage: async ({ server, requestedUrls, uncaughtErrors, unclosedFrameWarnings }, use, testInfo) => {
    const browsers: Browser[] = [];
    await use(async (clip, { webgpu = false, camera = true, path = '/e2e/harness.html' } = {}) => {
      const fakeCameraFile = clip ? requireClip(clip) : undefined;
      let args = chromiumArgs({ fakeCameraFile, webgpu });
      if (!camera) args = args.filter((arg) => !arg.startsWith('--use-fake-device-for-media-stream') && !arg.startsWith('--use-file-for-fake-video-capture'));
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
      browsers.push(browser);
      const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
      context.on('request', (request) => requestedUrls.push(request.url()));
      const page = await context.newPage();
      page.on('pageerror', (error) => {
        testInfo.annotations.push({ type: 'pageerror', description: error.message });
        uncaughtErrors.push(`pageerror: ${error.message}`);
      });
      // Workers' uncaught exceptions and the unclosed-VideoFrame warning arrive as console messages.
      page.on('console', (message) => {
        if (UNCAUGHT.test(message.text())) uncaughtErrors.push(`console.${message.type()}: ${message.text()}`);
        if (UNCLOSED_VIDEOFRAME_WARNING.test(message.text())) unclosedFrameWarnings.push(message.text());
      });
      await page.goto(server.url + path);
      if (path.startsWith('/e2e/')) await page.waitForFunction(() => (window as unknown as { e2eReady?: boolean }).e2eReady === true);
      return page;
    });
    for (const browser of browsers) await browser.close();
    expect(uncaughtErrors, 'uncaught exceptions in the pages and workers').toEqual([]);
    // Nothing may leave the page's origin (the server that also hosts the asset base).
    const foreign = requestedUrls.filter((url) => !url.startsWith(`${server.url}/`) && !url.startsWith('data:') && !url.startsWith('blob:'));
    expect(foreign, 'requests outside the test server').toEqual([]);
  },
});

/** The demo's clip (served at /media/sample-face.webm): the base generator's faces, else the synthetic heads. */
export const DEMO_CLIP = existsSync(join(root, 'models/media/generated-face.webm')) ? join(root, 'models/media/generated-face.webm') : join(media, 'sample-face.webm');

/**
 * Broken <video> sources, served under /e2e-media/: `not-a-video.webm` (random bytes: the demuxer
 * refuses it) and `damaged.webm` (the demo clip with its second half overwritten by random bytes:
 * it starts, then cannot be decoded or demuxed further).
 */
function writeBrokenMedia(dir: string): void {
  const random = (length: number, seed: number) => {
    const bytes = Buffer.alloc(length);
    for (let i = 0, state = seed; i < length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      bytes[i] = state >>> 24;
    }
    return bytes;
  };
  writeFileSync(join(dir, 'not-a-video.webm'), random(100_000, 1));
  const clip = readFileSync(DEMO_CLIP);
  const half = Math.floor(clip.length / 2);
  random(clip.length - half, 2).copy(clip, half);
  writeFileSync(join(dir, 'damaged.webm'), clip);
}

/** Calls window.e2e[fn](args) in the harness page. */
export function call<T = any>(page: Page, fn: string, args: unknown = {}): Promise<T> {
  return page.evaluate(([name, value]) => (window as any).e2e[name as string](value), [fn, args] as const);
}

/** Attaches a data-URL PNG to the test report. */
export async function attachPng(testInfo: { attach: (name: string, options: { body: Buffer; contentType: string }) => Promise<void> }, name: string, dataUrl: string | undefined) {
  if (dataUrl) await testInfo.attach(name, { body: Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'), contentType: 'image/png' });
}

export const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
