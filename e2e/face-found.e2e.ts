/**
 * The face is found, tracked and stylized in talking-head clips, through the normal path:
 * stylize(camera MediaStream) with the fake camera playing the clip.
 */
import { PROJECT_CLIPS, SHARED_CLIPS, call, expect, test } from './fixtures';

for (const clip of [PROJECT_CLIPS.face, PROJECT_CLIPS.generatedFace, ...SHARED_CLIPS.talking]) {
  test(`face found and stylized in ${clip}`, async ({ openPage }) => {
    const page = await openPage(clip);
    // Counted for 5 s from the first stylized frame (start-up and the first inference excluded).
    const run = await call(page, 'live', { seconds: 5 });
    test.info().annotations.push({ type: 'measured', description: JSON.stringify(run) });
    expect(run.streamError).toBeUndefined();
    expect(run.events.filter((event: string) => event.startsWith('error'))).toEqual([]);
    expect(run.events).toContain('state:stylizing');
    expect(run.frames, 'displayed frames in 5 s').toBeGreaterThanOrEqual(25);
    expect(run.withFace / run.frames, 'share of frames with a tracked face').toBeGreaterThanOrEqual(0.95);
    // A frame's face is unstylized only until the first result for a new track id (after a track
    // loss): at ~3 results/s on this loaded machine, one loss costs ~5 % of the window.
    expect(run.stylized / run.frames, 'share of frames whose face is stylized').toBeGreaterThanOrEqual(0.8);
    expect(run.maxFaces).toBe(1);
    expect(run.fps.stylized, 'stylized results per second').toBeGreaterThan(0);
  });
}
