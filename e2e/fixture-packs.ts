/**
 * Broken style packs made from a valid one, one per way the loader must refuse a pack
 * (docs/style-pack.md, "What makes a pack unusable"). Served under /assets/packs/e2e/.
 */
import { cpSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export const FIXTURE_PACKS = {
  /** One byte of generator.onnx flipped: same size, other SHA-256. */
  corrupt: 'corrupt',
  /** generator.onnx cut short. */
  truncated: 'truncated',
  /** A manifest that is not JSON. */
  foreign: 'foreign',
  /** formatVersion 2: a pack from the future. */
  future: 'future',
  /** The base encoder shipped as generator.onnx, manifest hash and size updated: passes verification, wrong model. */
  wrongModel: 'wrong-model',
  /** Random bytes as generator.onnx with a matching manifest hash: passes verification, not ONNX. */
  garbage: 'garbage',
} as const;

/** Replaces a pack's generator file with `bytes` and declares its size and SHA-256 in the manifest. */
function replaceGenerator(dir: string, manifest: any, bytes: Uint8Array): void {
  const generator = manifest.files.generator;
  writeFileSync(join(dir, generator.path), bytes);
  const files = { ...manifest.files, generator: { ...generator, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify({ ...manifest, files }, null, 2)}\n`);
}

export function writeFixturePacks(validPack: string, outDir: string, baseModel = join(validPack, '../../base')): void {
  const manifest = JSON.parse(readFileSync(join(validPack, 'manifest.json'), 'utf8'));
  const generatorFile = manifest.files.generator.path as string;
  const copy = (name: string) => {
    const dir = join(outDir, name);
    mkdirSync(dir, { recursive: true });
    cpSync(validPack, dir, { recursive: true });
    return dir;
  };

  const corrupt = copy(FIXTURE_PACKS.corrupt);
  const bytes = readFileSync(join(corrupt, generatorFile));
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(join(corrupt, generatorFile), bytes);

  const truncated = copy(FIXTURE_PACKS.truncated);
  truncateSync(join(truncated, generatorFile), Math.floor(manifest.files.generator.bytes / 2));

  const foreign = copy(FIXTURE_PACKS.foreign);
  writeFileSync(join(foreign, 'manifest.json'), 'this is not a style pack manifest\n');

  const future = copy(FIXTURE_PACKS.future);
  writeFileSync(join(future, 'manifest.json'), `${JSON.stringify({ ...manifest, formatVersion: 2 }, null, 2)}\n`);

  const contract = JSON.parse(readFileSync(join(baseModel, 'contract.json'), 'utf8'));
  replaceGenerator(copy(FIXTURE_PACKS.wrongModel), manifest, readFileSync(join(baseModel, contract.encoder.file)));
  const garbage = Buffer.alloc(200_000);
  for (let i = 0, state = 12345; i < garbage.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    garbage[i] = state >>> 24;
  }
  replaceGenerator(copy(FIXTURE_PACKS.garbage), manifest, garbage);
}
