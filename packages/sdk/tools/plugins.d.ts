export interface FaceStylizerAssetOptions {
  /** The SDK option of the same name; default ['webgpu', 'wasm']. ['wasm']: the CPU path only. */
  readonly executionProviders?: readonly ('webgpu' | 'wasm')[];
  /** Style packs of @face-stylizer/models served under packs/ (with packs/index.json); default 'default'. */
  readonly packs?: 'default' | 'all' | 'none' | readonly string[];
}
/** Vite plugin: serves the SDK's assets in dev, writes them beside the chunks on build. */
export function faceStylizer(options?: FaceStylizerAssetOptions): { name: string; [hook: string]: unknown };
/** Rollup plugin: writes the SDK's assets into the output folder. */
export function faceStylizerAssets(options?: FaceStylizerAssetOptions): { name: string; [hook: string]: unknown };
