// Edits of MediaPipe .tflite models for the MediaPipe Tasks API, without re-serialising them
// (see flatbuffer-prepend.mjs): adds TFLite model metadata (tflite_support metadata_schema.fbs,
// identifier "M001", referenced from Model.metadata as "TFLITE_METADATA", where MediaPipe looks
// for it) and, for the face-mesh model, appends the ops that give the output layout the Tasks
// FaceLandmarker expects.
import * as flatbuffers from 'flatbuffers';
import { FlatbufferReader, i32, int32s, old, prependRoot, refs, scalars, string, table, u32, u8 } from './flatbuffer-prepend.mjs';

// metadata_schema.fbs union tags.
const CONTENT_IMAGE_PROPERTIES = 2;
const PROCESS_UNIT_NORMALIZATION = 1;
const COLOR_SPACE_RGB = 1;
// tflite schema.fbs enums.
const TENSOR_FLOAT32 = 0;
const TENSOR_INT32 = 2;
const OP_RESHAPE = 22;
const OP_GATHER = 36;

/** The metadata flatbuffer: one subgraph, first input an RGB image with (x - mean) / std. */
export function modelMetadata({ name, description, license, input }) {
  const b = new flatbuffers.Builder(1024);
  const floats = (values) => {
    b.startVector(4, values.length, 4);
    for (const v of [...values].reverse()) b.addFloat32(v);
    return b.endVector();
  };
  const tables = (offsets) => {
    b.startVector(4, offsets.length, 4);
    for (const o of [...offsets].reverse()) b.addOffset(o);
    return b.endVector();
  };

  const mean = floats([input.mean]);
  const std = floats([input.std]);
  b.startObject(2); // NormalizationOptions
  b.addFieldOffset(0, mean, 0);
  b.addFieldOffset(1, std, 0);
  const normalization = b.endObject();
  b.startObject(2); // ProcessUnit { options: ProcessUnitOptions }
  b.addFieldInt8(0, PROCESS_UNIT_NORMALIZATION, 0);
  b.addFieldOffset(1, normalization, 0);
  const processUnit = b.endObject();

  b.startObject(2); // ImageProperties
  b.addFieldInt8(0, COLOR_SPACE_RGB, 0);
  const imageProperties = b.endObject();
  b.startObject(3); // Content { content_properties: ContentProperties, range }
  b.addFieldInt8(0, CONTENT_IMAGE_PROPERTIES, 0);
  b.addFieldOffset(1, imageProperties, 0);
  const content = b.endObject();

  const tensorName = b.createString('image');
  const processUnits = tables([processUnit]);
  b.startObject(7); // TensorMetadata
  b.addFieldOffset(0, tensorName, 0);
  b.addFieldOffset(3, content, 0);
  b.addFieldOffset(4, processUnits, 0);
  const inputTensor = b.endObject();

  const inputs = tables([inputTensor]);
  b.startObject(7); // SubGraphMetadata
  b.addFieldOffset(2, inputs, 0);
  const subgraph = b.endObject();

  const nameOffset = b.createString(name);
  const descriptionOffset = b.createString(description);
  const licenseOffset = b.createString(license);
  const parserVersion = b.createString('1.0.0');
  const subgraphs = tables([subgraph]);
  b.startObject(8); // ModelMetadata
  b.addFieldOffset(0, nameOffset, 0);
  b.addFieldOffset(1, descriptionOffset, 0);
  b.addFieldOffset(3, subgraphs, 0);
  b.addFieldOffset(5, licenseOffset, 0);
  b.addFieldOffset(7, parserVersion, 0);
  b.finish(b.endObject(), 'M001');
  return b.asUint8Array();
}


// The Tasks FaceLandmarker decodes output 0 as 478 landmarks × 3 (mesh + irises) and output 1
// as the face-presence logit. The 468-point face-mesh model has no iris, so its 1404 values are
// reshaped to [468, 3] and gathered into [478, 3]; the ten iris slots repeat eye-contour points
// (lid midpoint and corners) so that anything computed from all landmarks — such as the tracking
// box for the next frame — stays on the face. They are not iris estimates.
export const IRIS_STAND_INS = [159, 133, 159, 33, 145, 386, 362, 386, 263, 374];

/**
 * @param {Uint8Array} model original .tflite
 * @param {{ metadata: object, landmarks478?: boolean }} edit
 */
export function editModel(model, { metadata, landmarks478 = false }) {
  const r = new FlatbufferReader(model);
  if (r.identifier() !== 'TFL3') throw new Error('not a TFLite flatbuffer (identifier TFL3 missing)');
  const root = r.root();
  // Model fields: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers,
  // 5 metadata_buffer, 6 metadata, 7 signature_defs.
  const oldRef = (id) => { const at = r.ref(root, id); return at === undefined ? undefined : old(at); };
  const existing = r.tables(root, 6).map((t) => r.string(t, 0));
  if (existing.includes('TFLITE_METADATA')) throw new Error('model already has TFLITE_METADATA');

  const buffers = r.tables(root, 4).map(old);
  const addBuffer = (bytes) => { buffers.push(table([scalars(bytes, 16)])); return buffers.length - 1; };
  let operatorCodes = oldRef(1);
  let subgraphs = oldRef(2);

  if (landmarks478) {
    const [subgraph, ...others] = r.tables(root, 2);
    if (others.length) throw new Error('expected a single subgraph');
    const tensors = r.tables(subgraph, 0);
    const [landmarksOut, presenceOut, ...rest] = r.ints(subgraph, 2);
    const shape = r.ints(tensors[landmarksOut], 0);
    if (rest.length || shape.reduce((a, b) => a * b, 1) !== 468 * 3) {
      throw new Error('expected the 468-landmark face-mesh model (outputs: 1404 values, presence)');
    }
    const codes = r.tables(root, 1).map(old);
    const opcode = (builtin) => { codes.push(table([u8(builtin), undefined, i32(1), i32(builtin)])); return codes.length - 1; };
    const newTensors = [];
    const addTensor = (dims, type, buffer, name) => {
      newTensors.push(table([int32s(dims), u8(type), u32(buffer), string(name)]));
      return tensors.length + newTensors.length - 1;
    };
    const gatherIndices = [...Array.from({ length: 468 }, (_, i) => i), ...IRIS_STAND_INS];
    const shapeConst = addTensor([2], TENSOR_INT32, addBuffer(new Uint8Array(Int32Array.from([468, 3]).buffer)), 'face_stylizer/mesh_shape');
    const mesh = addTensor([468, 3], TENSOR_FLOAT32, 0, 'face_stylizer/mesh');
    const indices = addTensor([478], TENSOR_INT32, addBuffer(new Uint8Array(Int32Array.from(gatherIndices).buffer)), 'face_stylizer/landmark_order');
    const landmarks = addTensor([478, 3], TENSOR_FLOAT32, 0, 'face_stylizer/landmarks_478');
    const reshape = table([u32(opcode(OP_RESHAPE)), int32s([landmarksOut, shapeConst]), int32s([mesh])]);
    const gather = table([u32(opcode(OP_GATHER)), int32s([mesh, indices]), int32s([landmarks])]);
    operatorCodes = refs(codes);
    const subgraphFields = [
      refs([...tensors.map(old), ...newTensors]),
      old(r.ref(subgraph, 1)),
      int32s([landmarks, presenceOut]),
      refs([...r.tables(subgraph, 3).map(old), reshape, gather]),
    ];
    const name = r.ref(subgraph, 4);
    if (name !== undefined) subgraphFields.push(old(name));
    subgraphs = refs([table(subgraphFields)]);
  }

  const metadataBuffer = addBuffer(modelMetadata(metadata));
  const metadataEntries = [...r.tables(root, 6).map(old), table([string('TFLITE_METADATA'), u32(metadataBuffer)])];
  const newRoot = table([
    u32(r.u32(root, 0)), operatorCodes, subgraphs, oldRef(3), refs(buffers), oldRef(5), refs(metadataEntries), oldRef(7),
  ]);
  return prependRoot(model, newRoot, 'TFL3');
}
