/**
 * Style packs (docs/style-pack.md): the public surface. Node tooling and the runtime import
 * the validator and friends from the individual modules; users need only what is here.
 */

export { loadStylePack } from './load';
export type { LoadStylePackOptions, StylePack, StylePackProgress } from './load';
export { StylePackError } from './errors';
export type { StylePackErrorCode } from './errors';
export { cacheStorageCache, STYLE_PACK_CACHE_NAME } from './cache';
export type { StylePackCache } from './cache';
export { STYLE_PACK_FORMAT_VERSION } from './manifest';
export type { BaseModel, StylePackFile, StylePackFiles, StylePackManifest } from './manifest';
export type { AlphaRange, ModelContract, TensorSpec } from './contract';
