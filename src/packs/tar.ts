/**
 * The plain POSIX ustar subset a style-pack archive uses (docs/style-pack.md, "Archive"):
 * regular files, 512-byte headers, data padded to 512 bytes, two zero blocks at the end.
 * No compression: ONNX weights do not compress much and the files are hashed anyway.
 */

const BLOCK = 512;

export interface TarEntry {
  readonly path: string;
  /** The entry's bytes; shorter than `declaredSize` when the archive is cut off. */
  readonly data: Uint8Array;
  readonly declaredSize: number;
}

/** Why bytes could not be read as a tar archive at all ('not-tar') or stopped making sense ('damaged'). */
export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
  constructor(
    readonly kind: 'not-tar' | 'damaged',
    message: string,
  ) {
    super(message);
  }
}

export function writeTar(files: readonly { path: string; data: Uint8Array }[], mtimeSeconds: number): Uint8Array {
  const size = files.reduce((total, file) => total + BLOCK + paddedSize(file.data.byteLength), 2 * BLOCK);
  const archive = new Uint8Array(size);
  let offset = 0;
  for (const file of files) {
    archive.set(fileHeader(file.path, file.data.byteLength, mtimeSeconds), offset);
    archive.set(file.data, offset + BLOCK);
    offset += BLOCK + paddedSize(file.data.byteLength);
  }
  return archive; // the trailing two zero blocks are already zero
}

/**
 * Regular-file entries in archive order. Directory entries, pax/GNU metadata entries and links
 * are skipped (a pack only consists of regular files). A cut-off archive yields what is there.
 */
export function readTar(archive: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= archive.byteLength) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break; // end-of-archive marker
    if (!checksumMatches(header)) {
      throw new TarFormatError(offset === 0 ? 'not-tar' : 'damaged', `bad tar header checksum at byte ${offset}`);
    }
    const declaredSize = readOctal(header, 124, 12);
    if (declaredSize === undefined) throw new TarFormatError('damaged', `bad tar size field at byte ${offset}`);
    const type = String.fromCharCode(header[156] ?? 0);
    const dataStart = offset + BLOCK;
    if (type === '0' || type === '\0') {
      const name = readString(header, 0, 100);
      const prefix = readString(header, 345, 155);
      entries.push({
        path: (prefix ? `${prefix}/${name}` : name).replace(/^(\.\/)+/, ''),
        data: archive.subarray(dataStart, Math.min(dataStart + declaredSize, archive.byteLength)),
        declaredSize,
      });
    }
    offset = dataStart + paddedSize(declaredSize);
  }
  if (offset === 0 && archive.byteLength < BLOCK) throw new TarFormatError('not-tar', 'shorter than one tar header');
  return entries;
}

function paddedSize(bytes: number): number {
  return Math.ceil(bytes / BLOCK) * BLOCK;
}

function fileHeader(path: string, size: number, mtimeSeconds: number): Uint8Array {
  const nameBytes = new TextEncoder().encode(path);
  if (nameBytes.byteLength > 100) throw new RangeError(`tar entry name longer than 100 bytes: ${path}`);
  const header = new Uint8Array(BLOCK);
  header.set(nameBytes, 0);
  writeOctal(header, 100, 8, 0o644); // mode
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, mtimeSeconds);
  header[156] = 0x30; // '0': regular file
  header.set(new TextEncoder().encode('ustar\u000000'), 257); // POSIX magic + version
  // The checksum is the byte sum with its own field read as eight spaces; stored as 6 octal digits, NUL, space.
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  writeOctal(header, 148, 7, sum);
  header[154] = 0;
  return header;
}

function checksumMatches(header: Uint8Array): boolean {
  const stored = readOctal(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return stored === sum;
}

function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  header.set(new TextEncoder().encode(digits), offset); // followed by the NUL already there
}

function readOctal(header: Uint8Array, offset: number, length: number): number | undefined {
  const text = readString(header, offset, length).trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

function readString(header: Uint8Array, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
}
