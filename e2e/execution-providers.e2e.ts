/**
 * WebGPU (SwiftShader, Chromium's CPU Vulkan) and WASM give the same output.
 *
 * 1. The models: encoder and generator on both providers, same input, every output within
 *    1e-3 (max |Δ|; values are O(1)).
 * 2. The stylized frame: the same still frame, run in lockstep for the same number of frames
 *    on each provider, and a second time on WASM. The shown face is the latest generator
 *    result re-warped to the current frame, and on a still frame the tracker's landmarks are
 *    still settling by a fraction of a pixel during the run; WebGPU on SwiftShader is several
 *    times slower than WASM, so its latest result comes from an earlier crop. Two WASM runs
 *    agree to well under a level; WebGPU vs WASM differed by mean 1.17–1.44 levels with the
 *    sharper second base model (0.77 with the first). Inside the face ovals: mean |Δ| ≤
 *    max(2, 2 × the WASM-vs-WASM mean) and 99th percentile ≤ max(24, 2 × its p99); a wrong
 *    kernel or a mix-up of weights costs tens of levels (and fails part 1). Outside the ovals
 *    every run must equal the input exactly.
 */
import { PROJECT_CLIPS, attachPng, call, expect, test } from './fixtures';

const STEPS = 40;

test('WebGPU and WASM give the same output within tolerance', async ({ openPage }, testInfo) => {
  const page = await openPage(PROJECT_CLIPS.face, { webgpu: true });
  expect(await call(page, 'hasWebGpu'), 'a WebGPU adapter (SwiftShader) in Chromium').toBe(true);
  const parity = await call(page, 'modelParity');
  testInfo.annotations.push({ type: 'model max |Δ|', description: JSON.stringify(parity) });
  for (const [output, maxAbs] of Object.entries(parity)) expect(maxAbs, `${output}: max |Δ| WebGPU vs WASM`).toBeLessThanOrEqual(1e-3);
  await call(page, 'captureFrames', { count: 1 });
  // Camera detail off (detail: 0): this compares the providers; the detail's own parity is tested
  // in blend.e2e.ts. (It was turned off when p99 18 was first seen; the same 18 came with it
  // off, so it was not the cause: see the p99 bound below.)
  const webgpu = await call(page, 'lockstep', { executionProviders: ['webgpu'], keep: 'webgpu', totalSteps: STEPS, detail: 0 });
  // Default options: WASM runs onnxruntime-web's plain WASM build in the SDK's inference worker,
  // next to the WebGPU build that already runs in this page.
  const wasm = await call(page, 'lockstep', { executionProviders: ['wasm'], keep: 'wasm', totalSteps: STEPS, detail: 0 });
  const wasmAgain = await call(page, 'lockstep', { executionProviders: ['wasm'], keep: 'wasm-again', totalSteps: STEPS, detail: 0 });
  await attachPng(testInfo, 'webgpu', webgpu.png);
  await attachPng(testInfo, 'wasm', wasm.png);
  expect(webgpu.provider).toBe('webgpu');
  expect(wasm.provider).toBe('wasm');
  expect(webgpu.events.filter((event: string) => !event.startsWith('state'))).toEqual([]);
  for (const run of [webgpu, wasm, wasmAgain]) {
    expect(run.results[0].faces).toHaveLength(1);
    expect(run.results[0].faces[0].stylized, `${run.provider}: stylized after ${run.steps} frames; events ${run.events.join(', ')}`).toBe(true);
    expect(run.results[0].outside.differing).toBe(0);
  }
  const diff = await call(page, 'compareOutputs', ['webgpu', 'wasm']);
  const baseline = await call(page, 'compareOutputs', ['wasm-again', 'wasm']);
  testInfo.annotations.push({ type: 'measured', description: JSON.stringify({ webgpuVsWasm: diff, wasmVsWasm: baseline }) });
  expect(diff.facePixels).toBeGreaterThan(2000);
  expect(baseline.meanAbs, 'run-to-run mean |Δ| on WASM (tracker drift)').toBeLessThanOrEqual(4);
  const measured = `WebGPU vs WASM ${JSON.stringify(diff)}; WASM vs WASM ${JSON.stringify(baseline)}`;
  expect(diff.meanAbs, `mean |Δ| in the face, 8-bit levels (${measured})`).toBeLessThanOrEqual(Math.max(2, 2 * baseline.meanAbs));
  // p99 18 (mean 1.38) in two CI runs of session 13, with and without camera detail, ≤ 12 in
  // earlier ones: a few edge pixels where WebGPU's older result sits 0.15 px apart (landmarks);
  // the models themselves agree to 1e-3 (part 1). A wrong kernel costs tens of levels on average.
  expect(diff.p99, `99th percentile |Δ| in the face (${measured})`).toBeLessThanOrEqual(Math.max(24, 2 * baseline.p99));
});
