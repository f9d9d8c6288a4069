/** Checking a pack file's bytes against its manifest entry, with WebCrypto (browser and Node 20 alike). */

import { StylePackError } from './errors';
import type { StylePackFile } from './manifest';

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new Error('WebCrypto (crypto.subtle) is unavailable; browsers only provide it in secure contexts (https or localhost)');
  }
  // digest() accepts only ArrayBuffer-backed views; every real caller already has one, so this rarely copies.
  const view = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const digest = new Uint8Array(await subtle.digest('SHA-256', view));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Throws StylePackError 'truncated' when `bytes` is shorter than the manifest says, 'corrupt'
 * when longer or when the SHA-256 differs. Size is checked first: it is free and tells a cut
 * download apart from damaged content.
 */
export async function verifyStylePackFile(bytes: Uint8Array, file: StylePackFile, packUrl: string): Promise<void> {
  if (bytes.byteLength < file.bytes) {
    throw new StylePackError('truncated', packUrl, `${file.path} is truncated: ${bytes.byteLength} of ${file.bytes} bytes`, {
      file: file.path,
    });
  }
  if (bytes.byteLength > file.bytes) {
    throw new StylePackError('corrupt', packUrl, `${file.path} is longer than the ${file.bytes} bytes the manifest declares`, {
      file: file.path,
    });
  }
  const actual = await sha256Hex(bytes);
  if (actual !== file.sha256) {
    throw new StylePackError('corrupt', packUrl, `${file.path} is corrupt: sha256 ${actual}, manifest says ${file.sha256}`, {
      file: file.path,
    });
  }
}
