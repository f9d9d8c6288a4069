import { FaceStylizerError, type FaceStylizerWarning } from '../errors';
import type { ModelContract } from '../packs/contract';
import { cropVideoFrame, type FrameCrop } from '../alignment/cpu-crop';
import type { ExecutionProvider, InferenceBackend } from './backend';
import { SessionRunner, SupersededError, isFrameCrop, isSuperseded, type CropInput, type ModelRunner, type SeamRequest, type StyleResult, type TimingListener } from './runner';

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
  readonly onTiming?: TimingListener;
  /**
   * Runs the WASM provider somewhere else than in sessions on this thread (the inference
   * worker, see worker-runner.ts): makes and warms up a runner for `generator`.
   */
  readonly wasmRunner?: (generator: Uint8Array) => Promise<ModelRunner>;
}

/**
 * How long a failed WebGPU run waits for the device's `lost` promise before blaming the run
 * (measured: the promise settles 5–220 ms after the loss on a busy 2-core machine).
 */
const DEVICE_LOST_GRACE_MS = 1000;

/**
 * Encoder → generator on the best available execution provider. Chooses WebGPU first and WASM
 * as fallback at load (warming each up so a broken provider fails here, not mid-stream), and
 * switches down the list if a run fails or the GPU device is lost, without losing the request.
 * Runs on this thread are serialised (one inference at a time, pack swaps wait for it); the
 * inference worker orders its own work and takes runs while busy (see acceptsWhileBusy).
 */
export class StyleEngine {
  private runner: ModelRunner;
  private generatorBytes: Uint8Array;
  private deviceLost: string | undefined;
  /** Settles when the current provider's device is lost (never for WASM). */
  private deviceLostSignal: Promise<void> = new Promise(() => undefined);
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: StyleEngineOptions,
    private readonly remaining: ExecutionProvider[],
    runner: ModelRunner,
  ) {
    this.runner = runner;
    this.generatorBytes = options.generator;
    this.watchDevice(runner.provider);
  }

  static async create(options: StyleEngineOptions): Promise<StyleEngine> {
    const providers = [...(options.providers ?? ['webgpu', 'wasm'])];
    const runner = await StyleEngine.firstWorking(options, providers, options.generator);
    return new StyleEngine(options, providers, runner);
  }

  get executionProvider(): ExecutionProvider {
    return this.runner.provider;
  }

  /**
   * Whether the current provider wants crops as frames (`FrameCrop`, cut where the models run)
   * rather than tensors; either is accepted, this only says which is cheaper.
   */
  get takesFrames(): boolean {
    return this.runner.takesFrames;
  }

  /**
   * Whether runs may be started while one is going on (the worker keeps the newest request per
   * `key` and rejects the one it replaces with SupersededError); otherwise runs are serialised
   * here, so callers should start one when the previous one ended.
   */
  get acceptsWhileBusy(): boolean {
    return this.runner.acceptsWhileBusy;
  }

  /**
   * Stylizes one crop with exaggeration `alpha`; `key` names the face (see acceptsWhileBusy).
   * A FrameCrop's frame is closed once used. Failures switch provider; a serialised run is
   * retried on the next one, but a frame handed to a runner that then failed is gone, so that
   * request fails and the next one runs on the new provider. With `seam`, the result carries its
   * seam colour match, computed where the models ran.
   */
  run(input: CropInput, alpha: number, key = 0, seam?: SeamRequest): Promise<StyleResult> {
    const runner = this.runner;
    const result = !this.closed && runner.acceptsWhileBusy ? this.runAlongside(runner, input, alpha, key, seam) : this.runExclusive(input, alpha, seam);
    // Whatever happened, the frame is not needed any more (a no-op once transferred or closed).
    return isFrameCrop(input) ? result.finally(() => input.frame.close()) : result;
  }

  /** A runner that orders its own work: no lock, but a failure still moves to the next provider. */
  private async runAlongside(runner: ModelRunner, input: CropInput, alpha: number, key: number, seam?: SeamRequest): Promise<StyleResult> {
    try {
      return await runner.run(input, alpha, key, seam);
    } catch (cause) {
      if (this.closed || isSuperseded(cause)) throw cause;
      await this.exclusive(async () => {
        if (this.runner === runner) await this.fallBack('execution-provider-fallback', `${runner.provider} inference failed; switching provider.`, cause);
      });
      // Its input went with the failed runner; the next request runs on the new one.
      throw new SupersededError('the run was lost with the failed runner', { cause });
    }
  }

  private runExclusive(input: CropInput, alpha: number, seam?: SeamRequest): Promise<StyleResult> {
    return this.exclusive(async () => {
      let crop = input;
      for (;;) {
        if (this.deviceLost !== undefined && this.runner.provider === 'webgpu') {
          await this.fallBack('webgpu-device-lost', `WebGPU device lost (${this.deviceLost}); switching provider.`);
        }
        if (isFrameCrop(crop) && !this.runner.takesFrames) crop = await this.cropHere(crop);
        try {
          return await this.runner.run(crop, alpha, undefined, seam);
        } catch (cause) {
          if (this.closed) throw cause;
          // A lost device usually fails the running inference before its `lost` promise
          // settles; give it a moment so the warning names the real cause.
          if (this.runner.provider === 'webgpu') {
            await Promise.race([this.deviceLostSignal, new Promise((resolve) => setTimeout(resolve, this.options.deviceLostGraceMs ?? DEVICE_LOST_GRACE_MS))]);
            if (this.deviceLost !== undefined) continue;
          }
          await this.fallBack('execution-provider-fallback', `${this.runner.provider} inference failed; switching provider.`, cause);
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
      await this.runner.setGenerator(generator);
      this.generatorBytes = generator;
    });
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      this.closed = true;
      await this.runner.release();
    });
  }

  /** The crop cut on this thread, timed like the worker's: reading the pixels, then sampling. */
  private async cropHere(request: FrameCrop): Promise<Float32Array> {
    const { contract, onTiming } = this.options;
    try {
      return await cropVideoFrame(request, contract.crop.size, contract.pixel.range, onTiming);
    } finally {
      request.frame.close();
    }
  }

  private async fallBack(code: FaceStylizerWarning['code'], message: string, cause?: unknown): Promise<void> {
    const failed = this.runner;
    await failed.release().catch(() => undefined);
    this.deviceLost = undefined;
    if (failed.provider === 'wasm' && failed.takesFrames) {
      // The inference worker died: the same provider still runs on this thread.
      this.options.onWarning?.({ code: 'worker-fallback', message: 'The inference worker failed; running WASM on this thread.', cause });
      this.runner = await SessionRunner.create(this.options.backend, this.options.contract, 'wasm', { encoder: this.options.encoder, generator: this.generatorBytes }, this.options.onTiming);
    } else {
      this.options.onWarning?.({ code, message, cause });
      this.remaining.splice(0, this.remaining.indexOf(failed.provider) + 1);
      this.runner = await StyleEngine.firstWorking(this.options, this.remaining, this.generatorBytes);
    }
    this.watchDevice(this.runner.provider);
  }

  private watchDevice(provider: ExecutionProvider): void {
    this.deviceLostSignal = Promise.resolve()
      .then(() => this.options.backend.deviceLost(provider))
      .then(
        (reason) => {
          if (this.runner.provider === provider) this.deviceLost = reason;
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
  ): Promise<ModelRunner> {
    const failures: string[] = [];
    for (const provider of providers) {
      if (!(await options.backend.isAvailable(provider))) {
        failures.push(`${provider}: unavailable`);
        // Asked for and not there (WebGPU without an adapter): the caller learns it runs on the next one.
        if (provider !== providers[providers.length - 1]) {
          const detail = provider === 'webgpu' ? 'no WebGPU adapter is available' : `${provider} is unavailable here`;
          options.onWarning?.({ code: 'execution-provider-fallback', message: `${detail}; trying the next provider.` });
        }
        continue;
      }
      if (provider === 'wasm' && options.wasmRunner) {
        try {
          return await options.wasmRunner(generator);
        } catch (error) {
          // e.g. the worker script is not served: WASM on this thread still works, only slower.
          options.onWarning?.({ code: 'worker-fallback', message: 'The inference worker failed to start; running WASM on this thread.', cause: error });
        }
      }
      try {
        return await SessionRunner.create(options.backend, options.contract, provider, { encoder: options.encoder, generator }, options.onTiming);
      } catch (error) {
        failures.push(`${provider}: ${error instanceof Error ? error.message : String(error)}`);
        if (provider !== providers[providers.length - 1]) {
          options.onWarning?.({ code: 'execution-provider-fallback', message: `${provider} failed at load; trying the next provider.`, cause: error });
        }
      }
    }
    throw new FaceStylizerError('inference-unavailable', `No execution provider could run the models (${failures.join('; ')}).`);
  }
}
