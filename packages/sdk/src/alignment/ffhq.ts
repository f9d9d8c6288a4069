/**
 * Face alignment `ffhq-v1`: the FFHQ crop rule (Karras et al., ffhq-dataset) computed from
 * MediaPipe face-mesh landmarks. This file is the single implementation of the alignment
 * math: the runtime uses it per frame and dataset preparation for training uses it too, so
 * training crops and runtime crops match.
 *
 * Coordinates are continuous pixel coordinates: pixel (i, j) covers [i, i+1) × [j, j+1), so
 * its centre is (i + 0.5, j + 0.5). The crop is `size` × `size` in the same convention.
 */

export interface Point {
  x: number;
  y: number;
}

/** Row-major 2×3 affine [a, b, c, d, e, f]: x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Affine = readonly [number, number, number, number, number, number];

export interface FaceAlignment {
  /** Maps image pixels to crop pixels. */
  cropFromImage: Affine;
  /** Maps crop pixels to image pixels (the inverse). */
  imageFromCrop: Affine;
  /** Crop side in pixels. */
  size: number;
}

export const ALIGNMENT_ID = 'ffhq-v1';

/**
 * Alignment `face-core-v1` (contract v2): the ffhq-v1 square shrunk to `scale` of its side and
 * moved down by `shift` of its side, so the crop frames the face oval (forehead to chin) instead
 * of FFHQ's head-and-shoulders. The blend only uses the oval, and on MediaPipe's canonical face
 * the oval spans 61 % × 70 % of the ffhq-v1 square but 79 % × 91 % of this one: the model's
 * pixels go where a person looks (a face whose oval is 40 % of a 480 px frame gets 0.6 crop
 * pixels per displayed pixel at 128², not 0.47). The margin left around the oval (6 px above
 * and below, 13 px at the sides at 128²) is what the warps sample from at the crop's edge.
 * training/prepare_data.py reframes the dataset's ffhq-v1 matrices with the same numbers
 * (checked by the shared crop fixture).
 */
export const FACE_CORE_ALIGNMENT_ID = 'face-core-v1';
export const FACE_CORE_FRAMING = { scale: 0.77, shift: 0.1 } as const;

/** The alignments this runtime implements, by the contract's `crop.alignment` id. */
export const ALIGNMENTS: Readonly<Record<string, (landmarks: readonly Point[], size: number) => FaceAlignment>> = {
  [ALIGNMENT_ID]: ffhqAlignment,
  [FACE_CORE_ALIGNMENT_ID]: faceCoreAlignment,
};

/** The alignment function for a contract's `crop.alignment`; throws a RangeError for one it does not know. */
export function alignmentFor(id: string): (landmarks: readonly Point[], size: number) => FaceAlignment {
  const align = ALIGNMENTS[id];
  if (!align) throw new RangeError(`crop alignment '${id}' is not implemented (known: ${Object.keys(ALIGNMENTS).join(', ')})`);
  return align;
}

/**
 * How a crop pixel is sampled (both runtime shader and dataset tool follow it): the mean of
 * four bilinear samples at crop offsets (±0.25, ±0.25) px — a 2× supersample that avoids the
 * aliasing of a single bilinear tap when a large face is shrunk — with mirrored edges.
 */
export const CROP_SAMPLING = { supersample: 2, edges: 'mirror' } as const;

// Face-mesh contour of the eye on the image's left and on its right (subject's right/left).
export const EYE_LEFT_INDICES = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246] as const;
export const EYE_RIGHT_INDICES = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466] as const;
export const MOUTH_LEFT_INDEX = 61;
export const MOUTH_RIGHT_INDEX = 291;

function mean(points: readonly Point[], indices: readonly number[]): Point {
  let x = 0;
  let y = 0;
  for (const i of indices) {
    const p = points[i];
    if (!p) throw new RangeError(`landmark ${i} missing: expected 468 face-mesh landmarks`);
    x += p.x;
    y += p.y;
  }
  return { x: x / indices.length, y: y / indices.length };
}

/** The four points the FFHQ rule needs, from 468 (or 478) face-mesh landmarks in pixels. */
export function alignmentKeypoints(landmarks: readonly Point[]): {
  eyeLeft: Point;
  eyeRight: Point;
  mouthLeft: Point;
  mouthRight: Point;
} {
  const mouthLeft = landmarks[MOUTH_LEFT_INDEX];
  const mouthRight = landmarks[MOUTH_RIGHT_INDEX];
  if (!mouthLeft || !mouthRight) throw new RangeError('expected 468 face-mesh landmarks');
  return {
    eyeLeft: mean(landmarks, EYE_LEFT_INDICES),
    eyeRight: mean(landmarks, EYE_RIGHT_INDICES),
    mouthLeft,
    mouthRight,
  };
}

/**
 * The FFHQ rule: the crop is centred a little below the eyes, oriented along the eye line
 * (corrected by the eye-to-mouth direction) and sized from the larger of the eye distance
 * and the eye-to-mouth distance, so turned or tilted heads keep a sensible crop.
 */
export function ffhqAlignment(landmarks: readonly Point[], size: number): FaceAlignment {
  const { eyeLeft, eyeRight, mouthLeft, mouthRight } = alignmentKeypoints(landmarks);
  const eyeAvg = { x: (eyeLeft.x + eyeRight.x) / 2, y: (eyeLeft.y + eyeRight.y) / 2 };
  const eyeToEye = { x: eyeRight.x - eyeLeft.x, y: eyeRight.y - eyeLeft.y };
  const mouthAvg = { x: (mouthLeft.x + mouthRight.x) / 2, y: (mouthLeft.y + mouthRight.y) / 2 };
  const eyeToMouth = { x: mouthAvg.x - eyeAvg.x, y: mouthAvg.y - eyeAvg.y };

  // x-axis of the crop: eye_to_eye - flipud(eye_to_mouth) * [-1, 1]
  let axisX = { x: eyeToEye.x + eyeToMouth.y, y: eyeToEye.y - eyeToMouth.x };
  const axisLength = Math.hypot(axisX.x, axisX.y);
  if (!(axisLength > 1e-6)) throw new RangeError('degenerate landmarks: eyes and mouth coincide');
  const halfSide = Math.max(Math.hypot(eyeToEye.x, eyeToEye.y) * 2.0, Math.hypot(eyeToMouth.x, eyeToMouth.y) * 1.8);
  axisX = { x: axisX.x / axisLength, y: axisX.y / axisLength };
  const axisY = { x: -axisX.y, y: axisX.x };
  const centre = { x: eyeAvg.x + eyeToMouth.x * 0.1, y: eyeAvg.y + eyeToMouth.y * 0.1 };

  const k = size / (2 * halfSide);
  const cropFromImage: Affine = [
    k * axisX.x,
    k * axisX.y,
    size / 2 - k * (centre.x * axisX.x + centre.y * axisX.y),
    k * axisY.x,
    k * axisY.y,
    size / 2 - k * (centre.x * axisY.x + centre.y * axisY.y),
  ];
  return { cropFromImage, imageFromCrop: invertAffine(cropFromImage), size };
}

/** `face-core-v1`: the ffhq-v1 crop reframed on the face oval (see FACE_CORE_FRAMING). */
export function faceCoreAlignment(landmarks: readonly Point[], size: number): FaceAlignment {
  return { ...reframe(ffhqAlignment(landmarks, size).cropFromImage, size), size };
}

/** ffhq-v1 crop pixels -> face-core-v1 crop pixels, composed after an ffhq-v1 cropFromImage. */
export function reframe(ffhqCropFromImage: Affine, size: number): Omit<FaceAlignment, 'size'> {
  const { scale, shift } = FACE_CORE_FRAMING;
  const origin = (size * (1 - scale)) / 2; // the new crop's top-left corner in ffhq-v1 crop pixels
  const coreFromFfhq: Affine = [1 / scale, 0, -origin / scale, 0, 1 / scale, -(origin + shift * size) / scale];
  const cropFromImage = composeAffine(coreFromFfhq, ffhqCropFromImage);
  return { cropFromImage, imageFromCrop: invertAffine(cropFromImage) };
}

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  if (Math.abs(det) < 1e-12) throw new RangeError('affine transform is not invertible');
  const a = m[4] / det;
  const b = -m[1] / det;
  const d = -m[3] / det;
  const e = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])];
}

/** `outer ∘ inner`: first apply `inner`, then `outer`. */
export function composeAffine(outer: Affine, inner: Affine): Affine {
  return [
    outer[0] * inner[0] + outer[1] * inner[3],
    outer[0] * inner[1] + outer[1] * inner[4],
    outer[0] * inner[2] + outer[1] * inner[5] + outer[2],
    outer[3] * inner[0] + outer[4] * inner[3],
    outer[3] * inner[1] + outer[4] * inner[4],
    outer[3] * inner[2] + outer[4] * inner[5] + outer[5],
  ];
}
