/**
 * WebGPU device loss mid-stream (SwiftShader WebGPU in Chromium): the stylizer runs on WebGPU,
 * every GPUDevice the page made is destroyed, and the stream must go on — a 'webgpu-device-lost'
 * warning, inference moved to WASM (onnxruntime-web's plain WASM build), stylized results still
 * coming, no error event and no stream error.
 */
import { PROJECT_CLIPS, call, expect, test } from './fixtures';

test('after WebGPU device loss the stream falls back to WASM and keeps stylizing', async ({ openPage }) => {
  const page = await openPage(PROJECT_CLIPS.face, { webgpu: true });
  expect(await call(page, 'hasWebGpu'), 'a WebGPU adapter (SwiftShader) in Chromium').toBe(true);
  const result = await call(page, 'deviceLoss', { secondsAfter: 8 });
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(result) });

  expect(result.before.provider).toBe('webgpu');
  expect(result.before.stylizedFrames).toBeGreaterThan(0);
  expect(result.before.devices, 'GPU devices recorded (onnxruntime-web made one)').toBeGreaterThan(0);
  expect(result.events).toContain('warning:webgpu-device-lost');
  expect(result.events.filter((event: string) => event.startsWith('error'))).toEqual([]);
  expect(result.streamError).toBeUndefined();
  expect(result.after.provider).toBe('wasm');
  expect(result.after.frames, 'frames displayed in the 8 s after the loss').toBeGreaterThanOrEqual(40);
  expect(result.after.stylizedFps, 'stylized results per second, 6–8 s after the loss').toBeGreaterThan(0);
});
