// Minimal NumPy .npy (format 1.0/2.0, C order, little-endian) reader and writer for the dtypes
// the Python tools exchange with node: uint8 images and float32 embeddings.
import { readFileSync, writeFileSync } from 'node:fs';

const DTYPES = { '|u1': Uint8Array, '<u1': Uint8Array, '<f4': Float32Array };

/** @returns {{ data: Uint8Array | Float32Array, shape: number[] }} */
export function readNpy(file) {
  const bytes = readFileSync(file);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const Type = DTYPES[descr];
  if (!Type || fortran) throw new Error(`${file}: unsupported .npy (${descr}${fortran ? ', fortran order' : ''})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  const copy = new Uint8Array(count * Type.BYTES_PER_ELEMENT);
  copy.set(bytes.subarray(offset, offset + copy.length)); // aligned copy
  return { data: new Type(copy.buffer), shape };
}

/** @param {Uint8Array | Float32Array} data @param {number[]} shape */
export function writeNpy(file, data, shape) {
  const descr = data instanceof Float32Array ? '<f4' : '|u1';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n'; // pad so data starts on a 64-byte boundary
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}
