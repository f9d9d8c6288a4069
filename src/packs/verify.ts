/** verifyPack: the full check of a pack on disk, with the same validator and file check as the browser loader. */

import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { parseModelContract } from '../../packages/sdk/src/packs/contract';
import { StylePackError } from '../../packages/sdk/src/packs/errors';
import {
  MANIFEST_FILE_NAME,
  checkStylePackCompatibility,
  decodeStylePackManifest,
} from '../../packages/sdk/src/packs/manifest';
import type { BaseModel, StylePackManifest } from '../../packages/sdk/src/packs/manifest';
import { sha256Hex, verifyStylePackFile } from '../../packages/sdk/src/packs/verify';
import { openPack } from './contents';
import type { PackContents } from './contents';

export interface VerifyPackOptions {
  /** When given, the pack must also be compatible with this base model ('incompatible' otherwise). */
  readonly base?: BaseModel;
}

export interface OpenedPack {
  readonly path: string;
  readonly kind: PackContents['kind'];
  readonly manifest: StylePackManifest;
  /** The pack's files; after verifyPack, every listed file is known to match the manifest. */
  readonly contents: PackContents;
}

/** Reads and validates only the manifest (no file hashing): enough for `pack info`. */
export async function readPackManifest(path: string): Promise<OpenedPack> {
  const contents = await openPack(path);
  const bytes = await contents.read(MANIFEST_FILE_NAME);
  if (!bytes) throw new StylePackError('foreign', path, `no ${MANIFEST_FILE_NAME}: not a style pack`);
  return { path, kind: contents.kind, manifest: decodeStylePackManifest(bytes, path), contents };
}

/**
 * Checks a pack directory or archive completely: manifest, compatibility with `options.base`
 * when given, and the size and SHA-256 of every listed file. Throws StylePackError.
 */
export async function verifyPack(path: string, options: VerifyPackOptions = {}): Promise<OpenedPack> {
  const opened = await readPackManifest(path);
  const { manifest, contents } = opened;
  if (options.base) checkStylePackCompatibility(manifest, options.base, path);
  for (const file of Object.values(manifest.files)) {
    const bytes = await contents.read(file.path);
    if (!bytes) throw new StylePackError('truncated', path, `${file.path} is missing`, { file: file.path });
    await verifyStylePackFile(bytes, file, path);
  }
  return opened;
}

export async function sha256File(path: string): Promise<string> {
  return sha256Hex(await readFile(path));
}

/**
 * The base model a pack is checked against: a directory holding contract.json (and, when
 * present, the encoder file the contract names, whose hash the pack must match), or a
 * contract.json file.
 */
export async function loadBaseModel(path: string): Promise<BaseModel> {
  const contractPath = (await stat(path)).isDirectory() ? join(path, 'contract.json') : path;
  const contract = parseModelContract(JSON.parse(await readFile(contractPath, 'utf8')));
  const encoderPath = join(dirname(contractPath), contract.encoder.file);
  const hasEncoder = await stat(encoderPath).then(
    (info) => info.isFile(),
    () => false,
  );
  return hasEncoder ? { contract, encoderSha256: await sha256File(encoderPath) } : { contract };
}
