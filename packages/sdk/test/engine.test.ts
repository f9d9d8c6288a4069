import { describe, expect, it } from 'vitest';
import type { FaceStylizerWarning } from '../src/errors';
import type { ExecutionProvider, InferenceBackend, SessionLike, SessionOptions, TensorLike } from '../src/inference/backend';
import { StyleEngine } from '../src/inference/engine';
import { matchRingColor } from '../src/blend/color-match';
import type { ModelContract } from '../src/packs/contract';

const SIZE = 4;
const contract: ModelContract = {
  contractVersion: 1,
  crop: { size: SIZE, alignment: 'ffhq-v1' },
  pixel: { layout: 'NCHW', channels: 'RGB', range: [-1, 1] },
  encoder: {
    file: 'encoder.onnx',
    inputs: { image: { shape: [1, 3, SIZE, SIZE] } },
    outputs: { w_plus: { shape: [1, 2, 3] }, features: { shape: [1, 2, 2, 2] } },
  },
  generator: {
    file: 'generator.onnx',
    inputs: { w_plus: { shape: [1, 2, 3] }, features: { shape: [1, 2, 2, 2] }, alpha: { shape: [1] } },
    outputs: { image: { shape: [1, 3, SIZE, SIZE] }, flow: { shape: [1, 2, SIZE, SIZE] } },
  },
  alpha: { min: 0, max: 1.5, default: 1 },
};

// Models are identified by their first byte.
const ENCODER = Uint8Array.of(1);
const GENERATOR = Uint8Array.of(2);
const OTHER_GENERATOR = Uint8Array.of(3);

class FakeTensor implements TensorLike {
  disposed = false;
  constructor(
    readonly data: Float32Array,
    readonly dims: readonly number[],
    readonly location: 'cpu' | 'gpu-buffer' = 'cpu',
    /** The runtime that made it: like onnxruntime-web's builds, a session rejects another's tensors. */
    readonly provider?: ExecutionProvider,
  ) {}
  async getData() {
    return this.data;
  }
  dispose() {
    this.disposed = true;
  }
}

/** Scriptable stand-in for onnxruntime-web: which providers exist, fail, or lose their device. */
class FakeBackend implements InferenceBackend {
  readonly available = new Set<ExecutionProvider>(['webgpu', 'wasm']);
  readonly failCreate = new Set<string>(); // "provider" or "provider:model"
  readonly failRunAfter = new Map<ExecutionProvider, number>(); // runs that succeed before failures
  readonly tensors: FakeTensor[] = [];
  readonly created: { provider: ExecutionProvider; model: number; options: SessionOptions; released: boolean }[] = [];
  readonly runs: { provider: ExecutionProvider; model: number }[] = [];
  private readonly loseDevice = new Map<ExecutionProvider, (reason: string) => void>();

  /** `size`: the generator's output crop size. */
  constructor(private readonly size = SIZE) {}

  async isAvailable(provider: ExecutionProvider) {
    return this.available.has(provider);
  }

  async createSession(model: Uint8Array, provider: ExecutionProvider, options: SessionOptions): Promise<SessionLike> {
    const id = model[0] as number;
    if (this.failCreate.has(provider) || this.failCreate.has(`${provider}:${id}`)) throw new Error(`cannot create on ${provider}`);
    const record = { provider, model: id, options, released: false };
    this.created.push(record);
    return {
      run: async (feeds): Promise<Record<string, TensorLike>> => {
        if (record.released) throw new Error('session released');
        const budget = this.failRunAfter.get(provider);
        if (budget !== undefined) {
          if (budget <= 0) throw new Error(`${provider} run failed`);
          this.failRunAfter.set(provider, budget - 1);
        }
        for (const [name, tensor] of Object.entries(feeds)) {
          const from = (tensor as FakeTensor).provider;
          if (from !== undefined && from !== provider) throw new TypeError(`feed ${name} is a ${from} tensor, session is ${provider}`);
        }
        this.runs.push({ provider, model: id });
        if (id === 1) {
          expect(Object.keys(feeds)).toEqual(['image']);
          const location = options.outputsOnGpu.includes('w_plus') && provider === 'webgpu' ? 'gpu-buffer' : 'cpu';
          return { w_plus: this.make(6, [1, 2, 3], location), features: this.make(8, [1, 2, 2, 2], location) };
        }
        expect(Object.keys(feeds).sort()).toEqual(['alpha', 'features', 'w_plus']);
        // The image encodes which provider and generator produced it.
        const size = this.size;
        const image = this.make(3 * size * size, [1, 3, size, size]);
        image.data.fill(provider === 'webgpu' ? 10 + id : 20 + id);
        const flow = this.make(2 * size * size, [1, 2, size, size]); // no deformation: each pixel samples itself
        for (let i = 0; i < size * size; i++) {
          flow.data[i] = (((i % size) + 0.5) / size) * 2 - 1;
          flow.data[size * size + i] = ((Math.floor(i / size) + 0.5) / size) * 2 - 1;
        }
        return { image, flow };
      },
      release: async () => {
        record.released = true;
      },
    };
  }

  tensor(provider: ExecutionProvider, data: Float32Array, dims: readonly number[]): TensorLike {
    const tensor = new FakeTensor(data, dims, 'cpu', provider);
    this.tensors.push(tensor);
    return tensor;
  }

  deviceLost(provider: ExecutionProvider): Promise<string> {
    return new Promise((resolve) => this.loseDevice.set(provider, resolve));
  }

  lose(provider: ExecutionProvider) {
    this.loseDevice.get(provider)?.('destroyed');
  }

  private make(length: number, dims: number[], location: 'cpu' | 'gpu-buffer' = 'cpu'): FakeTensor {
    const tensor = new FakeTensor(new Float32Array(length), dims, location);
    this.tensors.push(tensor);
    return tensor;
  }
}

async function engineWith(backend: FakeBackend, warnings: FaceStylizerWarning[] = []) {
  return StyleEngine.create({ backend, contract, encoder: ENCODER, generator: GENERATOR, deviceLostGraceMs: 20, onWarning: (w) => warnings.push(w) });
}
const crop = () => new Float32Array(3 * SIZE * SIZE);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('StyleEngine execution-provider selection', () => {
  it('picks WebGPU first, warms both models up at load, keeps encoder outputs on the GPU', async () => {
    const backend = new FakeBackend();
    const engine = await engineWith(backend);
    expect(engine.executionProvider).toBe('webgpu');
    expect(backend.runs).toEqual([
      { provider: 'webgpu', model: 1 },
      { provider: 'webgpu', model: 2 },
    ]);
    const encoder = backend.created.find((s) => s.model === 1);
    expect(encoder?.options.outputsOnGpu).toEqual(['w_plus', 'features']);
  });

  it('computes the seam colour match where the models ran when a run asks for it, and times it as the colour stage', async () => {
    const size = 24;
    const backend = new FakeBackend(size);
    const sized = { ...contract, crop: { ...contract.crop, size } };
    const stages: string[] = [];
    const engine = await StyleEngine.create({ backend, contract: sized, encoder: ENCODER, generator: GENERATOR, onTiming: (stage) => stages.push(stage) });
    stages.length = 0;
    const input = new Float32Array(3 * size * size).map((_, i) => ((i * 7) % 11) / 11 - 0.5);
    const seam = { ovalInCrop: Float32Array.of(4, 4, 20, 4, 20, 20, 4, 20), feather: 4, mode: 'color' as const };
    const result = await engine.run(input, 1, 0, seam);
    expect(result.color).toEqual(matchRingColor(result.crop, result.image, result.flow, seam.ovalInCrop, size, seam.feather, 'color'));
    expect(result.color?.offset).not.toEqual([0, 0, 0]); // a real match, not the identity
    expect(stages).toEqual(['encoder', 'generator', 'colour']);
    expect((await engine.run(input, 1)).color).toBeUndefined(); // no request, no match
  });

  it('uses WASM when WebGPU is unavailable, with an execution-provider-fallback warning', async () => {
    const backend = new FakeBackend();
    backend.available.delete('webgpu');
    const warnings: FaceStylizerWarning[] = [];
    const engine = await engineWith(backend, warnings);
    expect(engine.executionProvider).toBe('wasm');
    expect(warnings.map((w) => w.code)).toEqual(['execution-provider-fallback']);
    expect(warnings[0]?.message).toMatch(/no WebGPU adapter/);
  });

  it('warns of nothing when only WASM was asked for', async () => {
    const backend = new FakeBackend();
    backend.available.delete('webgpu');
    const warnings: FaceStylizerWarning[] = [];
    const engine = await StyleEngine.create({ backend, contract, encoder: ENCODER, generator: GENERATOR, providers: ['wasm'], onWarning: (w) => warnings.push(w) });
    expect(engine.executionProvider).toBe('wasm');
    expect(warnings).toEqual([]);
  });

  it('falls back to WASM when WebGPU fails at load (creation or warm-up), releasing what it made', async () => {
    for (const breakIt of [(b: FakeBackend) => b.failCreate.add('webgpu:2'), (b: FakeBackend) => b.failRunAfter.set('webgpu', 1)]) {
      const backend = new FakeBackend();
      breakIt(backend);
      const warnings: FaceStylizerWarning[] = [];
      const engine = await engineWith(backend, warnings);
      expect(engine.executionProvider).toBe('wasm');
      expect(warnings.map((w) => w.code)).toEqual(['execution-provider-fallback']);
      expect(backend.created.filter((s) => s.provider === 'webgpu').every((s) => s.released)).toBe(true);
    }
  });

  it('rejects creation with a typed error when no provider works', async () => {
    const backend = new FakeBackend();
    backend.failCreate.add('webgpu').add('wasm');
    await expect(engineWith(backend)).rejects.toMatchObject({ name: 'FaceStylizerError', code: 'inference-unavailable' });
  });

  it('switches to WASM mid-stream when a WebGPU run fails, and still answers that request', async () => {
    const backend = new FakeBackend();
    const warnings: FaceStylizerWarning[] = [];
    const engine = await engineWith(backend, warnings);
    expect((await engine.run(crop(), 1)).image[0]).toBe(12);
    backend.failRunAfter.set('webgpu', 0);
    const result = await engine.run(crop(), 1);
    expect(result.image[0]).toBe(22); // produced on WASM
    expect(engine.executionProvider).toBe('wasm');
    expect(warnings.map((w) => w.code)).toEqual(['execution-provider-fallback']);
    expect(backend.created.filter((s) => s.provider === 'webgpu').every((s) => s.released)).toBe(true);
    expect((await engine.run(crop(), 1)).image[0]).toBe(22);
  });

  it('switches to WASM after the WebGPU device is lost, with a device-lost warning', async () => {
    const backend = new FakeBackend();
    const warnings: FaceStylizerWarning[] = [];
    const engine = await engineWith(backend, warnings);
    backend.lose('webgpu');
    await tick();
    expect((await engine.run(crop(), 1)).image[0]).toBe(22);
    expect(warnings.map((w) => w.code)).toEqual(['webgpu-device-lost']);
  });

  it('disposes every tensor it creates or receives', async () => {
    const backend = new FakeBackend();
    const engine = await engineWith(backend);
    await engine.run(crop(), 0.5);
    backend.failRunAfter.set('webgpu', 1); // encoder succeeds, generator fails → fallback path
    await engine.run(crop(), 0.5);
    expect(backend.tensors.length).toBeGreaterThan(0);
    expect(backend.tensors.filter((t) => !t.disposed)).toEqual([]);
  });

  it('swaps the generator only once the new one works; a failing pack leaves the old one running', async () => {
    const backend = new FakeBackend();
    const engine = await engineWith(backend);
    backend.failCreate.add('webgpu:3');
    await expect(engine.setGenerator(OTHER_GENERATOR)).rejects.toThrow();
    expect((await engine.run(crop(), 1)).image[0]).toBe(12);
    backend.failCreate.clear();
    await engine.setGenerator(OTHER_GENERATOR);
    expect((await engine.run(crop(), 1)).image[0]).toBe(13);
    expect(backend.created.find((s) => s.model === 2)?.released).toBe(true);
  });

  it('after a fallback, runs the current generator (not the one it loaded with) on the new provider', async () => {
    const backend = new FakeBackend();
    const engine = await engineWith(backend);
    await engine.setGenerator(OTHER_GENERATOR);
    backend.failRunAfter.set('webgpu', 0);
    expect((await engine.run(crop(), 1)).image[0]).toBe(23);
  });

  it('serialises runs and rejects use after close', async () => {
    const backend = new FakeBackend();
    const engine = await engineWith(backend);
    await Promise.all([engine.run(crop(), 1), engine.run(crop(), 1)]);
    await engine.close();
    expect(backend.created.every((s) => s.released)).toBe(true);
    await expect(engine.run(crop(), 1)).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('StyleEngine device loss during a run', () => {
  it('names the lost device (not a generic failure) when the loss fails the running inference', async () => {
    const backend = new FakeBackend();
    const warnings: FaceStylizerWarning[] = [];
    const engine = await engineWith(backend, warnings);
    backend.failRunAfter.set('webgpu', 0);
    const running = engine.run(crop(), 1);
    backend.lose('webgpu');
    expect((await running).image[0]).toBe(22);
    expect(warnings.map((w) => w.code)).toEqual(['webgpu-device-lost']);
  });
});
