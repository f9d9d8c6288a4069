/**
 * The long-run check, reduced for CI (the full one: `npm run bench:longrun`, 200 cycles and 50
 * switches): create → stylize(camera) → close cycles and source switches in one page, renderer
 * memory (/proc of the renderer process, found through CDP) after the first 20 cycles and at the
 * end within 10 %, every cycle stylized, no uncaught exception (the shared fixture asserts that).
 */
import { rendererMemory } from '../scripts/lib/renderer-memory.mjs';
import { PROJECT_CLIPS, call, expect, test } from './fixtures';

const CYCLES_BEFORE = 20; // the renderer's caches fill during these (docs/reliability.md)
const CYCLES_AFTER = 20;
const SWITCHES = 10;

test('long run: create/close cycles and source switches keep renderer memory flat', async ({ openPage }, testInfo) => {
  test.setTimeout(900_000);
  const page = await openPage(PROJECT_CLIPS.face);
  const browser = page.context().browser();
  if (!browser) throw new Error('no browser');
  const checkpoints: Record<string, Awaited<ReturnType<typeof rendererMemory>>> = {};
  checkpoints.start = await rendererMemory(browser, page);
  const first = await call(page, 'createCloseCycles', { count: CYCLES_BEFORE });
  checkpoints[`after ${CYCLES_BEFORE} cycles`] = await rendererMemory(browser, page);
  const second = await call(page, 'createCloseCycles', { count: CYCLES_AFTER });
  await call(page, 'stopCycleCamera');
  checkpoints[`after ${CYCLES_BEFORE + CYCLES_AFTER} cycles`] = await rendererMemory(browser, page);
  const switches = await call(page, 'sourceSwitch', { switches: SWITCHES, secondsEach: 1.5 });
  checkpoints[`after ${SWITCHES} switches`] = await rendererMemory(browser, page);
  const rss = Object.fromEntries(Object.entries(checkpoints).map(([label, m]) => [label, Math.round(m.rssMB)]));
  const pss = Object.fromEntries(Object.entries(checkpoints).map(([label, m]) => [label, Math.round(m.pssMB)]));
  testInfo.annotations.push({ type: 'measured', description: JSON.stringify({ rssMB: rss, pssMB: pss, first, second, switchEvents: switches.events }) });

  for (const run of [first, second]) {
    expect(run.errors).toEqual([]);
    expect(run.unstylized, 'cycles without a stylized frame').toBe(0);
  }
  expect(switches.streamErrors).toEqual([]);
  expect(switches.events.filter((event: string) => event.startsWith('error') || event === 'warning:worker-fallback')).toEqual([]);
  expect(switches.phases.slice(1).filter((phase: { frames: number }) => phase.frames === 0), 'source phases without frames').toEqual([]);
  const at20 = checkpoints[`after ${CYCLES_BEFORE} cycles`] as { rssMB: number; pssMB: number };
  const end = checkpoints[`after ${SWITCHES} switches`] as { rssMB: number; pssMB: number };
  expect(end.rssMB / at20.rssMB, `renderer RSS at the end over after ${CYCLES_BEFORE} cycles (${JSON.stringify(rss)})`).toBeLessThanOrEqual(1.1);
  expect(end.pssMB / at20.pssMB, `renderer PSS at the end over after ${CYCLES_BEFORE} cycles (${JSON.stringify(pss)})`).toBeLessThanOrEqual(1.1);
});
