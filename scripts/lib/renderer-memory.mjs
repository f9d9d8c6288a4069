// Renderer memory of a Chromium page (the long-run check): the renderer process's resident and
// proportional set size from /proc, found through CDP (SystemInfo.getProcessInfo), after a forced
// garbage collection of the page's heap. Dedicated workers (tracking, inference, onnxruntime-web's
// and MediaPipe's WASM heaps) live in the renderer process, so their memory counts here.
import { readFileSync } from 'node:fs';

const kB = (text, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);

/**
 * @param {import('playwright-core').Browser} browser
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{ pids: number[], rssMB: number, pssMB: number, jsHeapMB: number }>}
 */
export async function rendererMemory(browser, page, { settleMs = 1500, purgeCaches = false } = {}) {
  const pageSession = await page.context().newCDPSession(page);
  if (purgeCaches) await pageSession.send('Memory.simulatePressureNotification', { level: 'critical' });
  await pageSession.send('HeapProfiler.collectGarbage');
  await new Promise((resolve) => setTimeout(resolve, settleMs)); // terminated workers' threads wind down
  await pageSession.send('HeapProfiler.collectGarbage');
  const { usedSize } = await pageSession.send('Runtime.getHeapUsage');
  await pageSession.detach();
  const browserSession = await browser.newBrowserCDPSession();
  const { processInfo } = await browserSession.send('SystemInfo.getProcessInfo');
  await browserSession.detach();
  const pids = processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      rss += kB(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
      pss += kB(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
    } catch {
      // exited meanwhile (a process of a closed page)
    }
  }
  return { pids, rssMB: rss / 1024, pssMB: pss / 1024, jsHeapMB: usedSize / 2 ** 20 };
}
