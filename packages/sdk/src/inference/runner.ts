import type { FrameCrop } from '../alignment/cpu-crop';
import { bakeSeamField, matchRingColor, type ColorMatchMode, type ColorTransform } from '../blend/color-match';
import type { SeamGrade } from '../blend/grade';
import type { ModelContract } from '../packs/contract';
import type { ExecutionProvider, InferenceBackend, SessionLike, TensorLike } from './backend';

export interface StyleResult {
  /** Stylized crop, NCHW [3, size, size] in the contract's pixel range. */
  readonly image: Float32Array;
  /** Per output pixel, where it samples the undeformed face: [2, size, size], normalised [-1, 1]. */
  readonly flow: Float32Array;
  /** The encoder's input (the aligned crop), for colour matching at the seam and the temporal filter. */
  readonly crop: Float32Array;
  /**
   * The seam's colour match (matchRingColor) when the run was asked for one (SeamRequest); its
   * seam field, if any, is already in `image` (bakeSeamField).
   */
  readonly color?: ColorTransform;
}

/**
 * What the seam colour match needs besides the result, sent with a run so that the match is
 * computed where the models ran: in the inference worker it costs the page's thread nothing
 * (with the seam field, 'skin', ~1.7 ms per result there — 10 % of the frames shown under a busy
 * page, session 30).
 */
export interface SeamRequest {
  /** The face oval in crop pixels [x0, y0, x1, y1, …] (AlignedFace.ovalInCrop). */
  readonly ovalInCrop: Float32Array;
  /** Feather width in crop pixels. */
  readonly feather: number;
  /** Unset: matchRingColor's default. */
  readonly mode?: ColorMatchMode;
  /** The frame grade around the face, in the model's pixel range (grade.ts seamGrade). */
  readonly grade?: SeamGrade;
}

/** What a run starts from: the crop as a tensor, or the frame to cut it from where the models run. */
export type CropInput = Float32Array | FrameCrop;

export type InferenceStage = 'readback' | 'idle' | 'crop' | 'encoder' | 'generator' | 'colour';
/** Milliseconds per stage and run (encoder includes uploading the crop). */
export type TimingListener = (stage: InferenceStage, milliseconds: number) => void;

/**
 * A run dropped, not failed: replaced by a newer request for the same face before it started
 * (latest-request-wins: a busy runner keeps one pending request per face, never a queue), or
 * lost with a runner that failed (the engine's fallback warning reports that). Counted as a drop.
 */
export class SupersededError extends Error {
  override readonly name = 'SupersededError';
}

export function isSuperseded(error: unknown): boolean {
  return error instanceof Error && error.name === 'SupersededError';
}

/** Encoder → generator on one execution provider. */
export interface ModelRunner {
  readonly provider: ExecutionProvider;
  /** Takes FrameCrops (cuts the crop itself); otherwise it must be given tensors. */
  readonly takesFrames: boolean;
  /**
   * Takes runs while busy: per `key` (a face) it keeps only the newest pending request, starts it
   * as soon as the running one ends, and rejects the one it replaced with SupersededError.
   * Otherwise runs must be serialised by the caller.
   */
  readonly acceptsWhileBusy: boolean;
  /** With `seam`, the result carries its seam colour match (StyleResult.color). */
  run(input: CropInput, alpha: number, key?: number, seam?: SeamRequest): Promise<StyleResult>;
  /** Loads and warms up another generator; on failure the current one keeps running. */
  setGenerator(generator: Uint8Array): Promise<void>;
  release(): Promise<void>;
}

export function isFrameCrop(input: CropInput): input is FrameCrop {
  return !(input instanceof Float32Array);
}

/** The two models as sessions of an InferenceBackend on the calling thread. */
export class SessionRunner implements ModelRunner {
  readonly takesFrames = false;
  readonly acceptsWhileBusy = false;

  private constructor(
    private readonly backend: InferenceBackend,
    private readonly contract: ModelContract,
    readonly provider: ExecutionProvider,
    private readonly encoder: SessionLike,
    private generator: SessionLike,
    private readonly onTiming?: TimingListener,
  ) {}

  /** Creates both sessions and warms them up (so a broken provider fails here, not mid-stream). */
  static async create(
    backend: InferenceBackend,
    contract: ModelContract,
    provider: ExecutionProvider,
    models: { readonly encoder: Uint8Array; readonly generator: Uint8Array },
    onTiming?: TimingListener,
  ): Promise<SessionRunner> {
    let encoder: SessionLike | undefined;
    let generator: SessionLike | undefined;
    try {
      encoder = await backend.createSession(models.encoder, provider, { outputsOnGpu: ['w_plus', 'features'] });
      generator = await backend.createSession(models.generator, provider, { outputsOnGpu: [] });
      const runner = new SessionRunner(backend, contract, provider, encoder, generator, onTiming);
      await runner.warmUp(generator);
      return runner;
    } catch (error) {
      await encoder?.release().catch(() => undefined);
      await generator?.release().catch(() => undefined);
      throw error;
    }
  }

  async run(input: CropInput, alpha: number, _key?: number, seam?: SeamRequest): Promise<StyleResult> {
    if (isFrameCrop(input)) throw new TypeError('SessionRunner takes crop tensors');
    const result = await this.runModels(this.generator, input, alpha, this.onTiming);
    if (!seam) return result;
    const start = performance.now();
    const size = this.contract.crop.size;
    const matched = matchRingColor(result.crop, result.image, result.flow, seam.ovalInCrop, size, seam.feather, seam.mode, seam.grade);
    const color = bakeSeamField(matched, result.image, size); // 'skin': the field drawn into the image here, not on the page
    this.onTiming?.('colour', performance.now() - start);
    return { ...result, color };
  }

  async setGenerator(bytes: Uint8Array): Promise<void> {
    const session = await this.backend.createSession(bytes, this.provider, { outputsOnGpu: [] });
    try {
      await this.warmUp(session);
    } catch (error) {
      await session.release();
      throw error;
    }
    const previous = this.generator;
    this.generator = session;
    await previous.release();
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.generator.release()]);
  }

  /** One inference at load so shader compilation / allocation happen before the first frame. */
  private async warmUp(generator: SessionLike): Promise<void> {
    const size = this.contract.crop.size;
    await this.runModels(generator, new Float32Array(3 * size * size), this.contract.alpha.default);
  }

  private async runModels(generator: SessionLike, crop: Float32Array, alpha: number, onTiming?: TimingListener): Promise<StyleResult> {
    const { backend, contract, provider } = this;
    const image = backend.tensor(provider, crop, contract.encoder.inputs.image.shape);
    const alphaTensor = backend.tensor(provider, new Float32Array([alpha]), contract.generator.inputs.alpha.shape);
    let encoded: Record<string, TensorLike> | undefined;
    let generated: Record<string, TensorLike> | undefined;
    try {
      const start = performance.now();
      encoded = await this.encoder.run({ image });
      const encoderDone = performance.now();
      onTiming?.('encoder', encoderDone - start);
      // On WebGPU, w_plus and features stay in GPU buffers between the two models.
      generated = await generator.run({ w_plus: required(encoded, 'w_plus'), features: required(encoded, 'features'), alpha: alphaTensor });
      const [stylized, flow] = await Promise.all([required(generated, 'image').getData(), required(generated, 'flow').getData()]);
      onTiming?.('generator', performance.now() - encoderDone);
      return { image: stylized, flow, crop };
    } finally {
      image.dispose();
      alphaTensor.dispose();
      for (const tensor of Object.values(encoded ?? {})) tensor.dispose();
      for (const tensor of Object.values(generated ?? {})) tensor.dispose();
    }
  }
}

function required(outputs: Record<string, TensorLike>, name: string): TensorLike {
  const tensor = outputs[name];
  if (!tensor) throw new Error(`model output "${name}" missing`);
  return tensor;
}
