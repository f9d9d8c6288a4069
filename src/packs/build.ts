/** buildPack: writes a style-pack directory (docs/style-pack.md) from a generator, a preview and metadata. */

import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { FrameGrade } from '../../packages/sdk/src/blend/grade';
import type { AlphaRange, ModelContract } from '../../packages/sdk/src/packs/contract';
import {
  MANIFEST_FILE_NAME,
  STYLE_PACK_FORMAT,
  STYLE_PACK_FORMAT_VERSION,
  validateStylePackManifest,
} from '../../packages/sdk/src/packs/manifest';
import type { StylePackFile, StylePackManifest } from '../../packages/sdk/src/packs/manifest';
import { sha256Hex } from '../../packages/sdk/src/packs/verify';

/** A file given by path or as bytes. */
export type FileSource = string | Uint8Array;

export interface BuildPackOptions {
  /** Where to write the pack; must not exist or be empty. */
  readonly outDir: string;
  readonly generatorOnnx: FileSource;
  /** PNG, JPEG or WebP; the media type is read from its first bytes. */
  readonly preview: FileSource;
  /** The generator's model I/O contract, as the exporter wrote it. */
  readonly contract: ModelContract;
  /** SHA-256 of the base encoder ONNX the generator was trained behind (see sha256File). */
  readonly encoderSha256: string;
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly licence: string;
  readonly author: string;
  /** Recommended α range for this style; defaults to the contract's. */
  readonly alpha?: AlphaRange;
  readonly training?: Readonly<Record<string, unknown>>;
  /** The style's colour world over the frame (packages/sdk/src/blend/grade.ts), fitted by the fine-tuner. */
  readonly grade?: FrameGrade | null;
  /** More files to ship, by manifest name: e.g. { licenceText: { source: 'LICENSE', path: 'LICENSE.txt' } }. */
  readonly extraFiles?: Readonly<Record<string, { source: FileSource; path: string; mediaType?: string }>>;
  readonly createdAt?: Date;
}

export async function buildPack(options: BuildPackOptions): Promise<{ dir: string; manifest: StylePackManifest }> {
  const generator = await readSource(options.generatorOnnx);
  const preview = await readSource(options.preview);
  const previewMediaType = sniffImageType(preview);
  if (!previewMediaType) throw new TypeError('preview must be a PNG, JPEG or WebP image');

  const generatorPath = 'generator.onnx';
  const previewPath = `preview.${previewMediaType.slice('image/'.length).replace('jpeg', 'jpg')}`;
  const contents = new Map<string, Uint8Array>([
    [generatorPath, generator],
    [previewPath, preview],
  ]);
  const files: Record<string, StylePackFile> = {
    generator: await fileEntry(generatorPath, generator),
    preview: { ...(await fileEntry(previewPath, preview)), mediaType: previewMediaType },
  };
  for (const [name, extra] of Object.entries(options.extraFiles ?? {})) {
    const bytes = await readSource(extra.source);
    contents.set(extra.path, bytes);
    const entry = await fileEntry(extra.path, bytes);
    files[name] = extra.mediaType === undefined ? entry : { ...entry, mediaType: extra.mediaType };
  }

  const manifestValue = {
    format: STYLE_PACK_FORMAT,
    formatVersion: STYLE_PACK_FORMAT_VERSION,
    id: options.id,
    name: options.name,
    version: options.version,
    description: options.description ?? '',
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    licence: options.licence,
    author: options.author,
    contract: options.contract,
    files,
    base: { encoderSha256: options.encoderSha256 },
    alpha: options.alpha ?? options.contract.alpha,
    training: options.training ?? {},
    ...(options.grade ? { grade: options.grade } : {}),
  };
  // The shared validator guarantees buildPack never writes a pack that verifyPack or the loader would refuse.
  const manifest = validateStylePackManifest(manifestValue, options.outDir);

  await prepareEmptyDir(options.outDir);
  const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
  await writePackDir(options.outDir, [
    ...[...contents].map(([path, data]) => ({ path, data })),
    { path: MANIFEST_FILE_NAME, data: manifestBytes },
  ]);
  return { dir: options.outDir, manifest };
}

/** A file to write into a pack directory, by its path inside the pack. */
export interface PackFileData {
  readonly path: string;
  readonly data: Uint8Array;
}

/**
 * Writes `files` in order. Callers put manifest.json last, so an interrupted write leaves a
 * folder without manifest (plainly not a pack) rather than a pack with missing files.
 */
export async function writePackDir(dir: string, files: readonly PackFileData[]): Promise<void> {
  for (const file of files) {
    const target = join(dir, ...file.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.data);
  }
}

/** Creates `dir`, refusing one with content so stale files never end up beside a new manifest. */
export async function prepareEmptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new Error(`${dir} is not empty`);
}

async function readSource(source: FileSource): Promise<Uint8Array> {
  return typeof source === 'string' ? readFile(source) : source;
}

async function fileEntry(path: string, bytes: Uint8Array): Promise<StylePackFile> {
  return { path, sha256: await sha256Hex(bytes), bytes: bytes.byteLength };
}

function sniffImageType(bytes: Uint8Array): string | undefined {
  const startsWith = (magic: readonly number[], at = 0): boolean => magic.every((byte, i) => bytes[at + i] === byte);
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith([0x52, 0x49, 0x46, 0x46]) && startsWith([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return undefined;
}
