import { describe, expect, it } from 'vitest';

import { contractDifferences, parseModelContract } from '../../src/packs/contract';
import type { ModelContract } from '../../src/packs/contract';
import { StylePackError } from '../../src/packs/errors';
import type { StylePackErrorCode } from '../../src/packs/errors';
import {
  MANIFEST_MAX_BYTES,
  checkStylePackCompatibility,
  decodeStylePackManifest,
  validateStylePackManifest,
} from '../../src/packs/manifest';
import { baseContract, baseEncoderSha256, editableManifest, makeTestPack } from './fixtures';

const url = 'https://packs.example/toon/';
const { manifest } = await makeTestPack(10);

function refusal(run: () => unknown): { code: StylePackErrorCode; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StylePackError);
    const { code, message } = error as StylePackError;
    return { code, message };
  }
  throw new Error('expected a StylePackError');
}

/** The error code for the test manifest after `edit`. */
function codeAfter(edit: (m: Record<string, any>) => void): StylePackErrorCode {
  const edited = editableManifest(manifest);
  edit(edited);
  return refusal(() => validateStylePackManifest(edited, url)).code;
}

describe('validateStylePackManifest', () => {
  it('accepts a valid manifest, extra files and unknown fields', () => {
    const edited = editableManifest(manifest);
    edited['files']['licenceText'] = { path: 'docs/LICENCE.txt', sha256: 'a'.repeat(64), bytes: 0, mediaType: 'text/plain' };
    edited['homepage'] = 'https://example.com'; // unknown fields are for later minor additions
    expect(validateStylePackManifest(edited, url).files['licenceText']?.path).toBe('docs/LICENCE.txt');
  });

  it("refuses what is not a pack manifest as 'foreign'", () => {
    for (const value of [null, [], 'face-stylizer-pack', 42]) {
      expect(refusal(() => validateStylePackManifest(value, url)).code).toBe('foreign');
    }
    expect(codeAfter((m) => delete m['format'])).toBe('foreign');
    expect(codeAfter((m) => (m['formatVersion'] = '1'))).toBe('foreign');
    expect(codeAfter((m) => (m['formatVersion'] = 0))).toBe('foreign');
    expect(codeAfter((m) => (m['formatVersion'] = 1.5))).toBe('foreign');
  });

  it("reads formatVersion before anything else: a v2 manifest is 'unsupported-version' whatever its fields", () => {
    expect(refusal(() => validateStylePackManifest({ format: 'face-stylizer-pack', formatVersion: 2 }, url)).code).toBe(
      'unsupported-version',
    );
  });

  it('lists every problem of an invalid manifest in one message', () => {
    const edited = editableManifest(manifest);
    edited['version'] = 'v1';
    edited['createdAt'] = 'yesterday';
    delete edited['contract']['generator']['outputs']['flow'];
    const { code, message } = refusal(() => validateStylePackManifest(edited, url));
    expect(code).toBe('foreign');
    expect(message).toContain('version: expected a semantic version');
    expect(message).toContain('createdAt: expected an RFC 3339 timestamp');
    expect(message).toContain('contract.generator.outputs.flow: missing');
  });

  it('refuses file paths that leave the pack or are ambiguous', () => {
    for (const path of ['../generator.onnx', '/generator.onnx', 'a\\b.onnx', '.hidden', 'https://x.example/g.onnx', 'a//b', 'manifest.json']) {
      expect(codeAfter((m) => (m['files']['generator']['path'] = path))).toBe('foreign');
    }
    expect(codeAfter((m) => (m['files']['preview']['path'] = m['files']['generator']['path']))).toBe('foreign');
  });

  it('checks hashes, sizes and media types of file entries', () => {
    expect(codeAfter((m) => (m['files']['generator']['sha256'] = 'A'.repeat(64)))).toBe('foreign');
    expect(codeAfter((m) => (m['files']['generator']['bytes'] = -1))).toBe('foreign');
    expect(codeAfter((m) => (m['files']['generator']['bytes'] = 2 ** 31))).toBe('foreign');
    expect(codeAfter((m) => (m['files']['preview']['mediaType'] = 'text/html'))).toBe('foreign');
    expect(codeAfter((m) => delete m['files']['preview']['mediaType'])).toBe('foreign');
  });

  it('accepts an optional frame grade and refuses one that is not a colour and an opacity in [0, 1]', () => {
    const edited = editableManifest(manifest);
    edited['grade'] = { color: [0.2, 0.5, 1], opacity: 0.4 };
    expect(validateStylePackManifest(edited, url).grade).toEqual({ color: [0.2, 0.5, 1], opacity: 0.4 });
    edited['grade'] = { color: [0.2, 0.5, 1], opacity: 0.4, tone: { gain: 0.9, offset: 0.2 } };
    expect(validateStylePackManifest(edited, url).grade?.tone).toEqual({ gain: 0.9, offset: 0.2 });
    for (const grade of [
      { color: [0.2, 0.5, 1], opacity: 0.4, tone: 'pale' },
      { color: [0.2, 0.5, 1], opacity: 0.4, tone: { gain: 0.9 } },
      { color: [0.2, 0.5, 1], opacity: 0.4, tone: { gain: 3, offset: 0 } }, // would wash out the whole picture
      { color: [0.2, 0.5, 1], opacity: 0.4, tone: { gain: 1, offset: -0.9 } }, // would black it out
      'teal',
      { color: [0.2, 0.5], opacity: 0.4 },
      { color: [0.2, 0.5, 1.5], opacity: 0.4 },
      { color: [0.2, 0.5, '1'], opacity: 0.4 },
      { color: { 0: 0.2, 1: 0.5, 2: 1, length: 3 }, opacity: 0.4 },
      { color: [0.2, 0.5, 1], opacity: 2 },
      { color: [0.2, 0.5, 1] },
    ]) {
      const { code, message } = refusal(() => validateStylePackManifest({ ...editableManifest(manifest), grade }, url));
      expect(code).toBe('foreign');
      expect(message).toContain('grade');
    }
  });

  it("keeps the pack's α range inside the generator's", () => {
    expect(codeAfter((m) => (m['alpha'] = { min: 0, max: 2, default: 1 }))).toBe('foreign');
    expect(codeAfter((m) => (m['alpha'] = { min: 0.5, max: 1, default: 0.2 }))).toBe('foreign');
  });
});

describe('decodeStylePackManifest', () => {
  it('refuses non-UTF-8 and oversized manifests as foreign', () => {
    expect(refusal(() => decodeStylePackManifest(new Uint8Array([0xff, 0xfe, 0x7b]), url)).code).toBe('foreign');
    expect(refusal(() => decodeStylePackManifest(new Uint8Array(MANIFEST_MAX_BYTES + 1).fill(0x20), url)).code).toBe('foreign');
  });
});

describe('compatibility with the base model', () => {
  const withChange = (edit: (c: Record<string, any>) => void): ModelContract => {
    const contract = JSON.parse(JSON.stringify(baseContract)) as Record<string, any>;
    edit(contract);
    return parseModelContract(contract);
  };

  it('finds no differences between a contract and itself', () => {
    expect(contractDifferences(baseContract, baseContract)).toEqual([]);
  });

  it('names each difference that would break the runtime', () => {
    const cases: [string, (c: Record<string, any>) => void][] = [
      ['crop size', (c) => (c['crop']['size'] = 256)],
      ['crop alignment', (c) => (c['crop']['alignment'] = c['crop']['alignment'] === 'ffhq-v1' ? 'face-core-v1' : 'ffhq-v1')],
      ['pixel range', (c) => (c['pixel']['range'] = [0, 1])],
      ['generator input w_plus', (c) => (c['generator']['inputs']['w_plus']['shape'] = [1, 18, 512])],
      ['generator input features', (c) => (c['generator']['inputs']['features']['shape'] = [1, 512, 8, 8])],
      ['generator input alpha', (c) => (c['generator']['inputs']['alpha']['shape'] = [1, 1])],
      ['generator output flow', (c) => (c['generator']['outputs']['flow']['shape'] = [1, 2, 64, 64])],
      ['generator input w_plus (from the base encoder) dtype', (c) => (c['generator']['inputs']['w_plus']['dtype'] = 'float16')],
    ];
    for (const [what, edit] of cases) {
      const differences = contractDifferences(withChange(edit), baseContract);
      expect(differences.length, what).toBe(1);
      expect(differences[0]).toContain(what);
    }
  });

  it('refuses a crop alignment this SDK does not implement, naming the known ones', () => {
    expect(() => withChange((c) => (c['crop']['alignment'] = 'arcface'))).toThrow(/'arcface' is not an alignment this SDK implements \(ffhq-v1, face-core-v1\)/);
  });

  it("throws 'incompatible' for a different contract or base encoder, accepting any hex case", () => {
    const incompatible = { ...manifest, contract: withChange((c) => (c['crop']['size'] = 256)) };
    expect(refusal(() => checkStylePackCompatibility(incompatible, { contract: baseContract }, url)).code).toBe('incompatible');
    const otherEncoder = { contract: baseContract, encoderSha256: 'f'.repeat(64) };
    expect(refusal(() => checkStylePackCompatibility(manifest, otherEncoder, url)).code).toBe('incompatible');
    checkStylePackCompatibility(manifest, { contract: baseContract, encoderSha256: baseEncoderSha256.toUpperCase() }, url);
  });

  it('parseModelContract lists every problem', () => {
    expect(() => parseModelContract({ contractVersion: 1 })).toThrow(/contract\.crop: missing.*contract\.generator: missing/);
  });
});
