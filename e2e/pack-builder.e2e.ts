/**
 * The demo's pack builder (packages/demo/src/builder.ts → /api/pack-jobs → `face-stylizer pack
 * build`), with real builds that never run to the end (a full build takes 5–8 minutes): one is
 * started from the page, found again after a reload, and cancelled; one fails (no face in the
 * style image) with the CLI's error. Neither leaves anything in models/packs. The queue itself
 * (one build at a time, publishing, cancel of a queued job) is unit-tested with a stand-in command
 * in scripts/lib/pack-jobs.test.mjs.
 */
import { execFileSync } from 'node:child_process';
import { chromium } from '@playwright/test';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs } from '../scripts/lib/chromium.mjs';
import { encodePng } from '../scripts/lib/png.mjs';
import { startDemoServer } from '../scripts/serve-demo.mjs';
import { PROJECT_CLIPS, expect, requireClip, root, test } from './fixtures';

const packsDir = join(root, 'models/packs');
let images = '';

test.beforeAll(() => {
  images = mkdtempSync(join(tmpdir(), 'face-stylizer-builder-'));
  // a face: one frame of the project's synthetic-head clip; no face: a flat grey image
  execFileSync('ffmpeg', ['-loglevel', 'error', '-i', requireClip(PROJECT_CLIPS.face), '-frames:v', '1', join(images, 'face.png')]);
  writeFileSync(join(images, 'blank.png'), encodePng(new Uint8Array(256 * 256 * 3).fill(128), 256, 256));
});
test.afterAll(() => rmSync(images, { recursive: true, force: true }));

const jobRow = (page: import('@playwright/test').Page, name: string) => page.locator('#builder-jobs li', { hasText: name });

test('a build started from the page shows progress, survives a reload and cancels cleanly', async ({ openPage }) => {
  const before = readdirSync(packsDir).sort();
  const page = await openPage(PROJECT_CLIPS.face, { path: '/' });
  await expect(page.locator('#builder')).toBeVisible();
  await page.setInputFiles('#builder-style', join(images, 'face.png'));
  await page.fill('#builder-name', 'e2e cancelled build');
  await page.click('#builder-start');
  const row = jobRow(page, 'e2e cancelled build');
  await expect(row).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  // progress from the CLI: the align stage (landmarking in headless Chromium) or later
  await expect(row.locator('.job-detail')).toContainText(/align|load|finetune/, { timeout: 120_000 });

  await page.reload();
  const again = jobRow(page, 'e2e cancelled build');
  await expect(again).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  await again.locator('.job-cancel').click();
  await expect(again).toHaveAttribute('data-state', 'cancelled', { timeout: 60_000 });
  expect(readdirSync(packsDir).sort()).toEqual(before);
});

test('a failed build reports the CLI error; a bad upload is refused; the camera resolution picker', async ({ openPage }) => {
  const before = readdirSync(packsDir).sort();
  const page = await openPage(PROJECT_CLIPS.face, { path: '/' });
  await expect(page.locator('#builder')).toBeVisible();
  await page.setInputFiles('#builder-style', join(images, 'blank.png'));
  await page.fill('#builder-name', 'e2e no face');
  await page.click('#builder-start');
  const row = jobRow(page, 'e2e no face');
  await expect(row).toHaveAttribute('data-state', 'failed', { timeout: 180_000 });
  await expect(row.locator('.job-detail')).toContainText('no-face');
  expect(readdirSync(packsDir).sort()).toEqual(before);
  // a bad request is refused at once with a clear error
  await page.setInputFiles('#builder-style', { name: 'style.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
  await page.fill('#builder-name', 'e2e gif');
  await page.click('#builder-start');
  await expect(page.locator('#builder-error')).toContainText('.png, .jpg or .webp');

  // the resolution picker: 'auto' asks for 1280×720 (openCamera's default); the fake camera's
  // clip is 640×480, so that is what it gives, also when 1280×720 is picked (ideal, never a failure)
  const demo = () => page.evaluate(() => (window as any).faceStylizerDemo as { ready: boolean; resolution?: string; errors: string[] });
  await page.waitForFunction(() => (window as any).faceStylizerDemo.ready === true, undefined, { timeout: 120_000 });
  expect((await demo()).resolution).toBe('640x480');
  await page.selectOption('#resolution', '1280x720');
  await expect(page.locator('#resolution-actual')).toHaveText('640×480');
  await expect(page.locator('#status')).toContainText('Stylizing', { timeout: 60_000 });
  expect((await demo()).errors).toEqual([]);
});

/** Stands in for `pack build` (seconds instead of minutes): the CLI's progress lines, then a valid
 * pack (the base-reconstruction pack renamed) at --out. */
const STAND_IN_BUILD = `
const [out, id, name, from] = process.argv.slice(1);
const fs = require('node:fs');
const progress = (stage, step, total, etaSeconds) => console.error(JSON.stringify({ event: 'progress', stage, step, total, etaSeconds }));
let step = 0;
progress('align', 1, 1);
const timer = setInterval(() => {
  step += 1;
  progress('finetune', step, 20, 20 - step);
  if (step < 20) return;
  clearInterval(timer);
  fs.cpSync(from, out, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(out + '/manifest.json', 'utf8'));
  fs.writeFileSync(out + '/manifest.json', JSON.stringify({ ...manifest, id, name }, null, 2));
  progress('pack', 1, 1);
}, 200);
`;

test('a finished build appears in the picker, is used from the page and downloads as a .tar (stand-in build)', async ({}, testInfo) => {
  // its own server: packs in a temp folder (a copy of the set-up pack), `pack build` replaced
  const packs = mkdtempSync(join(tmpdir(), 'face-stylizer-builder-packs-'));
  const basePack = join(packsDir, 'base-reconstruction');
  cpSync(basePack, join(packs, 'base-reconstruction'), { recursive: true });
  writeFileSync(join(packs, 'index.json'), JSON.stringify({ default: 'base-reconstruction', packs: [
    { id: 'base-reconstruction', name: 'Base', description: '', path: 'base-reconstruction/', preview: 'base-reconstruction/preview.png' }] }));
  mkdirSync(join(packs, '.work'));
  const server = await startDemoServer({
    mounts: { '/assets/packs/': packs },
    packJobs: {
      packsDir: packs,
      workDir: join(packs, '.work'),
      buildCommand: (job: { outDir: string; packId: string; name: string }) => ({
        command: process.execPath, args: ['-e', STAND_IN_BUILD, job.outDir, job.packId, job.name, basePack],
      }),
    },
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs({ fakeCameraFile: requireClip(PROJECT_CLIPS.face) }) });
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (error) => testInfo.annotations.push({ type: 'pageerror', description: error.message }));
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => (window as any).faceStylizerDemo?.ready === true, undefined, { timeout: 120_000 });
    await page.setInputFiles('#builder-style', join(images, 'face.png'));
    await page.fill('#builder-name', 'Stand-in toon');
    await page.click('#builder-start');
    const row = jobRow(page, 'Stand-in toon');
    await expect(row.locator('.job-detail')).toContainText(/finetune \d+ % · about .* left/, { timeout: 30_000 });
    await expect(row).toHaveAttribute('data-state', 'succeeded', { timeout: 60_000 });
    await expect(page.locator('#pack option[value="stand-in-toon"]')).toHaveCount(1);
    await row.getByRole('button', { name: 'Use' }).click();
    await page.waitForFunction(() => (window as any).faceStylizerDemo.packId === 'stand-in-toon', undefined, { timeout: 60_000 });
    expect(await page.evaluate(() => (window as any).faceStylizerDemo.errors)).toEqual([]);
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: 'Download .tar' }).click()]);
    expect(download.suggestedFilename()).toBe('stand-in-toon.tar');
    const tar = await download.path();
    const listing = execFileSync('tar', ['tf', tar], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(['manifest.json', 'generator.onnx', 'preview.png']);
    expect(readdirSync(packs).sort()).toEqual(['.work', 'base-reconstruction', 'index.json', 'stand-in-toon']);
  } finally {
    await browser.close();
    await server.close();
    rmSync(packs, { recursive: true, force: true });
  }
});
