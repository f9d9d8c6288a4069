/**
 * The inputs and outputs an ONNX model declares, read from its protobuf without a runtime, so a
 * style pack's generator is checked against the contract before it replaces the running one:
 * bytes that are not an ONNX model are `corrupt`, a model with other inputs or outputs (say, an
 * encoder shipped as generator with a matching hash) is `incompatible`.
 *
 * Only the fields needed are decoded (ModelProto.graph → GraphProto.input/output/initializer →
 * ValueInfoProto.name/type → TypeProto.tensor_type.shape.dim); everything else, the weights
 * included, is skipped by its length.
 */
import type { ModelContract, TensorSpec } from './contract';
import { StylePackError } from './errors';

export interface OnnxValueInfo {
  readonly name: string;
  /** Per dimension: its size, or undefined when symbolic / absent. Undefined when the model gives no shape. */
  readonly shape: readonly (number | undefined)[] | undefined;
}

export interface OnnxModelIo {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** Names of the graph's initializers (older exports also list them among the inputs). */
  readonly initializers: ReadonlySet<string>;
}

export class OnnxParseError extends Error {
  override readonly name = 'OnnxParseError';
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** One protobuf message's fields: number → wire type and value (varint as number, or a byte range). */
function* fields(bytes: Uint8Array, start: number, end: number): Generator<{ field: number; wire: number; value: number; from: number; to: number }> {
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new OnnxParseError('varint runs past the end');
      const byte = bytes[pos++] as number;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new OnnxParseError('varint longer than 10 bytes');
  };
  while (pos < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new OnnxParseError('field number 0');
    switch (wire) {
      case 0:
        yield { field, wire, value: varint(), from: pos, to: pos };
        break;
      case 1:
        if (pos + 8 > end) throw new OnnxParseError('fixed64 runs past the end');
        pos += 8;
        break;
      case 5:
        if (pos + 4 > end) throw new OnnxParseError('fixed32 runs past the end');
        pos += 4;
        break;
      case 2: {
        const length = varint();
        if (pos + length > end) throw new OnnxParseError('length-delimited field runs past the end');
        const from = pos;
        pos += length;
        yield { field, wire, value: length, from, to: pos };
        break;
      }
      default:
        throw new OnnxParseError(`wire type ${wire}`);
    }
  }
}

function valueInfo(bytes: Uint8Array, from: number, to: number): OnnxValueInfo {
  let name = '';
  let shape: (number | undefined)[] | undefined;
  for (const f of fields(bytes, from, to)) {
    if (f.field === 1 && f.wire === 2) name = utf8.decode(bytes.subarray(f.from, f.to));
    if (f.field !== 2 || f.wire !== 2) continue; // TypeProto
    for (const type of fields(bytes, f.from, f.to)) {
      if (type.field !== 1 || type.wire !== 2) continue; // tensor_type
      for (const tensor of fields(bytes, type.from, type.to)) {
        if (tensor.field !== 2 || tensor.wire !== 2) continue; // shape
        shape = [];
        for (const dim of fields(bytes, tensor.from, tensor.to)) {
          if (dim.field !== 1 || dim.wire !== 2) continue;
          let size: number | undefined;
          for (const d of fields(bytes, dim.from, dim.to)) if (d.field === 1 && d.wire === 0) size = d.value;
          shape.push(size);
        }
      }
    }
  }
  return { name, shape };
}

/** The declared inputs and outputs of an ONNX model; throws OnnxParseError for bytes that are not one. */
export function readOnnxModelIo(bytes: Uint8Array): OnnxModelIo {
  let graph: { from: number; to: number } | undefined;
  let irVersion: number | undefined;
  for (const f of fields(bytes, 0, bytes.length)) {
    if (f.field === 1 && f.wire === 0) irVersion = f.value;
    if (f.field === 7 && f.wire === 2) graph = f;
  }
  if (irVersion === undefined || !graph) throw new OnnxParseError('no ir_version or graph: not an ONNX model');
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const initializers = new Set<string>();
  for (const f of fields(bytes, graph.from, graph.to)) {
    if (f.wire !== 2) continue;
    if (f.field === 11) inputs.push(valueInfo(bytes, f.from, f.to));
    else if (f.field === 12) outputs.push(valueInfo(bytes, f.from, f.to));
    else if (f.field === 5) {
      for (const t of fields(bytes, f.from, f.to)) if (t.field === 8 && t.wire === 2) initializers.add(utf8.decode(bytes.subarray(t.from, t.to)));
    }
  }
  if (outputs.length === 0) throw new OnnxParseError('the graph declares no outputs');
  return { inputs, outputs, initializers };
}

/** What differs between a model's declared tensors and the contract's (empty when it fits). */
export function modelIoDifferences(io: OnnxModelIo, expected: { readonly inputs: Readonly<Record<string, TensorSpec>>; readonly outputs: Readonly<Record<string, TensorSpec>> }): string[] {
  const differences: string[] = [];
  const compare = (kind: 'input' | 'output', declared: readonly OnnxValueInfo[], wanted: Readonly<Record<string, TensorSpec>>) => {
    for (const [name, spec] of Object.entries(wanted)) {
      const found = declared.find((value) => value.name === name);
      if (!found) {
        differences.push(`${kind} '${name}' missing (the model has ${declared.map((v) => `'${v.name}'`).join(', ') || 'none'})`);
        continue;
      }
      if (!found.shape) continue;
      const mismatch =
        found.shape.length !== spec.shape.length || found.shape.some((size, i) => size !== undefined && size !== 0 && size !== spec.shape[i]);
      if (mismatch) differences.push(`${kind} '${name}' has shape [${found.shape.map((s) => s ?? '?').join(', ')}], the contract [${spec.shape.join(', ')}]`);
    }
  };
  compare('input', io.inputs, expected.inputs);
  compare('output', io.outputs, expected.outputs);
  for (const input of io.inputs) {
    if (!Object.hasOwn(expected.inputs, input.name) && !io.initializers.has(input.name)) {
      differences.push(`input '${input.name}' is not in the contract (nothing would feed it)`);
    }
  }
  return differences;
}

/**
 * Checks a style pack's generator against the contract's generator inputs and outputs before it
 * is used: StylePackError `corrupt` for bytes that are not an ONNX model, `incompatible` for a
 * model with other tensors.
 */
export function checkGeneratorModel(bytes: Uint8Array, contract: ModelContract, packUrl: string, file: string): void {
  let io: OnnxModelIo;
  try {
    io = readOnnxModelIo(bytes);
  } catch (cause) {
    throw new StylePackError('corrupt', packUrl, `${file} is not an ONNX model (${cause instanceof Error ? cause.message : String(cause)})`, { file, cause });
  }
  const differences = modelIoDifferences(io, contract.generator);
  if (differences.length > 0) {
    throw new StylePackError('incompatible', packUrl, `${file} is not a generator for this contract: ${differences.join('; ')}`, { file });
  }
}
