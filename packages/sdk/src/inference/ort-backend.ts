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

/**
 * The onnxruntime-web builds a backend may load, each imported on first use (ort-builds.ts has
 * the page's; the inference worker passes only the WASM one, so its bundle holds no other).
 */
export type OrtBuilds = Partial<Record<ExecutionProvider, () => Promise<Ort>>>;
const loadedBuilds = new Map<ExecutionProvider, Ort>();

async function ortFor(provider: ExecutionProvider, builds: OrtBuilds): Promise<Ort> {
  let ort = loadedBuilds.get(provider);
  if (!ort) {
    const load = builds[provider];
    if (!load) throw new Error(`no onnxruntime-web build for ${provider} here`);
    ort = await load();
    ort.env.logLevel = 'error';
    // Off the page's thread the SDK runs its own inference worker (worker-runner.ts), which
    // keeps the two models and the crop together; onnxruntime-web's proxy is never used.
    ort.env.wasm.proxy = false;
    loadedBuilds.set(provider, ort);
  }
  return ort;
}

/**
 * onnxruntime-web (its WebGPU build for WebGPU, its plain WASM build for WASM) behind the
 * engine's backend interface, on the calling thread. `builds` limits which builds can load
 * (the inference worker bundles only the WASM one).
 */
export function createOrtBackend(options: OrtBackendOptions, builds: OrtBuilds): InferenceBackend {
  const wasmPaths = options.wasmBaseUrl.endsWith('/') ? options.wasmBaseUrl : `${options.wasmBaseUrl}/`;

  return {
    async isAvailable(provider: ExecutionProvider): Promise<boolean> {
      if (!builds[provider]) return false;
      return provider === 'wasm' || (await hasWebGpuAdapter());
    },

    async createSession(model, provider, { outputsOnGpu }): Promise<SessionLike> {
      const ort = await ortFor(provider, builds);
      ort.env.wasm.wasmPaths = wasmPaths;
      if (options.numThreads !== undefined) ort.env.wasm.numThreads = options.numThreads;
      const preferredOutputLocation =
        provider === 'webgpu' && outputsOnGpu.length > 0
          ? Object.fromEntries(outputsOnGpu.map((name) => [name, 'gpu-buffer' as const]))
          : undefined;
      const session = await ort.InferenceSession.create(model, {
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
      return new ort.Tensor('float32', data, dims) as unknown as TensorLike;
    },

    async deviceLost(provider): Promise<string> {
      if (provider !== 'webgpu') return new Promise<string>(() => undefined);
      // Only read after a WebGPU session exists: before that, the getter would create a device.
      // Typed as a Promise, but 1.30 returns the GPUDevice itself once a session exists.
      const ort = await ortFor('webgpu', builds);
      const device = (await Promise.resolve(ort.env.webgpu.device as unknown)) as DeviceLike;
      const info = await device.lost;
      return info.message || info.reason || 'device lost';
    },
  };
}
