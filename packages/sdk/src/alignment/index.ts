import { map, type OperatorFunction } from 'rxjs';
import type { StatsRecorder } from '../frames/stats';
import { FACE_OVAL_INDICES } from '../tracking/face-oval';
import type { TrackedFace, TrackedFrame } from '../tracking';
import { alignmentFor, applyAffine, type FaceAlignment } from './ffhq';

export { GlCropRenderer, type CropRenderer } from './crop';
export { cropVideoFrame, sampleCrop, type FrameCrop } from './cpu-crop';
export type { Affine, FaceAlignment, Point } from './ffhq';

export interface AlignedFace extends TrackedFace {
  readonly alignment: FaceAlignment;
  /** The face-oval polygon in crop pixels, [x0, y0, x1, y1, ...]: the blend mask's outline. */
  readonly ovalInCrop: Float32Array;
}

export interface AlignedFrame extends TrackedFrame {
  readonly faces: readonly AlignedFace[];
}

/** The contract's crop: its side in pixels and the alignment rule's id (`ffhq-v1`, `face-core-v1`). */
export interface CropSpec {
  readonly size: number;
  readonly alignment: string;
}

/** Stage operator: adds each face's crop transform (CPU math; the warp itself runs on the GPU later). */
export function alignFaces(crop: CropSpec, stats?: StatsRecorder): OperatorFunction<TrackedFrame, AlignedFrame> {
  return map((tracked) => {
    const align = () => ({ ...tracked, faces: tracked.faces.flatMap((face) => alignFace(face, crop)) });
    return stats ? stats.measure('alignment', align) : align();
  });
}

/** One face's crop transform and oval in crop space; none for degenerate landmarks. */
export function alignFace(face: TrackedFace, crop: CropSpec): AlignedFace[] {
  const align = alignmentFor(crop.alignment); // (an unknown id is refused when the contract is parsed)
  let alignment: FaceAlignment;
  try {
    alignment = align(face.landmarks, crop.size);
  } catch {
    return []; // degenerate landmarks (e.g. a face seen edge-on): leave this face unstylized
  }
  const ovalInCrop = new Float32Array(FACE_OVAL_INDICES.length * 2);
  FACE_OVAL_INDICES.forEach((landmark, i) => {
    const p = applyAffine(alignment.cropFromImage, face.landmarks[landmark] ?? { x: 0, y: 0 });
    ovalInCrop[2 * i] = p.x;
    ovalInCrop[2 * i + 1] = p.y;
  });
  return [{ ...face, alignment, ovalInCrop }];
}
