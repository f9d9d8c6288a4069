import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelContract } from '../../src/packs/contract';
import { checkGeneratorModel, readOnnxModelIo } from '../../src/packs/onnx-io';
import { testBytes } from './fixtures';

const base = join(__dirname, '../../../../models/base');
const contract = parseModelContract(JSON.parse(readFileSync(join(base, 'contract.json'), 'utf8')));
const generator = new Uint8Array(readFileSync(join(base, contract.generator.file)));
const encoder = new Uint8Array(readFileSync(join(base, contract.encoder.file)));

describe('ONNX model I/O check (a pack generator must fit the contract before it replaces the running one)', () => {
  it("reads the base generator's inputs and outputs, and accepts it", () => {
    const io = readOnnxModelIo(generator);
    expect(io.inputs.map((v) => v.name).filter((n) => !io.initializers.has(n)).sort()).toEqual(['alpha', 'features', 'w_plus']);
    expect(io.outputs.map((v) => v.name).sort()).toEqual(['flow', 'image']);
    expect(() => checkGeneratorModel(generator, contract, 'pack/', 'generator.onnx')).not.toThrow();
  });

  it("refuses the encoder shipped as generator as 'incompatible', naming the missing input", () => {
    expect(() => checkGeneratorModel(encoder, contract, 'pack/', 'generator.onnx')).toThrow(
      expect.objectContaining({ name: 'StylePackError', code: 'incompatible', file: 'generator.onnx', message: expect.stringMatching(/input 'w_plus' missing/) }),
    );
  });

  it("refuses a generator whose output shape differs from the contract as 'incompatible'", () => {
    const other = { ...contract, generator: { ...contract.generator, outputs: { ...contract.generator.outputs, image: { shape: [1, 3, 256, 256] } } } };
    expect(() => checkGeneratorModel(generator, other, 'pack/', 'generator.onnx')).toThrow(expect.objectContaining({ code: 'incompatible', message: expect.stringMatching(/output 'image' has shape/) }));
  });

  it("refuses random bytes, a truncated model and an empty file as 'corrupt'", () => {
    for (const bytes of [testBytes(300_000, 7), generator.subarray(0, generator.length >> 1), new Uint8Array(0), new TextEncoder().encode('<html>not found</html>')]) {
      expect(() => checkGeneratorModel(bytes, contract, 'pack/', 'generator.onnx')).toThrow(expect.objectContaining({ name: 'StylePackError', code: 'corrupt' }));
    }
  });
});
