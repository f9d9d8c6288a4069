/**
 * loadStylePack: the browser side of docs/style-pack.md. Fetches manifest.json, refuses a
 * foreign, too new or incompatible pack before downloading anything large, then downloads
 * (or takes from the cache) the generator and preview, verifying size and SHA-256 of each.
 */

import { defaultStylePackCache, stylePackCacheKey } from './cache';
import type { StylePackCache } from './cache';
import { StylePackError } from './errors';
import {
  MANIFEST_FILE_NAME,
  MANIFEST_MAX_BYTES,
  checkStylePackCompatibility,
  decodeStylePackManifest,
} from './manifest';
import type { BaseModel, StylePackFile, StylePackManifest } from './manifest';
import { verifyStylePackFile } from './verify';

export interface StylePackProgress {
  /** Bytes of the generator and preview received so far (cache hits count at once). */
  readonly bytesLoaded: number;
  /** Their total, from the manifest. */
  readonly bytesTotal: number;
}

export interface LoadStylePackOptions {
  /** The base model the runtime has loaded; the pack must be made for it ('incompatible' otherwise). */
  readonly base: BaseModel;
  /** Aborting rejects with `signal.reason` (an AbortError by default), not a StylePackError. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: StylePackProgress) => void;
  /** Where verified files are kept across page loads: Cache Storage by default, `false` for none. */
  readonly cache?: StylePackCache | false;
}

export interface StylePack {
  readonly manifest: StylePackManifest;
  /** The generator's ONNX bytes, verified. */
  readonly generator: Uint8Array<ArrayBuffer>;
  /** The preview image, verified, typed with the manifest's mediaType. */
  readonly preview: Blob;
}

/**
 * Loads the style pack at `url`: a pack directory (with or without trailing slash) or its
 * manifest.json. Throws StylePackError for every way the pack can be unusable.
 */
export async function loadStylePack(url: string, options: LoadStylePackOptions): Promise<StylePack> {
  const { signal } = options;
  signal?.throwIfAborted();
  const manifestUrl = resolveManifestUrl(url);
  const packUrl = new URL('./', manifestUrl).href;

  // One byte over the limit is enough to tell "too large" (foreign) from a manifest at the limit.
  const manifestBody = await download(manifestUrl, MANIFEST_MAX_BYTES + 1, MANIFEST_FILE_NAME, packUrl, signal, () => {});
  const manifest = decodeStylePackManifest(manifestBody.bytes, packUrl);
  checkStylePackCompatibility(manifest, options.base, packUrl);

  const { generator, preview } = manifest.files;
  const bytesTotal = generator.bytes + preview.bytes;
  let bytesLoaded = 0;
  const addProgress = (bytes: number): void => {
    bytesLoaded += bytes;
    options.onProgress?.({ bytesLoaded, bytesTotal });
  };
  addProgress(0);

  // Both files download in parallel; the first failure cancels the other.
  const downloads = new AbortController();
  const forwardAbort = (): void => downloads.abort(signal?.reason);
  signal?.addEventListener('abort', forwardAbort, { once: true });
  const context: FileContext = {
    manifestUrl,
    packUrl,
    cache: options.cache === false ? undefined : (options.cache ?? defaultStylePackCache()),
    addProgress,
    signal: downloads.signal,
  };
  try {
    const [generatorBytes, previewBytes] = await Promise.all([loadPackFile(generator, context), loadPackFile(preview, context)]);
    return { manifest, generator: generatorBytes, preview: new Blob([previewBytes], { type: preview.mediaType }) };
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  } finally {
    downloads.abort();
    signal?.removeEventListener('abort', forwardAbort);
  }
}

function resolveManifestUrl(url: string): string {
  const resolved = new URL(url, typeof location === 'undefined' ? undefined : location.href);
  if (resolved.pathname.endsWith(`/${MANIFEST_FILE_NAME}`)) return resolved.href;
  if (/\.(tar|zip)$/i.test(resolved.pathname)) {
    throw new StylePackError(
      'foreign',
      resolved.href,
      'this is an archive; serve the unpacked pack directory (`face-stylizer pack extract`) and load its URL',
    );
  }
  if (!resolved.pathname.endsWith('/')) resolved.pathname += '/';
  return new URL(MANIFEST_FILE_NAME, resolved).href;
}

interface FileContext {
  readonly manifestUrl: string;
  readonly packUrl: string;
  readonly cache: StylePackCache | undefined;
  readonly addProgress: (bytes: number) => void;
  readonly signal: AbortSignal;
}

async function loadPackFile(file: StylePackFile, context: FileContext): Promise<Uint8Array<ArrayBuffer>> {
  const { cache, packUrl, signal } = context;
  const fileUrl = new URL(file.path, context.manifestUrl).href;
  const cacheKey = stylePackCacheKey(fileUrl, file.sha256);

  const cached = cache ? await cache.match(cacheKey).catch(() => undefined) : undefined;
  if (cached) {
    try {
      await verifyStylePackFile(cached, file, packUrl);
      context.addProgress(cached.byteLength);
      return cached;
    } catch (error) {
      if (!(error instanceof StylePackError)) throw error;
      // A damaged cache entry is not the pack's fault: drop it and download again.
      await cache?.delete(cacheKey).catch(() => {});
    }
  }
  signal.throwIfAborted();

  const body = await download(fileUrl, file.bytes, file.path, packUrl, signal, context.addProgress);
  if (body.overflow) {
    throw new StylePackError('corrupt', packUrl, `${file.path} is longer than the ${file.bytes} bytes the manifest declares`, {
      file: file.path,
    });
  }
  await verifyStylePackFile(body.bytes, file, packUrl);
  // Caching is an optimisation: a full or unavailable cache must not fail the load.
  await cache?.put(cacheKey, body.bytes).catch(() => {});
  return body.bytes;
}

/**
 * GETs `url` into a buffer of at most `maxBytes` (the size the manifest declares, so no
 * reallocation and no unbounded memory for a wrong file). `overflow` means the body was longer.
 */
async function download(
  url: string,
  maxBytes: number,
  file: string,
  packUrl: string,
  signal: AbortSignal | undefined,
  onBytes: (bytes: number) => void,
): Promise<{ bytes: Uint8Array<ArrayBuffer>; overflow: boolean }> {
  const transferFailed = (detail: string, cause?: unknown): StylePackError => {
    signal?.throwIfAborted(); // an abort surfaces as the caller's abort reason, not as a network error
    return new StylePackError('network', packUrl, `could not download ${file}: ${detail}`, { file, cause });
  };

  let response: Response;
  try {
    response = await fetch(url, { signal: signal ?? null });
  } catch (error) {
    throw transferFailed(String(error), error);
  }
  if (!response.ok) {
    response.body?.cancel().catch(() => {}); // release the connection; the error page is of no use
    throw transferFailed(`HTTP ${response.status} ${response.statusText}`.trim());
  }

  const buffer = new Uint8Array(maxBytes);
  let length = 0;
  if (!response.body) return { bytes: buffer.subarray(0, 0), overflow: false };
  const reader = response.body.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw transferFailed(`transfer interrupted after ${length} bytes (${String(error)})`, error);
    }
    if (chunk.done) break;
    if (length + chunk.value.byteLength > maxBytes) {
      reader.cancel().catch(() => {});
      return { bytes: buffer, overflow: true };
    }
    buffer.set(chunk.value, length);
    length += chunk.value.byteLength;
    onBytes(chunk.value.byteLength);
  }
  return { bytes: buffer.subarray(0, length), overflow: false };
}
