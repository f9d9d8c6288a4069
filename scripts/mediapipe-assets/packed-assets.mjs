// Files of the npm packages @mediapipe/face_mesh / @mediapipe/face_detection, including the ones
// the face_mesh package concatenates into one .data file (its loader script lists the slices).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export function packageFile(pkg, file) {
  return readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file));
}

export function packedAsset(name) {
  const loader = packageFile('@mediapipe/face_mesh', 'face_mesh_solution_packed_assets_loader.js').toString();
  const data = packageFile('@mediapipe/face_mesh', 'face_mesh_solution_packed_assets.data');
  const entry = [...loader.matchAll(/"filename":\s*"([^"]+)",\s*"start":\s*(\d+),\s*"end":\s*(\d+)/g)]
    .find((m) => m[1].endsWith(`/${name}`));
  if (!entry) throw new Error(`${name} not found in @mediapipe/face_mesh packed assets`);
  return data.subarray(Number(entry[2]), Number(entry[3]));
}
