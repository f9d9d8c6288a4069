/**
 * Where verified pack files are kept between page loads. An interface so the loader can be
 * tested (and used) where Cache Storage does not exist; the default is Cache Storage.
 * Entries are keyed by file URL + SHA-256, so a pack republished at the same URL with new
 * content misses the cache instead of serving stale bytes.
 */

export interface StylePackCache {
  match(key: string): Promise<Uint8Array<ArrayBuffer> | undefined>;
  put(key: string, bytes: Uint8Array<ArrayBuffer>): Promise<void>;
  delete(key: string): Promise<void>;
}

export const STYLE_PACK_CACHE_NAME = 'face-stylizer-packs-v1';

/** Cache API keys ignore URL fragments, so the hash goes into the query. Never fetched, only matched. */
export function stylePackCacheKey(fileUrl: string, sha256: string): string {
  const key = new URL(fileUrl);
  key.hash = '';
  key.searchParams.set('face-stylizer-sha256', sha256);
  return key.href;
}

/** A StylePackCache on the browser's Cache Storage. */
export function cacheStorageCache(cacheName: string = STYLE_PACK_CACHE_NAME): StylePackCache {
  let opened: Promise<Cache> | undefined;
  const open = (): Promise<Cache> => (opened ??= caches.open(cacheName));
  return {
    async match(key) {
      const response = await (await open()).match(key);
      return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      await (await open()).put(key, new Response(bytes));
    },
    async delete(key) {
      await (await open()).delete(key);
    },
  };
}

/** The cache used when the caller does not choose: Cache Storage where it exists (not in Node, not on http: origins). */
export function defaultStylePackCache(): StylePackCache | undefined {
  return typeof caches === 'undefined' ? undefined : cacheStorageCache();
}
