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
} as const;

test('a corrupt pack gives the typed StylePackError and the stream keeps running', async ({ openPage }) => {
  const page = await openPage(PROJECT_CLIPS.face);
  const result = await call(page, 'packSwitch', { good: GOOD, bad: Object.keys(BAD), createWith: '/assets/packs/e2e/corrupt/' });
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(result) });

  expect(result.create).toMatchObject({ name: 'StylePackError', code: 'corrupt', file: 'generator.onnx', isStylePackError: true });
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
