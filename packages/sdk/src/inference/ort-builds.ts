import type { OrtBuilds } from './ort-backend';

// One onnxruntime-web build per provider. The WebGPU build's WASM core is compiled with asyncify
// (to await GPU work), which makes its CPU kernels much slower: measured in Chromium here,
// encoder + generator 36 + 58 ms on it vs 15 + 26 ms on the plain WASM build. So the CPU path
// always runs the plain build, and a page that never gets WebGPU never downloads the WebGPU build.
export const ALL_ORT_BUILDS: OrtBuilds = {
  webgpu: () => import('onnxruntime-web/webgpu'),
  wasm: () => import('onnxruntime-web/wasm'),
};
