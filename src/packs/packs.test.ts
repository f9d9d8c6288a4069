import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StylePackError } from '../../packages/sdk/src/packs/errors';
import type { StylePackErrorCode } from '../../packages/sdk/src/packs/errors';
import {
  PNG_SIGNATURE,
  baseContract,
  baseEncoderSha256,
  encodeJson,
  makeZip,
  testBytes,
  withFlippedByte,
} from '../../packages/sdk/test/packs/fixtures';
import { main } from '../cli';
import { archivePack, extractPack } from './archive';
import { buildPack } from './build';
import type { BuildPackOptions } from './build';
import { writeTar } from './tar';
import { loadBaseModel, sha256File, verifyPack } from './verify';

let workDir: string;
let counter = 0;
const freshPath = (name: string): string => join(workDir, `${counter++}-${name}`);

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'face-stylizer-packs-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const generator = testBytes(50_000, 7);
const preview = new Uint8Array([...PNG_SIGNATURE, ...testBytes(500, 8)]);

function buildOptions(outDir: string): BuildPackOptions {
  return {
    outDir,
    generatorOnnx: generator,
    preview,
    contract: baseContract,
    encoderSha256: baseEncoderSha256,
    id: 'toon',
    name: 'Toon',
    version: '0.1.0',
    description: 'A test style.',
    licence: 'CC-BY-4.0',
    author: 'tests',
    training: { steps: 100 },
    createdAt: new Date('2025-03-04T05:06:07Z'),
  };
}

async function builtPack(): Promise<string> {
  const { dir } = await buildPack(buildOptions(freshPath('pack')));
  return dir;
}

async function refusal(promise: Promise<unknown>): Promise<StylePackErrorCode> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StylePackError);
  return (error as StylePackError).code;
}

async function editManifest(dir: string, edit: (manifest: Record<string, any>) => void): Promise<void> {
  const path = join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
  edit(manifest);
  await writeFile(path, encodeJson(manifest));
}

describe('buildPack and verifyPack', () => {
  it('builds a pack that verifies', async () => {
    const dir = await builtPack();
    const { manifest, kind } = await verifyPack(dir, { base: { contract: baseContract, encoderSha256: baseEncoderSha256 } });
    expect(kind).toBe('directory');
    expect(manifest.files.generator).toEqual({ path: 'generator.onnx', sha256: await sha256File(join(dir, 'generator.onnx')), bytes: 50_000 });
    expect(manifest.files.preview).toMatchObject({ path: 'preview.png', mediaType: 'image/png' });
    expect(manifest.alpha).toEqual(baseContract.alpha);
    expect(manifest.createdAt).toBe('2025-03-04T05:06:07.000Z');
  });

  it('refuses invalid metadata without writing anything, and a non-empty output directory', async () => {
    const outDir = freshPath('bad');
    expect(await refusal(buildPack({ ...buildOptions(outDir), version: 'v1' }))).toBe('foreign');
    await expect(readFile(join(outDir, 'manifest.json'))).rejects.toThrow();

    const dir = await builtPack();
    await expect(buildPack(buildOptions(dir))).rejects.toThrow('not empty');
  });

  it("reports a flipped byte as 'corrupt'", async () => {
    const dir = await builtPack();
    await writeFile(join(dir, 'generator.onnx'), withFlippedByte(generator, 100));
    expect(await refusal(verifyPack(dir))).toBe('corrupt');
  });

  it("reports a truncated or missing file as 'truncated'", async () => {
    const dir = await builtPack();
    await truncate(join(dir, 'generator.onnx'), 40_000);
    expect(await refusal(verifyPack(dir))).toBe('truncated');

    const other = await builtPack();
    await unlink(join(other, 'preview.png'));
    expect(await refusal(verifyPack(other))).toBe('truncated');
  });

  it("reports a wrong format, garbage JSON, no manifest, a zip or another tar as 'foreign'", async () => {
    const wrongFormat = await builtPack();
    await editManifest(wrongFormat, (manifest) => (manifest['format'] = 'onnx-bundle'));
    expect(await refusal(verifyPack(wrongFormat))).toBe('foreign');

    const garbage = await builtPack();
    await writeFile(join(garbage, 'manifest.json'), '{"format": "face-stylizer-pack",,}');
    expect(await refusal(verifyPack(garbage))).toBe('foreign');

    const noManifest = await builtPack();
    await unlink(join(noManifest, 'manifest.json'));
    expect(await refusal(verifyPack(noManifest))).toBe('foreign');

    const zip = freshPath('pack.zip');
    await writeFile(zip, makeZip('manifest.json', encodeJson({ hello: 'world' })));
    expect(await refusal(verifyPack(zip))).toBe('foreign');

    const otherTar = freshPath('other.tar');
    await writeFile(otherTar, writeTar([{ path: 'notes.txt', data: new TextEncoder().encode('hi') }], 0));
    expect(await refusal(verifyPack(otherTar))).toBe('foreign');

    const noise = freshPath('noise.bin');
    await writeFile(noise, testBytes(3000, 9));
    expect(await refusal(verifyPack(noise))).toBe('foreign');
  });

  it("reports formatVersion 2 as 'unsupported-version'", async () => {
    const dir = await builtPack();
    await editManifest(dir, (manifest) => (manifest['formatVersion'] = 2));
    expect(await refusal(verifyPack(dir))).toBe('unsupported-version');
  });

  it("reports a contract with a different w_plus shape or crop size as 'incompatible'", async () => {
    const dir = await builtPack();
    await editManifest(dir, (manifest) => (manifest['contract']['generator']['inputs']['w_plus']['shape'] = [1, 18, 512]));
    expect(await refusal(verifyPack(dir, { base: { contract: baseContract } }))).toBe('incompatible');
    await verifyPack(dir); // without a base model there is nothing to be incompatible with

    const bigCrop = { ...baseContract, crop: { size: 256, alignment: 'ffhq-v1' } };
    const other = (await buildPack({ ...buildOptions(freshPath('pack')), contract: bigCrop })).dir;
    expect(await refusal(verifyPack(other, { base: { contract: baseContract } }))).toBe('incompatible');
  });

  it('reads the base model from a directory with contract.json and the encoder', async () => {
    const baseDir = freshPath('base');
    await mkdir(baseDir);
    await writeFile(join(baseDir, 'contract.json'), encodeJson(baseContract));
    await writeFile(join(baseDir, 'encoder.onnx'), testBytes(1000, 3));
    const base = await loadBaseModel(baseDir);
    expect(base.encoderSha256).toBe(await sha256File(join(baseDir, 'encoder.onnx')));

    // The test pack names a made-up encoder, so against this real one it is incompatible.
    expect(await refusal(verifyPack(await builtPack(), { base }))).toBe('incompatible');
  });
});

describe('pack archives', () => {
  it('round-trips a pack through a deterministic tar archive', async () => {
    const dir = await builtPack();
    const archive = freshPath('toon.tar');
    await archivePack(dir, archive);
    expect((await verifyPack(archive)).kind).toBe('archive');

    const again = freshPath('toon-again.tar');
    await archivePack(dir, again);
    expect(Buffer.compare(await readFile(archive), await readFile(again))).toBe(0);

    const extracted = freshPath('extracted');
    await extractPack(archive, extracted);
    await verifyPack(extracted);
    expect(Buffer.compare(await readFile(join(extracted, 'generator.onnx')), generator)).toBe(0);
    expect(Buffer.compare(await readFile(join(extracted, 'manifest.json')), await readFile(join(dir, 'manifest.json')))).toBe(0);
  });

  it('accepts a pack tarred as its folder', async () => {
    const dir = await builtPack();
    const names = ['manifest.json', 'generator.onnx', 'preview.png'];
    const files = await Promise.all(names.map(async (name) => ({ path: `toon/${name}`, data: await readFile(join(dir, name)) })));
    const archive = freshPath('nested.tar');
    await writeFile(archive, writeTar(files, 0));
    expect((await verifyPack(archive)).manifest.id).toBe('toon');
  });

  it("reports a cut-off archive as 'truncated' and a flipped byte as 'corrupt'", async () => {
    const archive = freshPath('toon.tar');
    await archivePack(await builtPack(), archive);
    const bytes = await readFile(archive);

    const cut = freshPath('cut.tar');
    await writeFile(cut, bytes.subarray(0, 20_000));
    expect(await refusal(verifyPack(cut))).toBe('truncated');

    const flipped = freshPath('flipped.tar');
    // manifest header + manifest data come first; 30 000 is inside generator.onnx's data.
    await writeFile(flipped, withFlippedByte(bytes, 30_000));
    expect(await refusal(verifyPack(flipped))).toBe('corrupt');
  });
});

describe('face-stylizer pack CLI', () => {
  function captured(): { lines: string[]; errors: string[]; output: { out(line: string): void; err(line: string): void } } {
    const lines: string[] = [];
    const errors: string[] = [];
    return { lines, errors, output: { out: (line) => lines.push(line), err: (line) => errors.push(line) } };
  }

  it('verifies and describes a pack', async () => {
    const dir = await builtPack();
    const verify = captured();
    expect(await main(['pack', 'verify', dir], verify.output)).toBe(0);
    expect(verify.lines[0]).toMatch(/^ok: toon 0\.1\.0 \(directory\)/);

    const info = captured();
    expect(await main(['pack', 'info', dir], info.output)).toBe(0);
    expect(info.lines.join('\n')).toContain('Toon  (toon 0.1.0)');

    const json = captured();
    expect(await main(['pack', 'info', dir, '--json'], json.output)).toBe(0);
    expect(JSON.parse(json.lines.join('\n'))).toMatchObject({ id: 'toon' });
  });

  it('exits 1 with the error code for a refused pack and 2 for usage errors', async () => {
    const dir = await builtPack();
    await writeFile(join(dir, 'preview.png'), withFlippedByte(preview, 20));
    const corrupt = captured();
    expect(await main(['pack', 'verify', dir], corrupt.output)).toBe(1);
    expect(corrupt.errors[0]).toMatch(/^error \[corrupt\]: .*preview\.png/);

    expect(await main(['pack', 'verify'], captured().output)).toBe(2);
    expect(await main(['pack', 'verify', dir, '--frobnicate'], captured().output)).toBe(2);
    expect(await main(['pack', 'bulid', dir], captured().output)).toBe(2);
    expect(await main([], captured().output)).toBe(2);
  });

  it('runs as a program through tsx', async () => {
    const dir = await builtPack();
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli.ts', 'pack', 'info', dir], { timeout: 60_000 });
    expect(stdout).toContain('Toon  (toon 0.1.0)');
  }, 60_000);
});
