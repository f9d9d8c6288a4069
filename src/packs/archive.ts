/** The single-file distribution form of a pack: an uncompressed tar (docs/style-pack.md, "Archive"). */

import { writeFile } from 'node:fs/promises';

import { MANIFEST_FILE_NAME } from '../../packages/sdk/src/packs/manifest';
import type { StylePackManifest } from '../../packages/sdk/src/packs/manifest';
import { prepareEmptyDir, writePackDir } from './build';
import type { PackFileData } from './build';
import { writeTar } from './tar';
import { verifyPack } from './verify';

/**
 * Verifies the pack at `source` (directory or archive) and writes it as an archive: manifest.json
 * first, then the listed files in manifest order, mtimes set to createdAt so the same pack
 * always gives the same bytes. Files the manifest does not list are left out.
 */
export async function archivePack(source: string, archivePath: string): Promise<StylePackManifest> {
  const { manifest, manifestFile, files } = await readVerifiedFiles(source);
  await writeFile(archivePath, writeTar([manifestFile, ...files], Math.floor(Date.parse(manifest.createdAt) / 1000)));
  return manifest;
}

/** Verifies the pack at `source` (typically an archive) and writes it unpacked into the empty or new `outDir`. */
export async function extractPack(source: string, outDir: string): Promise<StylePackManifest> {
  const { manifest, manifestFile, files } = await readVerifiedFiles(source);
  await prepareEmptyDir(outDir);
  await writePackDir(outDir, [...files, manifestFile]);
  return manifest;
}

async function readVerifiedFiles(
  source: string,
): Promise<{ manifest: StylePackManifest; manifestFile: PackFileData; files: PackFileData[] }> {
  const { manifest, contents } = await verifyPack(source);
  // verifyPack has just read every one of these, so they are present.
  const fileData = async (path: string): Promise<PackFileData> => ({ path, data: (await contents.read(path))! });
  const files = await Promise.all(Object.values(manifest.files).map((file) => fileData(file.path)));
  return { manifest, manifestFile: await fileData(MANIFEST_FILE_NAME), files };
}
