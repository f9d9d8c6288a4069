/**
 * No network request beyond the configured asset base: after the page itself has loaded, every
 * request the SDK makes — creating the stylizer, running the camera stream, switching packs —
 * is under /assets/, both as the browser saw it (page and worker requests) and as the server
 * received it. (Every other test also checks that nothing leaves the page's origin.)
 *
 * One exception, by design of onnxruntime-web: its WASM proxy worker is started from the URL of
 * the module that contains onnxruntime-web — here the SDK bundle the page itself loaded — so
 * that script is requested once more. It is the application's own script, not a new resource.
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
  const sdkScript = `${server.url}/sdk/face-stylizer.bundle.js`;
  expect(sdkRequests.filter((url) => !url.startsWith(assetBase) && url !== sdkScript), 'browser requests outside the asset base').toEqual([]);
  expect(received.filter((path) => !path.startsWith('/assets/') && path !== new URL(sdkScript).pathname), 'server requests outside the asset base').toEqual([]);
  // The CPU path runs onnxruntime-web's plain WASM build; the WebGPU build (asyncify, ~2.3×
  // slower on CPU) is not even fetched when WebGPU is not used.
  const ortFiles = requestedUrls.filter((url) => url.startsWith(`${assetBase}ort/`)).map((url) => url.slice(`${assetBase}ort/`.length));
  expect(ortFiles, 'onnxruntime-web files requested').toContain('ort-wasm-simd-threaded.wasm');
  expect(ortFiles.filter((name) => /asyncify|jsep|jspi/.test(name)), 'WebGPU-build files requested').toEqual([]);
  // The recording works: the SDK's own assets are all in it.
  for (const asset of ['mediapipe/face_landmarker.task', 'mediapipe/wasm/', 'ort/', 'models/base/contract.json', 'models/base/encoder.onnx', 'packs/base-reconstruction/manifest.json']) {
    expect(received.some((path) => path.startsWith(`/assets/${asset}`)), `request for ${asset}`).toBe(true);
  }
});
