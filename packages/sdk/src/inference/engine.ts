import { FaceStylizerError, type FaceStylizerWarning } from '../errors';
import type { ModelContract } from '../packs/contract';
import type { ExecutionProvider, InferenceBackend, SessionLike, TensorLike } from './backend';

export interface StyleResult {
  /** Stylized crop, NCHW [3, size, size] in the contract's pixel range. */
  readonly image: Float32Array;
  /** Per output pixel, where it samples the undeformed face: [2, size, size], normalised [-1, 1]. */
  readonly flow: Float32Array;
}

export interface StyleEngineOptions {
  readonly backend: InferenceBackend;
  readonly contract: ModelContract;
  readonly encoder: Uint8Array;
  readonly generator: Uint8Array;
  /** Tried in order at load; on failure or device loss the engine moves down the list. */
  readonly providers?: readonly ExecutionProvider[];
  readonly onWarning?: (warning: FaceStylizerWarning) => void;
  /** Override of DEVICE_LOST_GRACE_MS (tests). */
  readonly deviceLostGraceMs?: number;
  /** Milliseconds per model run (the encoder time includes uploading the crop). */
  readonly onTiming?: (stage: 'encoder' | 'generator', milliseconds: number) => void;
}

/**
 * How long a failed WebGPU run waits for the device's `lost` promise before blaming the run
 * (measured: the promise settles 5–220 ms after the loss on a busy 2-core machine).
 */
const DEVICE_LOST_GRACE_MS = 1000;

interface Sessions {
  readonly provider: ExecutionProvider;
  readonly encoder: SessionLike;
  readonly generator: SessionLike;
}

/**
 * Encoder → generator on the best available execution provider. Chooses WebGPU first and WASM
 * as fallback at load (warming each up so a broken provider fails here, not mid-stream), and
 * switches down the list if a run fails or the GPU device is lost, without losing the request.
 * Calls are serialised: one inference at a time, pack swaps wait for the running inference.
 */
export class StyleEngine {
  private sessions: Sessions;
  private generatorBytes: Uint8Array;
  private deviceLost: string | undefined;
  /** Settles when the current provider's device is lost (never for WASM). */
  private deviceLostSignal: Promise<void> = new Promise(() => undefined);
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: StyleEngineOptions,
    private readonly remaining: ExecutionProvider[],
    sessions: Sessions,
  ) {
    this.sessions = sessions;
    this.generatorBytes = options.generator;
    this.watchDevice(sessions.provider);
  }

  static async create(options: StyleEngineOptions): Promise<StyleEngine> {
    const providers = [...(options.providers ?? ['webgpu', 'wasm'])];
    const sessions = await StyleEngine.firstWorking(options, providers, options.generator);
    return new StyleEngine(options, providers, sessions);
  }

  get executionProvider(): ExecutionProvider {
    return this.sessions.provider;
  }

  /** Stylizes one crop (NCHW float tensor) with exaggeration `alpha`. */
  run(crop: Float32Array, alpha: number): Promise<StyleResult> {
    return this.exclusive(async () => {
      for (;;) {
        if (this.deviceLost !== undefined && this.sessions.provider === 'webgpu') {
          await this.fallBack('webgpu-device-lost', `WebGPU device lost (${this.deviceLost}); switching provider.`);
        }
        try {
          return await runModels(this.options.backend, this.options.contract, this.sessions, crop, alpha, this.options.onTiming);
        } catch (cause) {
          if (this.closed) throw cause;
          // A lost device usually fails the running inference before its `lost` promise
          // settles; give it a moment so the warning names the real cause.
          if (this.sessions.provider === 'webgpu') {
            await Promise.race([this.deviceLostSignal, new Promise((resolve) => setTimeout(resolve, this.options.deviceLostGraceMs ?? DEVICE_LOST_GRACE_MS))]);
            if (this.deviceLost !== undefined) continue;
          }
          await this.fallBack('execution-provider-fallback', `${this.sessions.provider} inference failed; switching provider.`, cause);
        }
      }
    });
  }

  /**
   * Replaces the generator (a style pack). The new session is created and warmed up on the
   * current provider before the swap, so on failure the current generator keeps running.
   */
  setGenerator(generator: Uint8Array): Promise<void> {
    return this.exclusive(async () => {
      const current = this.sessions;
      const session = await this.options.backend.createSession(generator, current.provider, { outputsOnGpu: [] });
      const next = { ...current, generator: session };
      try {
        await warmUp(this.options.backend, this.options.contract, next);
      } catch (error) {
        await session.release();
        throw error;
      }
      this.sessions = next;
      this.generatorBytes = generator;
      await current.generator.release();
    });
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      this.closed = true;
      await releaseAll(this.sessions);
    });
  }

  private async fallBack(code: FaceStylizerWarning['code'], message: string, cause?: unknown): Promise<void> {
    const failed = this.sessions;
    await releaseAll(failed).catch(() => undefined);
    this.remaining.splice(0, this.remaining.indexOf(failed.provider) + 1);
    this.deviceLost = undefined;
    this.options.onWarning?.({ code, message, cause });
    this.sessions = await StyleEngine.firstWorking(this.options, this.remaining, this.generatorBytes);
    this.watchDevice(this.sessions.provider);
  }

  private watchDevice(provider: ExecutionProvider): void {
    this.deviceLostSignal = Promise.resolve()
      .then(() => this.options.backend.deviceLost(provider))
      .then(
        (reason) => {
          if (this.sessions.provider === provider) this.deviceLost = reason;
        },
        () => new Promise<void>(() => undefined), // cannot watch this device: failing runs still trigger the fallback
      );
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new FaceStylizerError('closed', 'The stylizer was closed.'));
    const result = this.lock.then(work, work);
    this.lock = result.catch(() => undefined);
    return result;
  }

  private static async firstWorking(
    options: StyleEngineOptions,
    providers: readonly ExecutionProvider[],
    generator: Uint8Array,
  ): Promise<Sessions> {
    const failures: string[] = [];
    for (const provider of providers) {
      if (!(await options.backend.isAvailable(provider))) {
        failures.push(`${provider}: unavailable`);
        continue;
      }
      let encoder: SessionLike | undefined;
      let generatorSession: SessionLike | undefined;
      try {
        encoder = await options.backend.createSession(options.encoder, provider, { outputsOnGpu: ['w_plus', 'features'] });
        generatorSession = await options.backend.createSession(generator, provider, { outputsOnGpu: [] });
        const sessions = { provider, encoder, generator: generatorSession };
        await warmUp(options.backend, options.contract, sessions);
        return sessions;
      } catch (error) {
        failures.push(`${provider}: ${error instanceof Error ? error.message : String(error)}`);
        await encoder?.release().catch(() => undefined);
        await generatorSession?.release().catch(() => undefined);
        if (provider !== providers[providers.length - 1]) {
          options.onWarning?.({ code: 'execution-provider-fallback', message: `${provider} failed at load; trying the next provider.`, cause: error });
        }
      }
    }
    throw new FaceStylizerError('inference-unavailable', `No execution provider could run the models (${failures.join('; ')}).`);
  }
}

/** One inference at load so shader compilation / allocation happen before the first frame. */
async function warmUp(backend: InferenceBackend, contract: ModelContract, sessions: Sessions): Promise<void> {
  const size = contract.crop.size;
  await runModels(backend, contract, sessions, new Float32Array(3 * size * size), contract.alpha.default);
}

async function runModels(
  backend: InferenceBackend,
  contract: ModelContract,
  sessions: Sessions,
  crop: Float32Array,
  alpha: number,
  onTiming?: StyleEngineOptions['onTiming'],
): Promise<StyleResult> {
  const image = backend.tensor(sessions.provider, crop, contract.encoder.inputs.image.shape);
  const alphaTensor = backend.tensor(sessions.provider, new Float32Array([alpha]), contract.generator.inputs.alpha.shape);
  let encoded: Record<string, TensorLike> | undefined;
  let generated: Record<string, TensorLike> | undefined;
  try {
    const start = performance.now();
    encoded = await sessions.encoder.run({ image });
    const encoderDone = performance.now();
    onTiming?.('encoder', encoderDone - start);
    const wPlus = required(encoded, 'w_plus');
    const features = required(encoded, 'features');
    // On WebGPU, w_plus and features stay in GPU buffers between the two models.
    generated = await sessions.generator.run({ w_plus: wPlus, features, alpha: alphaTensor });
    const [stylized, flow] = await Promise.all([required(generated, 'image').getData(), required(generated, 'flow').getData()]);
    onTiming?.('generator', performance.now() - encoderDone);
    return { image: stylized, flow };
  } finally {
    image.dispose();
    alphaTensor.dispose();
    for (const tensor of Object.values(encoded ?? {})) tensor.dispose();
    for (const tensor of Object.values(generated ?? {})) tensor.dispose();
  }
}

function required(outputs: Record<string, TensorLike>, name: string): TensorLike {
  const tensor = outputs[name];
  if (!tensor) throw new Error(`model output "${name}" missing`);
  return tensor;
}

async function releaseAll(sessions: Sessions): Promise<void> {
  await Promise.all([sessions.encoder.release(), sessions.generator.release()]);
}
