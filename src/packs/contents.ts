/** Reading a style pack on disk, whether an unpacked directory or a single-file tar archive. */

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { StylePackError } from '../../packages/sdk/src/packs/errors';
import { MANIFEST_FILE_NAME } from '../../packages/sdk/src/packs/manifest';
import { TarFormatError, readTar } from './tar';
import type { TarEntry } from './tar';

export interface PackContents {
  readonly kind: 'directory' | 'archive';
  /** A file's bytes by its path inside the pack; undefined when the pack has no such file. */
  read(packPath: string): Promise<Uint8Array | undefined>;
}

/** Opens a pack directory or archive. A path that does not exist is a plain Node error, not a pack problem. */
export async function openPack(path: string): Promise<PackContents> {
  if ((await stat(path)).isDirectory()) return directoryContents(path);
  return archiveContents(await readFile(path), path);
}

function directoryContents(dir: string): PackContents {
  return {
    kind: 'directory',
    async read(packPath) {
      try {
        return await readFile(join(dir, ...packPath.split('/')));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
        throw error;
      }
    },
  };
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

export function archiveContents(archive: Uint8Array, packUrl: string): PackContents {
  if (ZIP_MAGIC.every((byte, i) => archive[i] === byte)) {
    throw new StylePackError('foreign', packUrl, 'this is a zip archive; style-pack archives are plain tar (docs/style-pack.md)');
  }
  let entries: TarEntry[];
  try {
    entries = readTar(archive);
  } catch (error) {
    if (!(error instanceof TarFormatError)) throw error;
    const code = error.kind === 'not-tar' ? 'foreign' : 'corrupt';
    const detail = error.kind === 'not-tar' ? 'not a tar archive' : 'damaged tar archive';
    throw new StylePackError(code, packUrl, `${detail}: ${error.message}`, { cause: error });
  }
  const root = archiveRoot(entries);
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  return {
    kind: 'archive',
    async read(packPath) {
      const entry = byPath.get(root + packPath);
      if (!entry) return undefined;
      if (entry.data.byteLength < entry.declaredSize) {
        throw new StylePackError('truncated', packUrl, `the archive is cut off inside ${packPath}`, { file: packPath });
      }
      return entry.data;
    },
  };
}

/** "" for a pack at the archive root; "name/" for one tarred as its folder (`tar cf pack.tar name/`). */
function archiveRoot(entries: readonly TarEntry[]): string {
  if (entries.some((entry) => entry.path === MANIFEST_FILE_NAME)) return '';
  const nested = entries.filter((entry) => /^[^/]+\/manifest\.json$/.test(entry.path));
  return nested.length === 1 && nested[0] ? nested[0].path.slice(0, -MANIFEST_FILE_NAME.length) : '';
}
