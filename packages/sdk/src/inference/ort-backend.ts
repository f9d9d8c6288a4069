import type * as OrtTypes from 'onnxruntime-web/wasm';
import type { ExecutionProvider, InferenceBackend, SessionLike, TensorLike } from './backend';

type Ort = typeof OrtTypes;

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}
interface DeviceLike {
  readonly lost: Promise<{ readonly message: string; readonly reason?: string }>;
}

export interface OrtBackendOptions {
  /** Folder serving onnxruntime-web's dist/*.wasm (and .mjs) files. */
  readonly wasmBaseUrl: string;
  /** WASM threads; >1 needs a cross-origin-isolated page. Default: ORT's choice. */
  readonly numThreads?: number;
  /**
   * Run the WASM provider in ORT's proxy worker, so inference never blocks the main thread
   * (the displayed stream keeps the camera's rate while the generator works). Applies to the
   * WASM build only (WebGPU runs on the page's thread), and is fixed for the page's lifetime
   * once its first WASM session exists: a later backend asking for the other mode gets the
   * page's mode.
   */
  readonly proxy?: boolean;
}

/** Whether WebGPU can be used at all (an adapter exists). */
export async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as { gpu?: GpuLike }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

// One onnxruntime-web build per provider, each imported on first use. The WebGPU build's WASM
// core is compiled with asyncify (to await GPU work), which makes its CPU kernels much slower:
// measured in Chromium here, encoder + generator 36 + 58 ms on it vs 15 + 26 ms on the plain
// WASM build. So the CPU path always runs the plain build, and a page that never gets WebGPU
// never downloads the WebGPU build.
const ortBuilds: Record<ExecutionProvider, () => Promise<Ort>> = {
  webgpu: () => import('onnxruntime-web/webgpu'),
  wasm: () => import('onnxruntime-web/wasm'),
};
const loadedBuilds = new Map<ExecutionProvider, Ort>();

async function ortFor(provider: ExecutionProvider): Promise<Ort> {
  let ort = loadedBuilds.get(provider);
  if (!ort) {
    ort = await ortBuilds[provider]();
    ort.env.logLevel = 'error';
    loadedBuilds.set(provider, ort);
  }
  return ort;
}

// onnxruntime-web reads env.wasm.proxy once, when the build's first session initialises its
// WASM runtime; every later session runs in that mode whatever the flag says (asking for the
// proxy afterwards left a worker that never started: "worker not ready"). The first WASM
// session fixes the mode here too, and later backends follow it.
let pageProxyMode: boolean | undefined;

/** onnxruntime-web (its WebGPU build for WebGPU, its plain WASM build for WASM) behind the engine's backend interface. */
export function createOrtBackend(options: OrtBackendOptions): InferenceBackend {
  const wasmPaths = options.wasmBaseUrl.endsWith('/') ? options.wasmBaseUrl : `${options.wasmBaseUrl}/`;
  const proxy = (provider: ExecutionProvider): boolean => provider === 'wasm' && (pageProxyMode ?? options.proxy ?? false);
  // The proxy transfers (detaches) the buffers it is given; callers keep using theirs.
  const own = <T extends Uint8Array | Float32Array>(data: T, provider: ExecutionProvider): T => (proxy(provider) ? (data.slice() as T) : data);

  return {
    async isAvailable(provider: ExecutionProvider): Promise<boolean> {
      return provider === 'wasm' || (await hasWebGpuAdapter());
    },

    async createSession(model, provider, { outputsOnGpu }): Promise<SessionLike> {
      const ort = await ortFor(provider);
      ort.env.wasm.wasmPaths = wasmPaths;
      if (options.numThreads !== undefined) ort.env.wasm.numThreads = options.numThreads;
      if (provider === 'wasm') {
        pageProxyMode = proxy('wasm');
        ort.env.wasm.proxy = pageProxyMode;
      }
      const preferredOutputLocation =
        provider === 'webgpu' && outputsOnGpu.length > 0
          ? Object.fromEntries(outputsOnGpu.map((name) => [name, 'gpu-buffer' as const]))
          : undefined;
      const session = await ort.InferenceSession.create(own(model, provider), {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        ...(preferredOutputLocation ? { preferredOutputLocation } : {}),
      });
      return {
        run: async (feeds) => (await session.run(feeds as unknown as OrtTypes.InferenceSession.FeedsType)) as unknown as Record<string, TensorLike>,
        release: () => session.release(),
      };
    },

    tensor(provider, data, dims): TensorLike {
      const ort = loadedBuilds.get(provider);
      if (!ort) throw new Error(`onnxruntime-web for ${provider} is not loaded (create a session first)`);
      return new ort.Tensor('float32', own(data, provider), dims) as unknown as TensorLike;
    },

    async deviceLost(provider): Promise<string> {
      if (provider !== 'webgpu') return new Promise<string>(() => undefined);
      // Only read after a WebGPU session exists: before that, the getter would create a device.
      // Typed as a Promise, but 1.30 returns the GPUDevice itself once a session exists.
      const ort = await ortFor('webgpu');
      const device = (await Promise.resolve(ort.env.webgpu.device as unknown)) as DeviceLike;
      const info = await device.lost;
      return info.message || info.reason || 'device lost';
    },
  };
}
