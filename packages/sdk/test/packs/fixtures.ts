/** Style packs made from bytes generated in the test, so no binary fixtures live in the repo. */

import type { ModelContract } from '../../src/packs/contract';
import type { StylePackManifest } from '../../src/packs/manifest';
import { sha256Hex } from '../../src/packs/verify';

export const baseContract: ModelContract = {
  contractVersion: 1,
  crop: { size: 128, alignment: 'ffhq-v1' },
  pixel: { layout: 'NCHW', channels: 'RGB', range: [-1, 1] },
  encoder: {
    file: 'encoder.onnx',
    inputs: { image: { shape: [1, 3, 128, 128], dtype: 'float32' } },
    outputs: { w_plus: { shape: [1, 12, 512], dtype: 'float32' }, features: { shape: [1, 256, 16, 16], dtype: 'float32' } },
  },
  generator: {
    file: 'generator.onnx',
    inputs: { w_plus: { shape: [1, 12, 512] }, features: { shape: [1, 256, 16, 16] }, alpha: { shape: [1] } },
    outputs: { image: { shape: [1, 3, 128, 128] }, flow: { shape: [1, 2, 128, 128] } },
  },
  alpha: { min: 0, max: 1.5, default: 1 },
};

export const baseEncoderSha256 = 'e'.repeat(64);

/** Deterministic pseudo-random bytes (xorshift32), standing in for ONNX and image files. */
export function testBytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** A copy of `bytes` with one bit flipped: same size, different content. */
export function withFlippedByte(bytes: Uint8Array, index: number): Uint8Array<ArrayBuffer> {
  const copy = bytes.slice();
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface TestPack {
  readonly manifest: StylePackManifest;
  /** Pack files by path inside the pack, manifest.json included. */
  readonly files: Map<string, Uint8Array<ArrayBuffer>>;
}

/** A valid pack; the generator is large enough to arrive over HTTP in several chunks. */
export async function makeTestPack(generatorBytes = 300_000): Promise<TestPack> {
  const generator = testBytes(generatorBytes, 1);
  const preview = testBytes(2_000, 2);
  preview.set(PNG_SIGNATURE, 0);
  const manifest: StylePackManifest = {
    format: 'face-stylizer-pack',
    formatVersion: 1,
    id: 'test-caricature',
    name: 'Test caricature',
    version: '1.0.0',
    description: 'Bytes made up by the test suite.',
    createdAt: '2025-01-02T03:04:05.000Z',
    licence: 'CC-BY-4.0',
    author: 'face-stylizer tests',
    contract: baseContract,
    files: {
      generator: { path: 'generator.onnx', sha256: await sha256Hex(generator), bytes: generator.byteLength },
      preview: { path: 'preview.png', sha256: await sha256Hex(preview), bytes: preview.byteLength, mediaType: 'image/png' },
    },
    base: { encoderSha256: baseEncoderSha256 },
    alpha: { min: 0, max: 1.2, default: 0.8 },
    training: { steps: 1000, dataset: 'synthetic' },
  };
  return {
    manifest,
    files: new Map([
      ['manifest.json', encodeJson(manifest)],
      ['generator.onnx', generator],
      ['preview.png', preview],
    ]),
  };
}

export function encodeJson(value: unknown): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}

/** A deep, writable copy of a manifest for tests that break it on purpose. */
export function editableManifest(manifest: StylePackManifest): Record<string, any> {
  return JSON.parse(JSON.stringify(manifest)) as Record<string, any>;
}

/** A minimal but valid uncompressed ("stored") zip, to check that a zip is refused as foreign. */
export function makeZip(name: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const nameBytes = new TextEncoder().encode(name);
  const crc = crc32(data);
  const local = new Uint8Array(30 + nameBytes.length);
  const localView = new DataView(local.buffer);
  localView.setUint32(0, 0x04034b50, true);
  localView.setUint16(4, 10, true); // version needed
  localView.setUint32(14, crc, true);
  localView.setUint32(18, data.length, true);
  localView.setUint32(22, data.length, true);
  localView.setUint16(26, nameBytes.length, true);
  local.set(nameBytes, 30);

  const central = new Uint8Array(46 + nameBytes.length);
  const centralView = new DataView(central.buffer);
  centralView.setUint32(0, 0x02014b50, true);
  centralView.setUint16(4, 20, true);
  centralView.setUint16(6, 10, true);
  centralView.setUint32(16, crc, true);
  centralView.setUint32(20, data.length, true);
  centralView.setUint32(24, data.length, true);
  centralView.setUint16(28, nameBytes.length, true);
  centralView.setUint32(42, 0, true); // local header offset
  central.set(nameBytes, 46);

  const end = new Uint8Array(22);
  const endView = new DataView(end.buffer);
  endView.setUint32(0, 0x06054b50, true);
  endView.setUint16(8, 1, true);
  endView.setUint16(10, 1, true);
  endView.setUint32(12, central.length, true);
  endView.setUint32(16, local.length + data.length, true);

  const zip = new Uint8Array(local.length + data.length + central.length + end.length);
  zip.set(local, 0);
  zip.set(data, local.length);
  zip.set(central, local.length + data.length);
  zip.set(end, local.length + data.length + central.length);
  return zip;
}

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
