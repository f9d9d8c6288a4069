/** Why `pack build` refused its input or failed. One code per thing a user can fix. */
export type PackBuildErrorCode =
  | 'not-found' // an input file does not exist
  | 'not-an-image' // not a PNG, JPEG or WebP
  | 'too-large' // file bytes or pixel count above the limits (decompression bombs, 8k scans)
  | 'no-face' // the landmarker found no face
  | 'several-faces' // more than one face: which one is meant is ambiguous
  | 'face-too-small' // the face covers too few pixels for a 128² crop
  | 'faces-do-not-align' // real and style faces differ in pose/layout beyond what a style explains
  | 'finetune-failed'; // the Python fine-tuner failed (its message is passed on)

export class PackBuildError extends Error {
  override readonly name = 'PackBuildError';
  constructor(
    readonly code: PackBuildErrorCode,
    message: string,
    /** The input file concerned, when there is one. */
    readonly file?: string,
  ) {
    super(message);
  }
}
