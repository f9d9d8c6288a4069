/**
 * The slice of an inference runtime the engine needs. The production implementation is
 * onnxruntime-web (ort-backend.ts); tests inject fakes to exercise the fallback logic.
 */
export type ExecutionProvider = 'webgpu' | 'wasm';

export interface TensorLike {
  readonly dims: readonly number[];
  /** Downloads the values (from the GPU when the tensor lives there). */
  getData(): Promise<Float32Array>;
  dispose(): void;
}

export interface SessionLike {
  run(feeds: Record<string, TensorLike>): Promise<Record<string, TensorLike>>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** Outputs to leave on the GPU (fed straight into the next model) where the provider allows. */
  readonly outputsOnGpu: readonly string[];
}

export interface InferenceBackend {
  isAvailable(provider: ExecutionProvider): Promise<boolean>;
  createSession(model: Uint8Array, provider: ExecutionProvider, options: SessionOptions): Promise<SessionLike>;
  /**
   * An input tensor for sessions of `provider` (onnxruntime-web's builds each have their own
   * Tensor class, and a session rejects another build's tensors). Valid once a session of that
   * provider was created.
   */
  tensor(provider: ExecutionProvider, data: Float32Array, dims: readonly number[]): TensorLike;
  /** Resolves (with a reason) if the provider's GPU device is lost; never resolves for CPU providers. */
  deviceLost(provider: ExecutionProvider): Promise<string>;
}
