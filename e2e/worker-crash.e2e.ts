/**
 * The SDK's workers failing mid-stream: the tracking worker, then the inference worker, get an
 * `error` event (what a crashed worker delivers). Each time the work moves to the page's thread
 * with a `worker-fallback` warning, and the stream keeps showing stylized frames.
 */
import { PROJECT_CLIPS, call, expect, test } from './fixtures';

test('when the tracking and inference workers fail, the stream goes on on the page\'s thread', async ({ openPage }) => {
  const page = await openPage(PROJECT_CLIPS.face);
  const result = await call(page, 'workerCrash', { secondsAfter: 6 });
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(result) });
  expect(result.streamError).toBeUndefined();
  expect(result.events.filter((event: string) => event.startsWith('error'))).toEqual([]);
  expect(result.events).toContain('warning:worker-fallback');
  expect(result.provider).toBe('wasm');
  for (const which of ['tracking', 'inference']) {
    const phase = result.phases[which];
    expect(phase.found, `the ${which} worker was started`).toBe(true);
    expect(phase.frames, `frames shown in the 6 s after the ${which} worker failed`).toBeGreaterThanOrEqual(30);
    expect(phase.stylized, `stylized frames shown in the 6 s after the ${which} worker failed`).toBeGreaterThanOrEqual(15);
  }
  expect(result.stylizedFps, 'stylized results per second at the end, on the page\'s thread').toBeGreaterThan(0);
});
