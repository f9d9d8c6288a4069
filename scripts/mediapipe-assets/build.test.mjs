import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FlatbufferReader } from './flatbuffer-prepend.mjs';
import { editModel, IRIS_STAND_INS, modelMetadata } from './tflite-edit.mjs';
import { storedZip } from './stored-zip.mjs';

// Reads the members of a stored zip through its central directory.
function zipMembers(zip) {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.byteLength - 22;
  expect(view.getUint32(end, true)).toBe(0x06054b50);
  let at = view.getUint32(end + 16, true);
  const members = {};
  for (let i = 0; i < view.getUint16(end + 10, true); i++) {
    const nameLength = view.getUint16(at + 28, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    const local = view.getUint32(at + 42, true);
    const dataAt = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    members[name] = { dataAt, data: zip.subarray(dataAt, dataAt + view.getUint32(at + 24, true)) };
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return members;
}

function tfliteMetadata(model) {
  const r = new FlatbufferReader(model);
  const root = r.root();
  const entry = r.tables(root, 6).find((t) => r.string(t, 0) === 'TFLITE_METADATA');
  const buffer = r.tables(root, 4)[r.u32(entry, 1)];
  const data = r.ref(buffer, 0);
  return model.subarray(data + 4, data + 4 + r.view.getUint32(data, true));
}

const task = new Uint8Array(readFileSync(new URL('../../models/mediapipe/face_landmarker.task', import.meta.url)));

describe('face_landmarker.task', () => {
  const members = zipMembers(task);

  it('holds the detector, the landmark model and the geometry metadata, 64-byte aligned', () => {
    expect(Object.keys(members).sort()).toEqual(
      ['face_detector.tflite', 'face_landmarks_detector.tflite', 'geometry_pipeline_metadata_landmarks.binarypb'].sort(),
    );
    for (const { dataAt } of Object.values(members)) expect(dataAt % 64).toBe(0);
  });

  it('gives both models input normalisation metadata (identifier M001)', () => {
    for (const [name, mean, std] of [['face_detector.tflite', 127.5, 127.5], ['face_landmarks_detector.tflite', 0, 255]]) {
      const metadata = tfliteMetadata(members[name].data);
      const m = new FlatbufferReader(metadata);
      expect(m.identifier()).toBe('M001');
      const [subgraph] = m.tables(m.root(), 3);
      const [input] = m.tables(subgraph, 2);
      const [unit] = m.tables(input, 4);
      expect(m.bytes[m.field(unit, 0)]).toBe(1); // NormalizationOptions
      const options = m.ref(unit, 1);
      const floats = (id) => { const v = m.ref(options, id); return m.view.getFloat32(v + 4, true); };
      expect([floats(0), floats(1)]).toEqual([mean, std]);
    }
  });

  it('makes the landmark model output 478×3 landmarks then the presence score', () => {
    const r = new FlatbufferReader(members['face_landmarks_detector.tflite'].data);
    const [subgraph] = r.tables(r.root(), 2);
    const tensors = r.tables(subgraph, 0);
    const [landmarks, presence] = r.ints(subgraph, 2).map((i) => r.ints(tensors[i], 0));
    expect(landmarks).toEqual([478, 3]);
    expect(presence.reduce((a, b) => a * b, 1)).toBe(1);
    expect(IRIS_STAND_INS).toHaveLength(10);
  });
});

describe('editModel', () => {
  it('refuses a file that is not a TFLite model', () => {
    expect(() => editModel(new Uint8Array(64), { metadata: {} })).toThrow(/TFL3/);
  });

  it('keeps the original model bytes intact after the prefix', () => {
    const original = new Uint8Array(readFileSync(new URL('../../node_modules/@mediapipe/face_detection/face_detection_short_range.tflite', import.meta.url)));
    const metadata = { name: 'n', description: 'd', license: 'l', input: { mean: 1, std: 2 } };
    const edited = editModel(original, { metadata });
    const prefix = edited.length - original.length;
    expect(prefix % 64).toBe(0);
    expect(Buffer.compare(Buffer.from(edited.subarray(prefix)), Buffer.from(original))).toBe(0);
    expect(Buffer.compare(Buffer.from(tfliteMetadata(edited)), Buffer.from(modelMetadata(metadata)))).toBe(0);
  });
});

describe('storedZip', () => {
  it('is byte-for-byte reproducible', () => {
    const members = [{ name: 'a.bin', data: new Uint8Array([1, 2, 3]) }, { name: 'b.bin', data: new Uint8Array(100) }];
    expect(Buffer.compare(storedZip(members), storedZip(members))).toBe(0);
  });
});

