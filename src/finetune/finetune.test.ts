import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { main } from '../cli';
import { checkFaces, checkInputFile, LIMITS } from './align';
import type { LandmarkedImage } from './align';
import { buildStylePack, formatDuration, formatProgress, packIdFromName } from './build';
import { PackBuildError } from './errors';
import { imageInfo } from './image-info';

function png(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(bytes.buffer).setUint32(16, width);
  new DataView(bytes.buffer).setUint32(20, height);
  return bytes;
}

function jpeg(width: number, height: number): Uint8Array {
  // SOI, APP0 (length 16), SOF0 with height/width
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...new Array<number>(14).fill(0)];
  const sof = [0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 255, width >> 8, width & 255, 3, ...new Array<number>(9).fill(0)];
  return new Uint8Array([0xff, 0xd8, ...app0, ...sof]);
}

function webpVp8x(width: number, height: number): Uint8Array {
  const b = new Uint8Array(30);
  b.set([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x58]);
  const w = width - 1;
  const h = height - 1;
  b.set([w & 255, (w >> 8) & 255, (w >> 16) & 255, h & 255, (h >> 8) & 255, (h >> 16) & 255], 24);
  return b;
}

/** A landmarked face: 478 points on a grid around the crop centre, scaled by `scale`. */
function face(scale = 0.25, jitter = 0): LandmarkedImage['faces'][number] {
  const points = Array.from({ length: 478 }, (_, i) => ({ x: 256 + ((i % 22) - 11) * 8 + jitter, y: 256 + (Math.floor(i / 22) - 11) * 8 }));
  return { points, cropFromImage: [scale, 0, 0, 0, scale, 0] };
}
const image = (faces: LandmarkedImage['faces'], file = 'x.jpg'): LandmarkedImage => ({ file, width: 512, height: 512, faces });

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'finetune-test-'));
}

describe('imageInfo', () => {
  it('reads PNG, JPEG and WebP sizes from the header', () => {
    expect(imageInfo(png(640, 480))).toEqual({ mediaType: 'image/png', width: 640, height: 480 });
    expect(imageInfo(jpeg(512, 300))).toEqual({ mediaType: 'image/jpeg', width: 512, height: 300 });
    expect(imageInfo(webpVp8x(1000, 700))).toEqual({ mediaType: 'image/webp', width: 1000, height: 700 });
    expect(imageInfo(new TextEncoder().encode('hello, not an image'))).toBeUndefined();
  });
});

describe('checkInputFile', () => {
  it('refuses missing files, non-images and huge images with typed errors', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.jpg'), 'just text');
    await writeFile(join(dir, 'bomb.png'), png(20000, 20000));
    await writeFile(join(dir, 'ok.png'), png(512, 512));
    await expect(checkInputFile(join(dir, 'missing.jpg'))).rejects.toMatchObject({ code: 'not-found' });
    await expect(checkInputFile(join(dir, 'notes.jpg'))).rejects.toMatchObject({ code: 'not-an-image' });
    await expect(checkInputFile(join(dir, 'bomb.png'))).rejects.toMatchObject({ code: 'too-large' });
    await expect(checkInputFile(join(dir, 'ok.png'))).resolves.toMatchObject({ width: 512 });
  });
});

describe('checkFaces', () => {
  it('accepts one aligned face per image and maps points into the crop', () => {
    const [real, style] = checkFaces([image([face()], 'r.jpg'), image([face(0.25, 2)], 's.jpg')]);
    expect(real!.cropFromImage).toEqual([0.25, 0, 0, 0, 0.25, 0]);
    expect(style!.cropPoints[0]!.x).toBeCloseTo(real!.cropPoints[0]!.x + 0.5);
  });
  it('refuses no face, several faces, small faces and pairs that do not align', () => {
    const code = (f: () => unknown): string | undefined => {
      try { f(); } catch (e) { return e instanceof PackBuildError ? e.code : 'other'; }
      return undefined;
    };
    expect(code(() => checkFaces([image([])]))).toBe('no-face');
    expect(code(() => checkFaces([image([face(), face()])]))).toBe('several-faces');
    expect(code(() => checkFaces([image([face(4)])]))).toBe('face-too-small');
    expect(code(() => checkFaces([image([face()]), image([face(0.25, 200)])]))).toBe('faces-do-not-align');
    expect(code(() => checkFaces([{ ...image([]), error: 'decode failed' }]))).toBe('not-an-image');
    expect(LIMITS.maxMeanLandmarkDistance).toBeGreaterThan(1.5); // the reference pairs measure 0.8-1.3 px
  });
});

describe('buildStylePack', () => {
  it('leaves nothing behind when the input is refused', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'style.png'), png(512, 512));
    const outDir = join(dir, 'out', 'pack');
    await expect(
      buildStylePack({ style: join(dir, 'style.png'), outDir, name: 'x', landmark: async (files) => files.map((f) => image([], f)) }),
    ).rejects.toMatchObject({ code: 'no-face' });
    expect(await readdir(join(dir, 'out'))).toEqual([]); // no pack, no temp dir
  });
  it('refuses an existing output directory before any work', async () => {
    const dir = await tempDir();
    await expect(buildStylePack({ style: join(dir, 'nope.png'), outDir: dir, name: 'x' })).rejects.toThrow(/already exists/);
  });
});

describe('progress and names', () => {
  it('formats a bar with percentage, ETA and losses', () => {
    const line = formatProgress({ stage: 'finetune', step: 50, total: 200, etaSeconds: 192, losses: { dir: 0.5, rec: 0.25 } }, 8);
    expect(line).toBe('finetune [##------]  25%  ETA 3m12s  dir 0.500 rec 0.250');
    expect(formatDuration(59.6)).toBe('1m00s');
  });
  it('derives a valid pack id from a name', () => {
    expect(packIdFromName('Caricature: Big Eyes!')).toBe('caricature-big-eyes');
    expect(packIdFromName('***')).toBe('style');
  });
});

describe('face-stylizer pack build (CLI)', () => {
  it('reports typed input errors with exit code 1 and usage errors with 2', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.jpg'), 'not an image');
    const lines: string[] = [];
    const output = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await main(['pack', 'build', '--style', join(dir, 'notes.jpg'), '--out', join(dir, 'p')], output)).toBe(1);
    expect(lines.join('\n')).toMatch(/error \[not-an-image\]/);
    expect(await main(['pack', 'build', '--out', join(dir, 'p')], output)).toBe(2);
  });
});
