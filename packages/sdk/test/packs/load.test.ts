import { afterEach, describe, expect, it } from 'vitest';

import type { StylePackCache } from '../../src/packs/cache';
import { loadStylePack, StylePackError } from '../../src/packs/index';
import type { LoadStylePackOptions, StylePackProgress } from '../../src/packs/index';
import {
  baseContract,
  baseEncoderSha256,
  editableManifest,
  encodeJson,
  makeTestPack,
  makeZip,
  withFlippedByte,
} from './fixtures';
import { startPackServer } from './pack-server';
import type { PackServer } from './pack-server';

const base = { contract: baseContract, encoderSha256: baseEncoderSha256 };

let server: PackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serveTestPack(): Promise<{ server: PackServer; generator: Uint8Array; preview: Uint8Array }> {
  const pack = await makeTestPack();
  server = await startPackServer(pack.files);
  return { server, generator: pack.files.get('generator.onnx')!, preview: pack.files.get('preview.png')! };
}

// toEqual walks typed arrays element by element with diff bookkeeping: slow for 300 kB.
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

/** Loads expecting a StylePackError and returns it. */
async function loadError(url: string, options: Partial<LoadStylePackOptions> = {}): Promise<StylePackError> {
  const error = await loadStylePack(url, { base, cache: false, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StylePackError);
  return error as StylePackError;
}

function serveManifest(server: PackServer, manifest: unknown): void {
  server.routes.set('manifest.json', { body: encodeJson(manifest) });
}

/** An in-memory StylePackCache that records what the loader does with it. */
function memoryCache(): StylePackCache & { entries: Map<string, Uint8Array<ArrayBuffer>>; deleted: string[] } {
  const entries = new Map<string, Uint8Array<ArrayBuffer>>();
  const deleted: string[] = [];
  return {
    entries,
    deleted,
    match: async (key) => entries.get(key)?.slice(),
    put: async (key, bytes) => void entries.set(key, bytes.slice()),
    delete: async (key) => {
      deleted.push(key);
      entries.delete(key);
    },
  };
}

describe('loadStylePack', () => {
  it('loads and verifies a valid pack, reporting progress up to the total', async () => {
    const { server, generator, preview } = await serveTestPack();
    const progress: StylePackProgress[] = [];
    const pack = await loadStylePack(server.url, { base, cache: false, onProgress: (p) => progress.push(p) });

    expect(pack.manifest.id).toBe('test-caricature');
    expect(sameBytes(pack.generator, generator)).toBe(true);
    expect(pack.preview.type).toBe('image/png');
    expect(sameBytes(new Uint8Array(await pack.preview.arrayBuffer()), preview)).toBe(true);

    const total = generator.byteLength + preview.byteLength;
    expect(progress.length).toBeGreaterThan(3); // several chunks, not one jump
    expect(progress.every((p) => p.bytesTotal === total)).toBe(true);
    expect(progress.map((p) => p.bytesLoaded)).toEqual([...progress.map((p) => p.bytesLoaded)].sort((a, b) => a - b));
    expect(progress.at(-1)?.bytesLoaded).toBe(total);
  });

  it('accepts the directory URL without trailing slash or the manifest URL itself', async () => {
    const { server } = await serveTestPack();
    for (const url of [server.url.slice(0, -1), `${server.url}manifest.json`]) {
      const pack = await loadStylePack(url, { base, cache: false });
      expect(pack.manifest.name).toBe('Test caricature');
    }
  });

  it("reports a flipped byte as 'corrupt'", async () => {
    const { server, generator } = await serveTestPack();
    server.routes.set('generator.onnx', { body: withFlippedByte(generator, 1234) });
    const error = await loadError(server.url);
    expect(error.code).toBe('corrupt');
    expect(error.file).toBe('generator.onnx');
    expect(error.url).toBe(server.url);
    expect(error.message).toContain('sha256');
  });

  it("reports a file longer than declared as 'corrupt'", async () => {
    const { server, preview } = await serveTestPack();
    server.routes.set('preview.png', { body: new Uint8Array([...preview, 0]) });
    const error = await loadError(server.url);
    expect([error.code, error.file]).toEqual(['corrupt', 'preview.png']);
  });

  it("reports a truncated generator as 'truncated'", async () => {
    const { server, generator } = await serveTestPack();
    server.routes.set('generator.onnx', { body: generator.subarray(0, generator.byteLength - 1000) });
    const error = await loadError(server.url);
    expect([error.code, error.file]).toEqual(['truncated', 'generator.onnx']);
  });

  it("reports a wrong format field, garbage JSON and a zip as 'foreign'", async () => {
    const { server } = await serveTestPack();
    const pack = await makeTestPack();

    serveManifest(server, { ...editableManifest(pack.manifest), format: 'some-other-pack' });
    expect((await loadError(server.url)).code).toBe('foreign');

    server.routes.set('manifest.json', { body: new TextEncoder().encode('{"format": "face-stylizer-pack", ') });
    expect((await loadError(server.url)).code).toBe('foreign');

    server.routes.set('manifest.json', { body: makeZip('readme.txt', new TextEncoder().encode('hello')) });
    expect((await loadError(server.url)).code).toBe('foreign');

    // An archive URL is refused up front: the web loader reads unpacked pack directories.
    expect((await loadError(`${server.url}pack.zip`)).code).toBe('foreign');
    expect(server.requestCount('generator.onnx')).toBe(0);
  });

  it("reports missing required fields as 'foreign', naming them", async () => {
    const { server } = await serveTestPack();
    const manifest = editableManifest((await makeTestPack()).manifest);
    delete manifest['licence'];
    delete manifest['files']['preview'];
    serveManifest(server, manifest);
    const error = await loadError(server.url);
    expect(error.code).toBe('foreign');
    expect(error.message).toContain('licence: missing');
    expect(error.message).toContain('files.preview: missing');
  });

  it("reports formatVersion 2 as 'unsupported-version' without downloading the generator", async () => {
    const { server } = await serveTestPack();
    serveManifest(server, { ...editableManifest((await makeTestPack()).manifest), formatVersion: 2 });
    const error = await loadError(server.url);
    expect(error.code).toBe('unsupported-version');
    expect(server.requestCount('generator.onnx')).toBe(0);
  });

  it("reports a different w_plus shape as 'incompatible' without downloading the generator", async () => {
    const { server } = await serveTestPack();
    const manifest = editableManifest((await makeTestPack()).manifest);
    manifest['contract']['generator']['inputs']['w_plus']['shape'] = [1, 14, 512];
    manifest['contract']['encoder']['outputs']['w_plus']['shape'] = [1, 14, 512];
    serveManifest(server, manifest);
    const error = await loadError(server.url);
    expect(error.code).toBe('incompatible');
    expect(error.message).toContain('w_plus');
    expect(server.requestCount('generator.onnx')).toBe(0);
  });

  it("reports a pack made for another base encoder as 'incompatible'", async () => {
    const { server } = await serveTestPack();
    const error = await loadError(server.url, { base: { contract: baseContract, encoderSha256: 'a'.repeat(64) } });
    expect(error.code).toBe('incompatible');
  });

  it("reports HTTP errors, a broken connection and a refused connection as 'network'", async () => {
    const { server, generator, preview } = await serveTestPack();
    server.routes.delete('preview.png');
    let error = await loadError(server.url);
    expect([error.code, error.file, error.message.includes('HTTP 404')]).toEqual(['network', 'preview.png', true]);

    server.routes.set('preview.png', { body: preview });
    server.routes.set('generator.onnx', { body: generator, cutAfter: 100_000 });
    error = await loadError(server.url);
    expect([error.code, error.file]).toEqual(['network', 'generator.onnx']);

    error = await loadError('http://127.0.0.1:1/pack/');
    expect([error.code, error.file]).toEqual(['network', 'manifest.json']);
  });

  it('rejects with the AbortError, not a StylePackError, when aborted', async () => {
    const { server } = await serveTestPack();
    const controller = new AbortController();
    const loading = loadStylePack(server.url, {
      base,
      cache: false,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytesLoaded > 0) controller.abort();
      },
    });
    await expect(loading).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('loadStylePack cache', () => {
  it('serves a second load from the cache, with no generator request', async () => {
    const { server, generator } = await serveTestPack();
    const cache = memoryCache();
    await loadStylePack(server.url, { base, cache });
    expect(server.requestCount('generator.onnx')).toBe(1);
    expect(cache.entries.size).toBe(2);

    const progress: StylePackProgress[] = [];
    const again = await loadStylePack(server.url, { base, cache, onProgress: (p) => progress.push(p) });
    expect(sameBytes(again.generator, generator)).toBe(true);
    expect(server.requestCount('generator.onnx')).toBe(1);
    expect(server.requestCount('preview.png')).toBe(1);
    expect(server.requestCount('manifest.json')).toBe(2); // the manifest is always fetched: it says which bytes are current
    expect(progress.at(-1)?.bytesLoaded).toBe(progress.at(-1)?.bytesTotal);
  });

  it('evicts a poisoned cache entry and downloads the file again', async () => {
    const { server, generator } = await serveTestPack();
    const cache = memoryCache();
    await loadStylePack(server.url, { base, cache });
    const [generatorKey] = [...cache.entries.keys()].filter((key) => key.includes('generator.onnx'));
    cache.entries.set(generatorKey!, withFlippedByte(generator, 0));

    const pack = await loadStylePack(server.url, { base, cache });
    expect(sameBytes(pack.generator, generator)).toBe(true);
    expect(cache.deleted).toEqual([generatorKey]);
    expect(server.requestCount('generator.onnx')).toBe(2);
    expect(sameBytes(cache.entries.get(generatorKey!)!, generator)).toBe(true);
  });

  it('keys entries by URL and sha256, so a republished pack is downloaded again', async () => {
    const { server } = await serveTestPack();
    const cache = memoryCache();
    await loadStylePack(server.url, { base, cache });

    const republished = await makeTestPack(300_001);
    for (const [path, body] of republished.files) server.routes.set(path, { body });
    const pack = await loadStylePack(server.url, { base, cache });
    expect(pack.generator.byteLength).toBe(300_001);
    expect(server.requestCount('generator.onnx')).toBe(2);
  });

  it('still loads when the cache fails', async () => {
    const { server } = await serveTestPack();
    const broken: StylePackCache = {
      match: () => Promise.reject(new Error('cache unavailable')),
      put: () => Promise.reject(new Error('quota exceeded')),
      delete: () => Promise.reject(new Error('cache unavailable')),
    };
    const pack = await loadStylePack(server.url, { base, cache: broken });
    expect(pack.manifest.id).toBe('test-caricature');
  });
});
