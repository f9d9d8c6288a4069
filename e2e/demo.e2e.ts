/**
 * The demo page (packages/demo) as a user gets it from `npm start`: camera → stylized canvas,
 * the pack picker filled from models/packs/index.json, sliders, before/after, the overlay; and
 * the sample clip when there is no camera.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { PROJECT_CLIPS, expect, root, test } from './fixtures';

const demoState = (page: Page) =>
  page.evaluate(() => {
    const demo = (window as any).faceStylizerDemo;
    return { ready: demo.ready, source: demo.source, packId: demo.packId, errors: demo.errors, fps: demo.lastStats?.fps, faces: demo.lastStats?.faces };
  });

async function waitUntilStylizing(page: Page) {
  await page.waitForFunction(() => (window as any).faceStylizerDemo?.ready || (window as any).faceStylizerDemo?.errors.length, null, { timeout: 120_000 });
  expect((await demoState(page)).errors).toEqual([]);
  await expect(page.locator('#status')).toContainText('Stylizing 1 face', { timeout: 30_000 });
  await page.waitForFunction(() => ((window as any).faceStylizerDemo.lastStats?.fps.stylized ?? 0) > 0, null, { timeout: 60_000 });
}

test('demo: camera, pack picker, sliders, before/after and overlay', async ({ openPage }, testInfo) => {
  const page = await openPage(PROJECT_CLIPS.face, { path: '/' });
  await waitUntilStylizing(page);

  const index = JSON.parse(readFileSync(join(root, 'models/packs/index.json'), 'utf8')) as { packs: { id: string }[] };
  const options = await page.locator('#pack option').evaluateAll((nodes) => nodes.map((node) => (node as HTMLOptionElement).value));
  expect(options).toEqual([...index.packs.map((pack) => pack.id), 'none']);
  expect((await demoState(page)).packId).toBe(index.packs[0]?.id ?? 'none');
  await expect(page.locator('#pack-preview')).toBeVisible();

  const overlay = page.locator('#overlay');
  await expect(overlay).toContainText('fps displayed');
  await expect(overlay).toContainText('fps stylized');
  for (const stage of ['tracking', 'encoder', 'generator', 'blend']) await expect(overlay).toContainText(stage);

  // Sliders drive the stylizer.
  await page.locator('#strength').fill('0.4');
  await expect(page.locator('#strength-value')).toHaveText('0.40');
  await page.locator('#exaggeration').fill('0.5');
  await expect(page.locator('#exaggeration-value')).toHaveText('0.50');

  // Before/after: the badge shows while the original is displayed.
  await page.locator('#before').check();
  await expect(page.locator('#badge')).toBeVisible();
  await page.locator('#output').click(); // keyboard focus off the checkbox: 'b' toggles back
  await page.keyboard.press('b');
  await expect(page.locator('#badge')).toBeHidden();

  // Switching to the base generator and back goes through setPack; the stream keeps running.
  await page.locator('#pack').selectOption('none');
  await page.waitForFunction(() => (window as any).faceStylizerDemo.packId === 'none');
  expect((await demoState(page)).errors).toEqual([]);
  await testInfo.attach('demo', { body: await page.screenshot(), contentType: 'image/png' });
});

test('demo: plays the sample clip when there is no camera', async ({ openPage }, testInfo) => {
  // The clip the demo falls back to is project-made (scripts/make-sample-clip.mjs), like the fake-camera clip.
  const clip = join(root, '.cache/media/sample-face.webm');
  test.skip(!existsSync(clip), `${clip} missing: rendered by \`npm run setup\` (needs ffmpeg)`);
  const page = await openPage(undefined, { path: '/', camera: false });
  await waitUntilStylizing(page);
  expect((await demoState(page)).source).toBe('clip');
  // Frames keep flowing from the clip (the 2 s fps window must clear start-up first).
  await page.waitForFunction(() => (window as any).faceStylizerDemo.lastStats.fps.displayed > 5, null, { timeout: 30_000 });
  await expect(page.locator('#status')).toContainText('sample clip');
  await testInfo.attach('demo-no-camera', { body: await page.screenshot(), contentType: 'image/png' });
});
