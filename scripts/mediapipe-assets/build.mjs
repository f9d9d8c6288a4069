#!/usr/bin/env node
// Builds models/mediapipe/face_landmarker.task reproducibly from the TFLite models that the npm
// packages @mediapipe/face_mesh and @mediapipe/face_detection ship. Those files lack the TFLite
// metadata that the MediaPipe Tasks API requires (input NormalizationOptions), so we inject it:
//   - face detector (face_detection_short_range): mean 127.5 / std 127.5, RGB
//   - landmarks (face_landmark, 468 points, no iris): mean 0 / std 255, RGB; plus two appended ops
//     (reshape + gather) giving the 478×3 output layout the Tasks FaceLandmarker decodes
// and pack them with the face-geometry pipeline metadata into an uncompressed .task zip.
// Inputs and output are pinned by sha256 in checksums.json; a mismatch fails the build.
//
// Usage: node scripts/mediapipe-assets/build.mjs [--out DIR] [--update-pins]
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { editModel } from './tflite-edit.mjs';
import { packageFile, packedAsset } from './packed-assets.mjs';
import { storedZip } from './stored-zip.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const args = process.argv.slice(2);
const outDir = args.includes('--out') ? resolve(args[args.indexOf('--out') + 1]) : join(root, 'models/mediapipe');
const updatePins = args.includes('--update-pins');
const pinsPath = join(here, 'checksums.json');
const pins = JSON.parse(readFileSync(pinsPath, 'utf8'));

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

const checked = {};
function pinned(label, bytes) {
  const digest = sha256(bytes);
  checked[label] = digest;
  if (!updatePins && pins[label] !== digest) {
    throw new Error(`${label}: sha256 ${digest} does not match the pinned ${pins[label]} (run with --update-pins after reviewing the change)`);
  }
  return bytes;
}

const detectorRaw = pinned('face_detection_short_range.tflite', packageFile('@mediapipe/face_detection', 'face_detection_short_range.tflite'));
const landmarksRaw = pinned('face_landmark.tflite', packedAsset('face_landmark.tflite'));
const geometry = pinned('geometry_pipeline_metadata_landmarks.binarypb', packedAsset('geometry_pipeline_metadata_landmarks.binarypb'));

const detector = editModel(detectorRaw, {
  metadata: {
    name: 'face_detection_short_range',
    description: 'BlazeFace short-range face detector (MediaPipe), metadata added by face-stylizer.',
    license: 'Apache-2.0',
    input: { mean: 127.5, std: 127.5 },
  },
});
const landmarks = editModel(landmarksRaw, {
  metadata: {
    name: 'face_landmark',
    description: 'MediaPipe face mesh (468 landmarks; slots 468-477 repeat eye points), edited by face-stylizer.',
    license: 'Apache-2.0',
    input: { mean: 0, std: 255 },
  },
  landmarks478: true,
});

const task = pinned('face_landmarker.task', storedZip([
  { name: 'face_detector.tflite', data: detector },
  { name: 'face_landmarks_detector.tflite', data: landmarks },
  { name: 'geometry_pipeline_metadata_landmarks.binarypb', data: geometry },
]));

mkdirSync(outDir, { recursive: true });
const target = join(outDir, 'face_landmarker.task');
writeFileSync(`${target}.tmp`, task);
renameSync(`${target}.tmp`, target);
writeFileSync(join(outDir, 'NOTICE.md'), readFileSync(join(here, 'NOTICE.md')));
if (updatePins) writeFileSync(pinsPath, `${JSON.stringify(checked, null, 2)}\n`);
console.log(`wrote ${target} (${task.length} bytes, sha256 ${checked['face_landmarker.task']})`);
