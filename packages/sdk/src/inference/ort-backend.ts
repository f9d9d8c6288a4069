import * as ort from 'onnxruntime-web/webgpu';
import type { ExecutionProvider, InferenceBackend, SessionLike, TensorLike } from './backend';

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
   * (the displayed stream keeps the camera's rate while the generator works). Incompatible
   * with WebGPU, and fixed for the page's lifetime once the first session exists: a later
   * backend asking for the other mode gets the page's mode.
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

// onnxruntime-web reads env.wasm.proxy once, when the page's first session initialises its
// WASM runtime; every later session runs in that mode whatever the flag says (asking for the
// proxy afterwards left a worker that never started: "worker not ready"). The first session
// fixes the mode here too, and later backends follow it.
let pageProxyMode: boolean | undefined;

/** onnxruntime-web (WebGPU + WASM build) behind the engine's backend interface. */
export function createOrtBackend(options: OrtBackendOptions): InferenceBackend {
  ort.env.wasm.wasmPaths = options.wasmBaseUrl.endsWith('/') ? options.wasmBaseUrl : `${options.wasmBaseUrl}/`;
  if (options.numThreads !== undefined) ort.env.wasm.numThreads = options.numThreads;
  ort.env.logLevel = 'error';
  const proxy = (): boolean => pageProxyMode ?? options.proxy ?? false;
  // The proxy transfers (detaches) the buffers it is given; callers keep using theirs.
  const own = <T extends Uint8Array | Float32Array>(data: T): T => (proxy() ? (data.slice() as T) : data);

  return {
    async isAvailable(provider: ExecutionProvider): Promise<boolean> {
      if (provider === 'wasm') return true;
      return !proxy() && (await hasWebGpuAdapter());
    },

    async createSession(model, provider, { outputsOnGpu }): Promise<SessionLike> {
      pageProxyMode = proxy();
      ort.env.wasm.proxy = pageProxyMode;
      const preferredOutputLocation =
        provider === 'webgpu' && outputsOnGpu.length > 0
          ? Object.fromEntries(outputsOnGpu.map((name) => [name, 'gpu-buffer' as const]))
          : undefined;
      const session = await ort.InferenceSession.create(own(model), {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        ...(preferredOutputLocation ? { preferredOutputLocation } : {}),
      });
      return {
        run: async (feeds) => (await session.run(feeds as unknown as ort.InferenceSession.FeedsType)) as unknown as Record<string, TensorLike>,
        release: () => session.release(),
      };
    },

    tensor(data, dims): TensorLike {
      return new ort.Tensor('float32', own(data), dims) as unknown as TensorLike;
    },

    deviceLost(provider): Promise<string> {
      if (provider !== 'webgpu') return new Promise<string>(() => undefined);
      // Only read after a WebGPU session exists: before that, the getter would create a device.
      // Typed as a Promise, but 1.30 returns the GPUDevice itself once a session exists.
      return Promise.resolve(ort.env.webgpu.device as unknown).then((device) =>
        (device as DeviceLike).lost.then((info) => info.message || info.reason || 'device lost'),
      );
    },
  };
}
