/** Style-pack building from one real/style pair (DoesFS-style fine-tuning in training/finetune/). */
export { buildStylePack, formatDuration, formatProgress, packIdFromName } from './build';
export type { BuildProgress, BuildStylePackOptions } from './build';
export { LIMITS, checkFaces, checkInputFile, landmarkFiles } from './align';
export { PackBuildError } from './errors';
export type { PackBuildErrorCode } from './errors';
export { imageInfo } from './image-info';
