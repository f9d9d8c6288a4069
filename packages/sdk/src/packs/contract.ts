/**
 * The model I/O contract (docs/model-contract.md) as a type, its validator, and the rule for
 * when a style pack's generator can run behind the base encoder the runtime has loaded.
 * The exporter writes the contract once; this is the one place the TypeScript side checks it.
 */

import { ALIGNMENTS } from '../alignment/ffhq';
import { Issues, childPath, isRecord, numberAt, objectAt, stringAt } from './json-checks';

export interface TensorSpec {
  readonly shape: readonly number[];
  readonly dtype?: string;
}

/** The exaggeration α range: what the generator supports (contract) or recommends (pack). */
export interface AlphaRange {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

export interface ModelContract {
  readonly contractVersion: number;
  readonly crop: { readonly size: number; readonly alignment: string };
  readonly pixel: { readonly layout: string; readonly channels: string; readonly range: readonly [number, number] };
  readonly encoder: {
    readonly file: string;
    readonly inputs: { readonly image: TensorSpec };
    readonly outputs: { readonly w_plus: TensorSpec; readonly features: TensorSpec };
  };
  readonly generator: {
    readonly file: string;
    readonly inputs: { readonly w_plus: TensorSpec; readonly features: TensorSpec; readonly alpha: TensorSpec };
    readonly outputs: { readonly image: TensorSpec; readonly flow: TensorSpec };
  };
  readonly alpha: AlphaRange;
}

// The tensors the runtime wires together; a contract may name more, which are passed through.
const REQUIRED_TENSORS = {
  encoder: { inputs: ['image'], outputs: ['w_plus', 'features'] },
  generator: { inputs: ['w_plus', 'features', 'alpha'], outputs: ['image', 'flow'] },
} as const;

/** Validates a contract in place; records problems in `issues` and returns it when there are none new. */
export function collectModelContract(value: unknown, path: string, issues: Issues): ModelContract | undefined {
  const before = issues.list.length;
  if (!isRecord(value)) {
    issues.add(path, value === undefined ? 'missing' : 'expected an object');
    return undefined;
  }
  numberAt(value, 'contractVersion', path, issues, { integer: true, min: 1 });

  const crop = objectAt(value, 'crop', path, issues);
  if (crop) {
    numberAt(crop, 'size', childPath(path, 'crop'), issues, { integer: true, min: 1 });
    const alignment = stringAt(crop, 'alignment', childPath(path, 'crop'), issues);
    if (alignment !== undefined && !Object.hasOwn(ALIGNMENTS, alignment)) {
      issues.add(childPath(childPath(path, 'crop'), 'alignment'), `'${alignment}' is not an alignment this SDK implements (${Object.keys(ALIGNMENTS).join(', ')})`);
    }
  }

  const pixel = objectAt(value, 'pixel', path, issues);
  if (pixel) {
    const pixelPath = childPath(path, 'pixel');
    stringAt(pixel, 'layout', pixelPath, issues);
    stringAt(pixel, 'channels', pixelPath, issues);
    const range = pixel['range'];
    const isRange =
      Array.isArray(range) &&
      range.length === 2 &&
      range.every((x) => typeof x === 'number' && Number.isFinite(x)) &&
      range[0] < range[1];
    if (!isRange) issues.add(childPath(pixelPath, 'range'), 'expected [low, high] with low < high');
  }

  for (const model of ['encoder', 'generator'] as const) {
    const section = objectAt(value, model, path, issues);
    if (!section) continue;
    const sectionPath = childPath(path, model);
    stringAt(section, 'file', sectionPath, issues);
    for (const direction of ['inputs', 'outputs'] as const) {
      const tensors = objectAt(section, direction, sectionPath, issues);
      if (!tensors) continue;
      for (const name of REQUIRED_TENSORS[model][direction]) {
        collectTensorSpec(tensors[name], childPath(childPath(sectionPath, direction), name), issues);
      }
    }
  }

  const alpha = objectAt(value, 'alpha', path, issues);
  if (alpha) collectAlphaRange(alpha, childPath(path, 'alpha'), issues);

  return issues.list.length === before ? (value as unknown as ModelContract) : undefined;
}

function collectTensorSpec(value: unknown, path: string, issues: Issues): void {
  if (!isRecord(value)) {
    issues.add(path, value === undefined ? 'missing' : 'expected an object');
    return;
  }
  const shape = value['shape'];
  const isShape =
    Array.isArray(shape) && shape.length > 0 && shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0);
  if (!isShape) issues.add(childPath(path, 'shape'), 'expected a non-empty array of positive integers');
  if (value['dtype'] !== undefined) stringAt(value, 'dtype', path, issues);
}

export function collectAlphaRange(value: Record<string, unknown>, path: string, issues: Issues): AlphaRange | undefined {
  const min = numberAt(value, 'min', path, issues);
  const max = numberAt(value, 'max', path, issues);
  const dflt = numberAt(value, 'default', path, issues);
  if (min === undefined || max === undefined || dflt === undefined) return undefined;
  if (!(min <= dflt && dflt <= max)) {
    issues.add(path, `expected min ≤ default ≤ max, got ${min} / ${dflt} / ${max}`);
    return undefined;
  }
  return { min, max, default: dflt };
}

/** Parses a stand-alone contract (e.g. models/base/contract.json); throws TypeError listing every problem. */
export function parseModelContract(value: unknown): ModelContract {
  const issues = new Issues();
  const contract = collectModelContract(value, 'contract', issues);
  if (!contract) throw new TypeError(`invalid model contract: ${issues.list.join('; ')}`);
  return contract;
}

/**
 * Why a generator built for `pack` cannot run behind the base encoder described by `base`;
 * empty when it can. The generator consumes the encoder's outputs and the runtime feeds and
 * reads it as the base contract says, so crop, pixel encoding, and every generator tensor the
 * base names must agree exactly.
 */
export function contractDifferences(pack: ModelContract, base: ModelContract): string[] {
  const differences: string[] = [];
  const differ = (what: string, packValue: unknown, baseValue: unknown): void => {
    const a = JSON.stringify(packValue);
    const b = JSON.stringify(baseValue);
    if (a !== b) differences.push(`${what} ${a ?? 'missing'} ≠ base ${b}`);
  };

  differ('contractVersion', pack.contractVersion, base.contractVersion);
  differ('crop size', pack.crop.size, base.crop.size);
  differ('crop alignment', pack.crop.alignment, base.crop.alignment);
  differ('pixel layout', pack.pixel.layout, base.pixel.layout);
  differ('pixel channels', pack.pixel.channels, base.pixel.channels);
  differ('pixel range', pack.pixel.range, base.pixel.range);

  const compareTensor = (label: string, packSpec: TensorSpec | undefined, baseSpec: TensorSpec): void => {
    differ(`${label} shape`, packSpec?.shape, baseSpec.shape);
    if (packSpec?.dtype !== undefined && baseSpec.dtype !== undefined) differ(`${label} dtype`, packSpec.dtype, baseSpec.dtype);
  };

  // The generator's latent inputs are fed straight from the base encoder's outputs.
  compareTensor('generator input w_plus (from the base encoder)', pack.generator.inputs.w_plus, base.encoder.outputs.w_plus);
  compareTensor('generator input features (from the base encoder)', pack.generator.inputs.features, base.encoder.outputs.features);

  // Every other generator tensor the runtime knows from the base contract (α, image, flow, ...).
  for (const direction of ['inputs', 'outputs'] as const) {
    const packTensors: Record<string, TensorSpec | undefined> = pack.generator[direction];
    const baseTensors: Record<string, TensorSpec | undefined> = base.generator[direction];
    for (const [name, baseSpec] of Object.entries(baseTensors)) {
      if (!baseSpec || (direction === 'inputs' && (name === 'w_plus' || name === 'features'))) continue;
      compareTensor(`generator ${direction === 'inputs' ? 'input' : 'output'} ${name}`, packTensors[name], baseSpec);
    }
  }
  return differences;
}
