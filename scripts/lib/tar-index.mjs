// Random access to members of an uncompressed tar archive (ustar/GNU): one pass over the
// headers gives each member's byte range, so files can be served without extracting.
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';

export function indexTar(path) {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const header = Buffer.alloc(512);
  const members = new Map();
  let offset = 0;
  let longName = null;
  try {
    while (offset + 512 <= size) {
      readSync(fd, header, 0, 512, offset);
      if (header.every((b) => b === 0)) break;
      const field = (start, length) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
      const bytes = parseInt(field(124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156] || 48);
      const dataStart = offset + 512;
      if (type === 'L') {
        const buf = Buffer.alloc(bytes);
        readSync(fd, buf, 0, bytes, dataStart);
        longName = buf.toString('utf8').replace(/\0.*$/s, '');
      } else {
        const prefix = field(345, 155);
        const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
        longName = null;
        if (type === '0' || type === '\0') members.set(name, { start: dataStart, bytes });
      }
      offset = dataStart + Math.ceil(bytes / 512) * 512;
    }
  } finally {
    closeSync(fd);
  }
  return members;
}

export function readMember(path, member) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(member.bytes);
    readSync(fd, buf, 0, member.bytes, member.start);
    return buf;
  } finally {
    closeSync(fd);
  }
}
