/**
 * Detects and aligns the pair's faces with the runtime's own landmarker + ffhq-v1 alignment
 * (headless Chromium, scripts/lib/face-landmarks.mjs), and refuses inputs a pack cannot be
 * built from. `checkInputFile` and `checkFaces` are pure, so they are tested without a browser.
 */

import { readFile, stat } from 'node:fs/promises';

import { PackBuildError } from './errors';
import { imageInfo } from './image-info';
import type { ImageInfo } from './image-info';

export const LIMITS = {
  maxBytes: 50 * 2 ** 20,
  maxPixels: 40_000_000,
  /** Smallest source side (px) of the face square: below it the 128² crop is upsampling blur. */
  minFaceSide: 64,
  /** Mean distance of the face-mesh points of real and style, in crop px (at 128). The five
   * reference pairs measure 0.8-1.3 px; a different pose or person layout gives tens. */
  maxMeanLandmarkDistance: 10,
};

export interface LandmarkedImage {
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly faces: readonly { points: readonly { x: number; y: number }[]; cropFromImage: readonly number[] }[];
  readonly error?: string;
}

export interface AlignedInput {
  readonly file: string;
  readonly cropFromImage: readonly number[];
  /** Face-mesh points mapped into the crop (crop px). */
  readonly cropPoints: readonly { x: number; y: number }[];
}

export async function checkInputFile(file: string): Promise<ImageInfo> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new PackBuildError('not-found', `${file}: no such file`, file);
  }
  if (size > LIMITS.maxBytes) throw new PackBuildError('too-large', `${file}: ${size} bytes, the limit is ${LIMITS.maxBytes}`, file);
  const info = imageInfo(new Uint8Array(await readFile(file)));
  if (!info) throw new PackBuildError('not-an-image', `${file}: not a PNG, JPEG or WebP image`, file);
  if (info.width * info.height > LIMITS.maxPixels) {
    throw new PackBuildError('too-large', `${file}: ${info.width}x${info.height} pixels, the limit is ${LIMITS.maxPixels}`, file);
  }
  return info;
}

function toCrop(m: readonly number[], p: { x: number; y: number }): { x: number; y: number } {
  return { x: m[0]! * p.x + m[1]! * p.y + m[2]!, y: m[3]! * p.x + m[4]! * p.y + m[5]! };
}

/** One face per image, big enough; for a pair, the two faces must have the same layout. */
export function checkFaces(images: readonly LandmarkedImage[], cropSize = 128): AlignedInput[] {
  const aligned = images.map((image) => {
    if (image.error) throw new PackBuildError('not-an-image', `${image.file}: the browser could not decode it (${image.error})`, image.file);
    if (image.faces.length === 0) throw new PackBuildError('no-face', `${image.file}: no face found`, image.file);
    if (image.faces.length > 1) {
      throw new PackBuildError('several-faces', `${image.file}: ${image.faces.length} faces found; crop the image to one face`, image.file);
    }
    const face = image.faces[0]!;
    const m = face.cropFromImage;
    const side = cropSize / Math.hypot(m[0]!, m[1]!);
    if (side < LIMITS.minFaceSide) {
      throw new PackBuildError('face-too-small', `${image.file}: the face spans ${side.toFixed(0)} px, at least ${LIMITS.minFaceSide} needed`, image.file);
    }
    return { file: image.file, cropFromImage: [...m], cropPoints: face.points.map((p) => toCrop(m, p)) };
  });
  if (aligned.length === 2) {
    const [a, b] = aligned as [AlignedInput, AlignedInput];
    const n = Math.min(a.cropPoints.length, b.cropPoints.length);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.hypot(a.cropPoints[i]!.x - b.cropPoints[i]!.x, a.cropPoints[i]!.y - b.cropPoints[i]!.y);
    const mean = ((sum / n) * 128) / cropSize;
    if (mean > LIMITS.maxMeanLandmarkDistance) {
      throw new PackBuildError(
        'faces-do-not-align',
        `${a.file} and ${b.file}: after alignment the face layouts differ by ${mean.toFixed(1)} px on average ` +
          `(limit ${LIMITS.maxMeanLandmarkDistance}); use a real photo in the same pose as the stylisation`,
        b.file,
      );
    }
  }
  return aligned;
}

/** Landmarks the files in headless Chromium (seconds: browser start + wasm landmarker). */
export async function landmarkFiles(files: readonly string[], cropSize = 128): Promise<LandmarkedImage[]> {
  // plain JS module shared with the dataset tools (no types)
  const { landmarkImageFiles } = (await import('../../scripts/lib/face-landmarks.mjs')) as {
    landmarkImageFiles(files: readonly string[], options: { cropSize: number }): Promise<LandmarkedImage[]>;
  };
  return landmarkImageFiles(files, { cropSize });
}
