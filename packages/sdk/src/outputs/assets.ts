import { FaceStylizerError } from '../errors';

/**
 * Where every file the SDK loads comes from. All default to folders under one asset base, so a
 * page can allow exactly one origin/path and nothing else is ever requested.
 *
 *   <assetBase>/mediapipe/wasm/               @mediapipe/tasks-vision/wasm/*
 *   <assetBase>/mediapipe/face_landmarker.task models/mediapipe/face_landmarker.task
 *   <assetBase>/ort/                          onnxruntime-web/dist/*.wasm, *.mjs
 *   <assetBase>/sdk/inference-worker.js       dist/worker/inference-worker.js of this package
 *   <assetBase>/sdk/tracking-worker.js        dist/worker/tracking-worker.js of this package
 *   <assetBase>/models/base/                  contract.json, encoder.onnx, generator.onnx
 *   <assetBase>/packs/<id>/                   style packs named by id (`pack: 'cartoon-narrow'`)
 */
export interface AssetUrls {
  readonly mediapipeWasm: string;
  readonly faceLandmarker: string;
  readonly ortWasm: string;
  /** The SDK's inference worker script (module worker; same origin as the page). */
  readonly inferenceWorker: string;
  /** The SDK's tracking worker script (classic worker; same origin as the page). */
  readonly trackingWorker: string;
  readonly baseModel: string;
  /** Folder of the style packs a `pack` option names by id. */
  readonly packs: string;
}

/**
 * The default asset base: the folder of the JavaScript file the SDK runs from (this module's URL
 * after bundling), where `npx face-stylizer assets <dir>` (beside face-stylizer.bundle.js) and the
 * Vite/Rollup plugins (beside the chunks) put the assets. Read as a string, not
 * `new URL('./', import.meta.url)`, which bundlers would try to resolve as a file at build time.
 */
export function defaultAssetBase(): string {
  const url = import.meta.url;
  return url.slice(0, url.lastIndexOf('/') + 1);
}

export function resolveAssetUrls(assetBase: string = defaultAssetBase(), overrides: Partial<AssetUrls> = {}): AssetUrls {
  const base = new URL(assetBase.endsWith('/') ? assetBase : `${assetBase}/`, globalThis.location?.href).href;
  return {
    mediapipeWasm: overrides.mediapipeWasm ?? `${base}mediapipe/wasm/`,
    faceLandmarker: overrides.faceLandmarker ?? `${base}mediapipe/face_landmarker.task`,
    ortWasm: overrides.ortWasm ?? `${base}ort/`,
    inferenceWorker: overrides.inferenceWorker ?? `${base}sdk/inference-worker.js`,
    trackingWorker: overrides.trackingWorker ?? `${base}sdk/tracking-worker.js`,
    baseModel: overrides.baseModel ?? `${base}models/base/`,
    packs: overrides.packs ?? `${base}packs/`,
  };
}

/**
 * A `pack` option as a URL: a bare pack id (`cartoon-narrow`: no slash, not a file name) is
 * the pack of that id under the asset base's packs/; anything else is a URL, relative to the page.
 */
export function packUrl(pack: string, assets: AssetUrls): string {
  return /^[a-z0-9][a-z0-9._-]{0,63}$/.test(pack) && !/\.(json|tar|zip)$/.test(pack) ? `${assets.packs}${pack}/` : pack;
}

export interface LoadProgress {
  /** The file being downloaded. */
  readonly url: string;
  readonly bytesLoaded: number;
  /** From Content-Length; 0 when unknown. */
  readonly bytesTotal: number;
}

/** Fetches a file completely, reporting progress; failures become 'asset-load-failed'. */
export async function fetchAsset(url: string, onProgress?: (progress: LoadProgress) => void): Promise<Uint8Array> {
  try {
    const response = await fetch(url);
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    const bytesTotal = Number(response.headers.get('content-length') ?? 0);
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let bytesLoaded = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytesLoaded += value.byteLength;
      onProgress?.({ url, bytesLoaded, bytesTotal });
    }
    const bytes = new Uint8Array(bytesLoaded);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes;
  } catch (cause) {
    throw new FaceStylizerError('asset-load-failed', `Could not load ${url}.`, { cause });
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
