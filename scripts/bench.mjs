#!/usr/bin/env node
// The benchmark (`npm run bench`): a 640×480 clip with one face as Chromium's fake camera, the
// WASM execution provider, in headless Debian Chromium. In one run it measures
//   1. the camera's own frame rate, and again while the pipeline runs (a clone of its track, read
//      with a deep buffer: the fake camera shares the 2 cores and delivers less under load);
//   2. face tracking alone (the SDK's FaceTracker on every camera frame): fps and ms;
//   3. the full pipeline (FaceStylizer.stylize(camera)) for --frames N displayed frames:
//      per-stage p50/p95 ms (every sample the SDK records), displayed and stylized fps, their
//      ratio to tracking alone and displayed over the camera's rate meanwhile, heap at start / during / end (CDP, after a forced GC; plus
//      performance.measureUserAgentSpecificMemory, which includes onnxruntime-web's worker),
//      errors and warnings;
//   4. the SDK's JavaScript size, gzip (bundle, and the JS glue loaded from the asset base).
//
// Usage: npm run bench -- [--clip sample-face] [--frames 600] [--tracking-seconds 10] [--y4m] [--json]
//   --clip NAME   a clip in .cache/media (NAME.mjpeg); the default is the project-made
//                 sample-face (set-up renders it); talking-1 etc. exist when ../shared is there
//   --frames N    displayed frames measured after warm-up (the 10,000-frame soak: --frames 10000)
//   --renderer R, --tracking T, --no-worker, --no-tracking-worker, --wasm-threads N, --detail D, --grade G, --color-match M, --tracking-max-width W,
//                 --pack ID (a style pack of models/packs; default: the base generator, the same cost per face)
//                 FaceStylizer options, for A/B runs (defaults: the SDK's)
//   --video-element  the camera through a <video> (the path without insertable streams)
//   --y4m         feed the fake camera raw I420 frames (NAME.y4m, made from NAME.mjpeg on first use)
//                 instead of MJPEG: Chromium's fake camera then does no JPEG decoding, which at
//                 1280×720 costs it a core share that a real webcam's driver or USB MJPEG decoder
//                 would not take from the page's two cores
// Writes the full result to .cache/bench/CLIP-FRAMES[-y4m].json.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { chromiumArgs } from './lib/chromium.mjs';
import { convertUnlessUpToDate } from './lib/ffmpeg.mjs';
import { chromiumThreadTimes, cpuByRole } from './lib/process-cpu.mjs';
import { demoMounts, startDemoServer } from './serve-demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const clip = option('--clip', 'sample-face');
const frames = Number(option('--frames', 600));
const trackingSeconds = Number(option('--tracking-seconds', 10));
const asJson = args.includes('--json');
// FaceStylizer options to compare (A/B runs): --renderer auto|webgl|canvas2d, --tracking adaptive|every-frame,
// --no-worker (WASM on the page's thread), --no-tracking-worker, --wasm-threads N, --detail D, --grade G, --tracking-max-width W; and the source:
// --video-element (the camera through a <video>, the path without insertable streams).
const videoElement = args.includes('--video-element');
const stylizerOptions = {
  ...(option('--renderer') ? { renderer: option('--renderer') } : {}),
  ...(option('--tracking') ? { tracking: option('--tracking') } : {}),
  ...(args.includes('--no-worker') ? { wasmWorker: false } : {}),
  ...(args.includes('--no-tracking-worker') ? { trackingWorker: false } : {}),
  ...(option('--wasm-threads') ? { wasmThreads: Number(option('--wasm-threads')) } : {}),
  ...(option('--detail') ? { detail: Number(option('--detail')) } : {}),
  ...(option('--grade') ? { grade: Number(option('--grade')) } : {}),
  ...(option('--color-match') ? { colorMatch: option('--color-match') } : {}),
  ...(option('--pack') ? { pack: option('--pack') } : {}),
  ...(option('--tracking-max-width') ? { trackingMaxWidth: Number(option('--tracking-max-width')) } : {}),
};

const mjpegFile = join(root, '.cache/media', `${clip}.mjpeg`);
if (!existsSync(mjpegFile)) {
  console.error(`bench: ${mjpegFile} not found (npm run setup renders sample-face; real clips need ../shared/data/videos)`);
  process.exit(2);
}
const clipFile = args.includes('--y4m') ? rawClip(mjpegFile) : mjpegFile;
for (const built of ['packages/sdk/dist/face-stylizer.bundle.js', 'models/base/contract.json']) {
  if (!existsSync(join(root, built))) {
    console.error(`bench: ${built} missing (npm run setup && npm run build)`);
    process.exit(2);
  }
}

const log = (...parts) => asJson || console.log(...parts);
const benchMounts = { '/sdk/': join(root, 'packages/sdk/dist'), '/bench/': join(root, 'scripts/bench') };
const server = await startDemoServer({ mounts: benchMounts });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  // Eager measureUserAgentSpecificMemory (else it waits for the next natural GC).
  args: [...chromiumArgs({ fakeCameraFile: clipFile }), '--enable-blink-features=ForceEagerMeasureMemory'],
});
const result = { clip, source: clipFile.endsWith('.y4m') ? 'y4m' : 'mjpeg', frames, machine: machine(), startedAt: new Date().toISOString() };
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const cdp = await page.context().newCDPSession(page);
  await page.exposeFunction('benchHeap', async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    const uaMemory = await page
      .evaluate(async () => {
        if (!performance.measureUserAgentSpecificMemory) return undefined;
        const m = await performance.measureUserAgentSpecificMemory();
        const workers = m.breakdown.filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((s, b) => s + b.bytes, 0);
        return { bytes: m.bytes, workerBytes: workers };
      })
      .catch(() => undefined);
    return { mainHeapMB: usedSize / 2 ** 20, ...(uaMemory ? { agentMB: uaMemory.bytes / 2 ** 20, workerMB: uaMemory.workerBytes / 2 ** 20 } : {}) };
  });
  await page.goto(`${server.url}/bench/index.html`);
  await page.waitForFunction(() => window.benchReady === true);

  log(`bench: clip ${clip}, WASM EP, ${frames} frames; ${result.machine.note}`);
  result.camera = await page.evaluate(() => window.bench.cameraRate(3));
  log(`camera: ${result.camera.width}×${result.camera.height} at ${result.camera.fps.toFixed(1)} fps`);
  result.tracking = await page.evaluate((seconds) => window.bench.trackingAlone(seconds), trackingSeconds);
  log(`tracking alone: ${result.tracking.fps.toFixed(1)} fps (detect p50 ${result.tracking.detectMs.p50.toFixed(1)} ms)`);
  log('pipeline: running…');
  const cpuBefore = chromiumThreadTimes();
  const pipelineStart = performance.now();
  let cpuAfter;
  let pipelineEnd;
  // The page marks the end of the measured frames, before closing the stylizer ends the workers' threads.
  await page.exposeFunction('benchCpuMark', () => {
    cpuAfter = chromiumThreadTimes();
    pipelineEnd = performance.now();
  });
  result.pipeline = await page.evaluate(([n, options, viaVideo]) => window.bench.pipeline({ frames: n, options, videoElement: viaVideo }), [frames, stylizerOptions, videoElement]);
  const cpu = cpuByRole(cpuBefore, cpuAfter);
  if (cpu) result.cpu = { seconds: (pipelineEnd - pipelineStart) / 1000, byRole: cpu };
  result.pageErrors = errors;
  result.bundle = bundleSizes(server.requests);
} finally {
  await browser.close();
  await server.close();
}

const p = result.pipeline;
const heap = p.heap;
const firstHeap = heap[0];
const lastHeap = heap[heap.length - 1];
const growth = (key) => (firstHeap?.[key] && lastHeap?.[key] !== undefined ? (100 * (lastHeap[key] - firstHeap[key])) / firstHeap[key] : undefined);
result.summary = {
  cameraFpsDuringPipeline: p.cameraFps,
  displayedFps: p.displayedFps,
  displayedOverCamera: p.cameraFps ? p.displayedFps / p.cameraFps : undefined,
  stylizedFps: p.stylizedFps,
  trackingFps: result.tracking.fps,
  displayedOverTracking: p.displayedFps / result.tracking.fps,
  stylizedOverTracking: p.stylizedFps / result.tracking.fps,
  mainHeapGrowthPercent: growth('mainHeapMB'),
  agentMemoryGrowthPercent: growth('agentMB'),
  errors: p.events.errors.length + (p.streamError ? 1 : 0) + result.pageErrors.length,
};
mkdirSync(join(root, '.cache/bench'), { recursive: true });
const out = join(root, '.cache/bench', `${clip}-${frames}${result.source === 'y4m' ? '-y4m' : ''}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

if (asJson) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const f = (v, d = 1) => (v === undefined ? '—' : v.toFixed(d));
  console.log(`\npipeline on ${p.provider} (created in ${f(p.createMs / 1000)} s): ${p.frames} frames in ${f(p.seconds)} s, face in ${f(100 * p.faceFraction)} % of frames`);
  console.log('\nstage         p50 ms   p95 ms   samples');
  // Stages with samples, in bench.js's STAGES order.
  for (const [stage, s] of Object.entries(p.stages)) {
    console.log(`${stage.padEnd(12)} ${f(s.p50, 2).padStart(7)}  ${f(s.p95, 2).padStart(7)}   ${s.n}`);
  }
  console.log(`\nfps: camera ${f(result.camera.fps)} (${f(p.cameraFps)} during the pipeline), displayed ${f(p.displayedFps)}, stylized ${f(p.stylizedFps)}; tracking alone ${f(result.tracking.fps)}`);
  console.log(`ratio to tracking alone: displayed ${f(result.summary.displayedOverTracking, 2)}, stylized ${f(result.summary.stylizedOverTracking, 2)}; displayed / camera during the pipeline ${f(result.summary.displayedOverCamera, 3)}`);
  console.log(`dropped: ${JSON.stringify(p.dropped)}`);
  if (result.cpu) {
    // Includes creating the stylizer and the warm-up frames: a profile, not a per-frame cost.
    const { seconds, byRole } = result.cpu;
    const cores = (s) => f(s / seconds, 2);
    const total = byRole.rendererMain + byRole.workers + byRole.rendererOther + byRole.gpuProcess + byRole.other;
    // Chromium names every worker thread alike: per thread, not by role (the inference worker is the busier one).
    const workers = `workers ${cores(byRole.workers)}` + (byRole.workerThreads.length > 1 ? ` (per thread ${byRole.workerThreads.map((t) => cores(t.seconds)).join(' + ')})` : '');
    console.log(
      `Chromium CPU during the pipeline phase: ${cores(total)} cores — page main thread ${cores(byRole.rendererMain)}, ` +
        `${workers}, other page threads ${cores(byRole.rendererOther)}, GPU process ${cores(byRole.gpuProcess)}, other ${cores(byRole.other)}`,
    );
  }
  console.log(
    `heap (after GC): main ${f(firstHeap?.mainHeapMB, 2)} → ${f(lastHeap?.mainHeapMB, 2)} MB (${f(result.summary.mainHeapGrowthPercent)} %)` +
      (firstHeap?.agentMB !== undefined ? `; page + workers ${f(firstHeap.agentMB, 2)} → ${f(lastHeap.agentMB, 2)} MB (${f(result.summary.agentMemoryGrowthPercent)} %)` : ''),
  );
  console.log(`heap samples (frame: main MB): ${heap.map((h) => `${h.frame}: ${f(h.mainHeapMB, 2)}`).join(', ')}`);
  console.log(`errors: ${result.summary.errors}; warnings: ${JSON.stringify(p.events.warnings)}`);
  const b = result.bundle;
  console.log(`\nSDK JavaScript, gzip: ${f(b.sdkLoadedGzip / 1024)} KB loaded by this run (${b.sdkLoaded.join(', ')}); ${f(b.sdkShippedGzip / 1024)} KB shipped in all (bundle, chunks, workers); library ${f(b.libraryGzip / 1024)} KB (dist/index.js, dependencies external)`);
  console.log(`  + third-party WASM glue from the asset base: ${f(b.runtimeGlueGzip / 1024)} KB (${b.runtimeGlue.join(', ')})`);
  console.log(`\nfull result: ${out}`);
}

/**
 * Sizes of the SDK's JavaScript, gzip -9: what this run loaded of it (the entry bundle, its
 * chunks, the workers), everything it ships, and the third-party WASM glue (Emscripten .js/.mjs
 * from the asset base) the run fetched.
 */
function bundleSizes(requests) {
  const gz = (path) => gzipSync(readFileSync(path), { level: 9 }).length;
  const mounts = { ...demoMounts(), ...benchMounts }; // what the server served, by URL prefix
  const fileOf = (path) => {
    const prefix = Object.keys(mounts).sort((a, b) => b.length - a.length).find((m) => path.startsWith(m));
    return prefix ? join(mounts[prefix], path.slice(prefix.length)) : undefined;
  };
  const scripts = [...new Set(requests.filter((path) => /\.m?js$/.test(path)))];
  const sdkLoaded = scripts.filter((path) => path.startsWith('/sdk/') || path.startsWith('/assets/sdk/'));
  const glue = scripts.filter((path) => path.startsWith('/assets/') && !path.startsWith('/assets/sdk/'));
  const dist = join(root, 'packages/sdk/dist');
  const shipped = [
    join(dist, 'face-stylizer.bundle.js'),
    ...readdirSync(join(dist, 'chunks')).filter((name) => name.endsWith('.js')).map((name) => join(dist, 'chunks', name)),
    ...readdirSync(join(dist, 'worker')).filter((name) => name.endsWith('.js')).map((name) => join(dist, 'worker', name)),
  ];
  const total = (files) => files.reduce((sum, file) => sum + gz(file), 0);
  return {
    sdkLoaded,
    sdkLoadedGzip: total(sdkLoaded.map(fileOf).filter(Boolean)),
    sdkShippedGzip: total(shipped),
    libraryGzip: gz(join(dist, 'index.js')),
    runtimeGlue: glue,
    runtimeGlueGzip: total(glue.map(fileOf).filter(Boolean)),
  };
}

function machine() {
  const cpu = cpus();
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {}
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: load,
    note: `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${load}`,
  };
}

/** NAME.y4m beside NAME.mjpeg (raw I420, ~1.4 MB a frame at 1280×720, 30 fps like the
 * fake camera's MJPEG), made by ffmpeg unless up to date. */
function rawClip(mjpeg) {
  const y4m = mjpeg.replace(/\.mjpeg$/, '.y4m');
  try {
    convertUnlessUpToDate(mjpeg, y4m, { inputArgs: ['-framerate', '30'], outputArgs: ['-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe'] });
  } catch (e) {
    console.error(`bench: ${e.message}`);
    process.exit(2);
  }
  return y4m;
}
