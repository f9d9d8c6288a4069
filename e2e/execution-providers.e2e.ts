/**
 * WebGPU (SwiftShader, Chromium's CPU Vulkan) and WASM give the same stylized frame: the same
 * still frame, run in lockstep for the same number of frames on each provider.
 *
 * Tolerance, in 8-bit levels inside the face ovals: mean |Δ| ≤ 1, 99th percentile ≤ 2,
 * max ≤ 8. (Measured: the generator outputs differ by < 1e-6; the frames by mean 0.27,
 * p99 1, max 2 — the rest is the tracker's sub-pixel drift between runs, which is there
 * between two WASM runs too.) Outside the ovals both must equal the input exactly.
 */
import { PROJECT_CLIPS, attachPng, call, expect, test } from './fixtures';

const STEPS = 40;

test('WebGPU and WASM give the same output within tolerance', async ({ openPage }, testInfo) => {
  const page = await openPage(PROJECT_CLIPS.face, { webgpu: true });
  expect(await call(page, 'hasWebGpu'), 'a WebGPU adapter (SwiftShader) in Chromium').toBe(true);
  await call(page, 'captureFrames', { count: 1 });
  const webgpu = await call(page, 'lockstep', { executionProviders: ['webgpu'], keep: 'webgpu', totalSteps: STEPS });
  // The WASM proxy worker cannot start once WebGPU sessions exist in the page (onnxruntime-web's
  // mode is fixed per page), so WASM runs on the main thread here.
  const wasm = await call(page, 'lockstep', { executionProviders: ['wasm'], wasmProxy: false, keep: 'wasm', totalSteps: STEPS });
  await attachPng(testInfo, 'webgpu', webgpu.png);
  await attachPng(testInfo, 'wasm', wasm.png);
  expect(webgpu.provider).toBe('webgpu');
  expect(wasm.provider).toBe('wasm');
  expect(webgpu.events.filter((event: string) => !event.startsWith('state'))).toEqual([]);
  for (const run of [webgpu, wasm]) {
    expect(run.results[0].faces).toHaveLength(1);
    expect(run.results[0].faces[0].stylized).toBe(true);
    expect(run.results[0].outside.differing).toBe(0);
  }
  const diff = await call(page, 'compareOutputs', ['webgpu', 'wasm']);
  testInfo.annotations.push({ type: 'measured', description: JSON.stringify(diff) });
  expect(diff.facePixels).toBeGreaterThan(2000);
  expect(diff.meanAbs, 'mean |Δ| in the face, 8-bit levels').toBeLessThanOrEqual(1);
  expect(diff.p99, '99th percentile |Δ| in the face').toBeLessThanOrEqual(2);
  expect(diff.max, 'max |Δ| in the face').toBeLessThanOrEqual(8);
});
