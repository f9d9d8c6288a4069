/**
 * Broken style packs made from a valid one, one per way the loader must refuse a pack
 * (docs/style-pack.md, "What makes a pack unusable"). Served under /assets/packs/e2e/.
 */
import { cpSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
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
} as const;

export function writeFixturePacks(validPack: string, outDir: string): void {
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
}
