/**
 * Style packs at runtime: a valid pack (the base-reconstruction stand-in) loads through the real
 * loader; broken packs are refused with a typed StylePackError while the current pack keeps
 * running; creating a stylizer with a corrupt pack fails at create().
 */
import { PROJECT_CLIPS, call, expect, test } from './fixtures';

const GOOD = '/assets/packs/base-reconstruction/';
const BAD = {
  '/assets/packs/e2e/corrupt/': { code: 'corrupt', file: 'generator.onnx' },
  '/assets/packs/e2e/truncated/': { code: 'truncated', file: 'generator.onnx' },
  '/assets/packs/e2e/foreign/': { code: 'foreign' },
  '/assets/packs/e2e/future/': { code: 'unsupported-version' },
  '/assets/packs/e2e/does-not-exist/': { code: 'network' },
  // Pass size and hash, but the generator is the encoder / not ONNX at all: refused before it replaces the running one.
  '/assets/packs/e2e/wrong-model/': { code: 'incompatible', file: 'generator.onnx' },
  '/assets/packs/e2e/garbage/': { code: 'corrupt', file: 'generator.onnx' },
} as const;
const CREATE_WITH = {
  '/assets/packs/e2e/corrupt/': { code: 'corrupt', file: 'generator.onnx' },
  '/assets/packs/e2e/wrong-model/': { code: 'incompatible', file: 'generator.onnx' },
  '/assets/packs/e2e/garbage/': { code: 'corrupt', file: 'generator.onnx' },
} as const;

test('a corrupt pack gives the typed StylePackError and the stream keeps running', async ({ openPage }) => {
  const page = await openPage(PROJECT_CLIPS.face);
  const result = await call(page, 'packSwitch', { good: GOOD, bad: Object.keys(BAD), createWith: Object.keys(CREATE_WITH) });
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(result) });

  for (const [url, expected] of Object.entries(CREATE_WITH)) {
    expect(result.creates[url], `create({pack: ${url}})`).toMatchObject({ name: 'StylePackError', isStylePackError: true, ...expected });
  }
  expect(result.packAfterGood).toBe('base-reconstruction');
  for (const [url, expected] of Object.entries(BAD)) {
    expect(result.rejections[url], url).toMatchObject({ name: 'StylePackError', isStylePackError: true, ...expected });
  }
  // The good pack is still the one running, and the stream never stopped.
  expect(result.packAfterBad).toBe('base-reconstruction');
  expect(result.streamError).toBeUndefined();
  expect(result.events.filter((event: string) => event.startsWith('error'))).toEqual([]);
  expect(result.after.frames, 'frames displayed in the 2.5 s after the refusals').toBeGreaterThanOrEqual(15);
  expect(result.statsAfter.stylized, 'stylized results per second after the refusals').toBeGreaterThan(0);
});

test('concurrent setPack calls: the last call wins, the others reject as superseded', async ({ openPage }) => {
  const page = await openPage(PROJECT_CLIPS.face);
  const packs = ['/assets/packs/base-reconstruction/', '/assets/packs/anime/', '/assets/packs/sketch/', null, '/assets/packs/pixar-3d/', '/assets/packs/arcane/'];
  const ids = new Map(packs.map((url) => [url, url === null ? null : url.split('/').at(-2)]));
  const result = await call(page, 'packRace', { urls: packs, rounds: 6 });
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(result) });
  expect(result.rounds).toHaveLength(6);
  for (const round of result.rounds) {
    const last = round.order.length - 1;
    expect(round.outcomes[last], `the last call (${round.order[last]})`).toBe('resolved');
    for (const outcome of round.outcomes.slice(0, last)) expect(outcome).toMatchObject({ name: 'FaceStylizerError', code: 'superseded', isFaceStylizerError: true });
    expect(round.active, 'the active pack after the round').toBe(ids.get(round.order[last]));
  }
  expect(result.events.filter((event: string) => event.startsWith('error'))).toEqual([]);
});

test('<face-stylizer> declared in HTML starts one pipeline', async ({ openPage, requestedUrls }) => {
  const page = await openPage(PROJECT_CLIPS.face, { path: '/e2e/element.html' });
  await page.waitForFunction(() => (window as any).elementRun.events.some((e: { type: string }) => e.type === 'ready' || e.type === 'error'), undefined, { timeout: 120_000 });
  await page.waitForFunction(() => (window as any).elementRun.events.some((e: { state?: string }) => e.state === 'stylizing'), undefined, { timeout: 60_000 });
  await page.waitForTimeout(2000); // a second or third pipeline would have started by now
  const run = await page.evaluate(() => (window as any).elementRun);
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(run) });
  expect(run.events.filter((e: { type: string }) => e.type === 'error')).toEqual([]);
  expect(run.events.filter((e: { type: string }) => e.type === 'ready')).toHaveLength(1);
  expect([...run.workers].sort()).toEqual(['face-stylizer inference', 'face-stylizer tracking']);
  const fetched = (suffix: string) => requestedUrls.filter((url) => url.endsWith(suffix)).length;
  expect(fetched('/assets/models/base/encoder.onnx'), 'encoder downloads').toBe(1);
  expect(fetched('/assets/mediapipe/face_landmarker.task'), 'landmarker downloads').toBe(1);
  expect(fetched('/assets/packs/base-reconstruction/manifest.json'), 'pack manifest downloads').toBe(1);
});
