/**
 * No network request beyond the configured asset base: after the page itself has loaded, every
 * request the SDK makes — creating the stylizer, running the camera stream, switching packs —
 * is under /assets/, both as the browser saw it (page and worker requests) and as the server
 * received it. (Every other test also checks that nothing leaves the page's origin.) The SDK
 * bundle's own lazily loaded chunks (/sdk/chunks/) are the application's code, not resources; on
 * this path none is needed: tracking and inference run in the workers from the asset base.
 */
import { PROJECT_CLIPS, call, expect, test } from './fixtures';

test('the SDK requests nothing outside the asset base', async ({ openPage, requestedUrls, server }) => {
  const page = await openPage(PROJECT_CLIPS.face);
  const pageLoad = requestedUrls.length;
  const serverBefore = server.requests.length;
  await call(page, 'packSwitch', { good: '/assets/packs/base-reconstruction/', bad: [] });
  const sdkRequests = requestedUrls.slice(pageLoad);
  const received = server.requests.slice(serverBefore);

  const assetBase = `${server.url}/assets/`;
  expect(sdkRequests.filter((url) => !url.startsWith(assetBase)), 'browser requests outside the asset base').toEqual([]);
  expect(received.filter((path) => !path.startsWith('/assets/')), 'server requests outside the asset base').toEqual([]);
  // The CPU path runs onnxruntime-web's plain WASM build; the WebGPU build (asyncify, ~2.3×
  // slower on CPU) is not even fetched when WebGPU is not used.
  const ortFiles = requestedUrls.filter((url) => url.startsWith(`${assetBase}ort/`)).map((url) => url.slice(`${assetBase}ort/`.length));
  expect(ortFiles, 'onnxruntime-web files requested').toContain('ort-wasm-simd-threaded.wasm');
  expect(ortFiles.filter((name) => /asyncify|jsep|jspi/.test(name)), 'WebGPU-build files requested').toEqual([]);
  // The recording works: the SDK's own assets are all in it.
  for (const asset of [
    'mediapipe/face_landmarker.task', 'mediapipe/wasm/', 'ort/', 'sdk/tracking-worker.js', 'sdk/inference-worker.js',
    'models/base/contract.json', 'models/base/encoder.onnx', 'packs/base-reconstruction/manifest.json',
  ]) {
    expect(received.some((path) => path.startsWith(`/assets/${asset}`)), `request for ${asset}`).toBe(true);
  }
});
