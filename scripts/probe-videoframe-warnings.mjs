#!/usr/bin/env node
// Where Chromium's "A VideoFrame was garbage collected without being closed" warning comes from
// (issue 14, fault 10). One page, the fake camera, N cycles of one probe; every VideoFrame the
// page's JavaScript can see (read from a processor, cloned, constructed) is registered with a
// FinalizationRegistry, and one that is collected unclosed is reported with the stack that made
// it — so a warning without such a report comes from a frame the page never saw.
//
// Probes:
//   stylizer     FaceStylizer.create + stylize(camera) for 1.5 s + close (workers off: all on the page)
//   track-gl     the SDK's trackFrames, each frame uploaded to WebGL (texImage2D), unsubscribed
//   track-busy   the SDK's trackFrames, 3 ms of work per frame, unsubscribed
//   plain        no SDK code: a MediaStreamTrackProcessor on a clone of the track, 3 ms per frame,
//                every frame closed, the clone stopped and the stream read to its end
//   control      like track-busy, but one clone per 40 frames is left unclosed: the method's check
//                (each must show as a warning and as a page-visible unclosed frame)
//
// Usage: node scripts/probe-videoframe-warnings.mjs PROBE [CYCLES=30]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { UNCLOSED_VIDEOFRAME_WARNING, chromiumArgs } from './lib/chromium.mjs';
import { startDemoServer } from './serve-demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [probe = 'stylizer', cyclesArg = '30'] = process.argv.slice(2);
const server = await startDemoServer({ mounts: { '/sdk/': join(root, 'packages/sdk/dist'), '/e2e/': join(root, 'e2e/pages') } });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs({ fakeCameraFile: join(root, '.cache/media/sample-face.mjpeg') }) });
try {
  const page = await browser.newPage();
  let warnings = 0;
  page.on('console', (message) => {
    if (UNCLOSED_VIDEOFRAME_WARNING.test(message.text())) warnings++;
  });
  await page.addInitScript(trackEveryVideoFrame);
  await page.goto(`${server.url}/e2e/harness.html`);
  await page.waitForFunction(() => window.e2eReady === true);
  const frames = await page.evaluate(runProbe, [probe, Number(cyclesArg)]);
  const cdp = await page.context().newCDPSession(page);
  for (let i = 0; i < 3; i++) {
    await cdp.send('HeapProfiler.collectGarbage');
    await page.waitForTimeout(500);
  }
  await page.waitForTimeout(12000); // the warning comes from Chromium's periodic audit, not at collection
  const unclosed = await page.evaluate(() => window.unclosedFrameStacks);
  console.log(`${probe}: ${cyclesArg} cycles, ${frames} frames, ${warnings} warning(s), ${unclosed.length} page-visible frame(s) collected unclosed`);
  for (const stack of new Set(unclosed)) console.log(`  ${unclosed.filter((s) => s === stack).length}× ${stack}`);
} finally {
  await browser.close();
  await server.close();
}

/** Init script: registers every VideoFrame the page's JS receives or makes. */
function trackEveryVideoFrame() {
  window.unclosedFrameStacks = [];
  const registry = new FinalizationRegistry((info) => info.closed || window.unclosedFrameStacks.push(info.stack));
  const infos = new WeakMap();
  const watch = (frame, how) => {
    if (!(frame instanceof VideoFrame)) return frame;
    const info = { closed: false, stack: `${how}: ${new Error().stack.split('\n').slice(2, 8).join(' | ')}` };
    infos.set(frame, info);
    registry.register(frame, info);
    return frame;
  };
  const markClosed = (frame) => infos.has(frame) && (infos.get(frame).closed = true);
  const { close, clone } = VideoFrame.prototype;
  VideoFrame.prototype.close = function () { markClosed(this); return close.call(this); };
  VideoFrame.prototype.clone = function () { return watch(clone.call(this), 'clone'); };
  window.VideoFrame = new Proxy(VideoFrame, { construct: (target, args) => watch(Reflect.construct(target, args), 'new') });
  const { read } = ReadableStreamDefaultReader.prototype;
  ReadableStreamDefaultReader.prototype.read = function () { return read.call(this).then((result) => (watch(result.value, 'read'), result)); };
  const { postMessage } = Worker.prototype;
  Worker.prototype.postMessage = function (message, transfer) { (transfer ?? []).forEach(markClosed); return postMessage.call(this, message, transfer); };
}

/** In the page: `cycles` cycles of `probe`; returns the number of frames handled. */
async function runProbe([probe, cycles]) {
  const { sdk } = window.e2e;
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const track = stream.getVideoTracks()[0];
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const busy = (ms) => { for (const start = performance.now(); performance.now() - start < ms; ); };
  let frames = 0;
  for (let i = 0; i < cycles; i++) {
    const duration = 1500 + Math.random() * 100;
    if (probe === 'stylizer') {
      const stylizer = await sdk.FaceStylizer.create({ assetBase: '/assets/', executionProviders: ['wasm'], packCache: false, trackingWorker: false, wasmWorker: false });
      const subscription = stylizer.stylize(stream).subscribe(() => frames++);
      await sleep(duration);
      subscription.unsubscribe();
      await stylizer.close();
    } else if (probe === 'track-gl' || probe === 'track-busy' || probe === 'control') {
      const gl = document.createElement('canvas').getContext('webgl2');
      gl.bindTexture(gl.TEXTURE_2D, gl.createTexture());
      const subscription = sdk.trackFrames(track).subscribe(({ image }) => {
        frames++;
        if (probe === 'track-gl') gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, image);
        else busy(3);
        if (probe === 'control' && frames % 40 === 20) image.clone(); // never closed
      });
      await sleep(duration);
      subscription.unsubscribe();
    } else if (probe === 'plain') {
      const clone = track.clone();
      const reader = new MediaStreamTrackProcessor({ track: clone, maxBufferSize: 1 }).readable.getReader();
      const start = performance.now();
      for (;;) {
        if (clone.readyState === 'live' && performance.now() - start > duration) clone.stop();
        const { value, done } = await reader.read();
        if (done) break;
        busy(3);
        value.close();
        frames++;
      }
    } else {
      throw new Error(`unknown probe ${probe}`);
    }
  }
  track.stop();
  return frames;
}
