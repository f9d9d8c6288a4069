/**
 * Adaptive tracking: when the pipeline cannot keep the camera's rate (here the page's main
 * thread is kept busy 30 ms out of every 50), the landmarker runs on every other frame and the
 * frames between carry extrapolated landmarks; the face stays found and stylized. With
 * tracking: 'every-frame' the same load gives no predicted frame.
 */
import { PROJECT_CLIPS, call, expect, test } from './fixtures';

test('under load, alternate frames use extrapolated landmarks and the face stays stylized', async ({ openPage }) => {
  const page = await openPage(PROJECT_CLIPS.face);
  const adaptive = await call(page, 'live', { seconds: 5, busyMainThreadMs: 30 });
  const everyFrame = await call(page, 'live', { seconds: 5, busyMainThreadMs: 30, tracking: 'every-frame' });
  test.info().annotations.push({ type: 'measured', description: JSON.stringify({ adaptive, everyFrame }) });

  for (const run of [adaptive, everyFrame]) {
    expect(run.streamError).toBeUndefined();
    expect(run.events.filter((event: string) => event.startsWith('error'))).toEqual([]);
    expect(run.withFace / run.frames, 'share of frames with a face').toBeGreaterThanOrEqual(0.95);
    expect(run.stylized / run.frames, 'share of frames whose face is stylized').toBeGreaterThanOrEqual(0.8);
  }
  expect(adaptive.predicted, 'frames with extrapolated landmarks').toBeGreaterThan(0);
  expect(adaptive.predicted, 'never more than every other frame').toBeLessThanOrEqual(Math.ceil(adaptive.frames / 2));
  expect(everyFrame.predicted).toBe(0);
});
