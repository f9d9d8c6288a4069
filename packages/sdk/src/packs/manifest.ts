/**
 * manifest.json of a style pack, format v1 (docs/style-pack.md): its type, the one validator
 * used by the browser loader and the Node tooling alike, and the compatibility check against
 * the base model the runtime has loaded.
 */

import { collectAlphaRange, collectModelContract, contractDifferences } from './contract';
import type { AlphaRange, ModelContract } from './contract';
import type { FrameGrade } from '../blend/grade';
import { StylePackError } from './errors';
import { Issues, childPath, isRecord, numberAt, objectAt, stringAt } from './json-checks';

export const STYLE_PACK_FORMAT = 'face-stylizer-pack';
/** The newest `formatVersion` this code reads. */
export const STYLE_PACK_FORMAT_VERSION = 1;
export const MANIFEST_FILE_NAME = 'manifest.json';
/** A manifest larger than this is not a manifest; readers stop there instead of buffering it. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;
/** Largest file a pack may list: ONNX (protobuf) cannot exceed 2 GiB, nor can browsers buffer much more. */
export const PACK_FILE_MAX_BYTES = 2 ** 31 - 1;

export interface StylePackFile {
  /** Relative POSIX path inside the pack, e.g. "generator.onnx". */
  readonly path: string;
  /** Lowercase hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  /** Exact size in bytes. */
  readonly bytes: number;
  readonly mediaType?: string;
}

export interface StylePackFiles {
  readonly generator: StylePackFile;
  readonly preview: StylePackFile & { readonly mediaType: string };
  readonly [name: string]: StylePackFile;
}

export interface StylePackManifest {
  readonly format: typeof STYLE_PACK_FORMAT;
  readonly formatVersion: 1;
  readonly id: string;
  readonly name: string;
  /** Semver of the pack itself. */
  readonly version: string;
  readonly description: string;
  /** RFC 3339 timestamp. */
  readonly createdAt: string;
  /** SPDX licence expression or the licence text. */
  readonly licence: string;
  readonly author: string;
  readonly contract: ModelContract;
  readonly files: StylePackFiles;
  /** The base encoder the generator was trained behind, by the SHA-256 of its ONNX file. */
  readonly base: { readonly encoderSha256: string };
  /** The α range recommended for this style, inside the generator's `contract.alpha`. */
  readonly alpha: AlphaRange;
  /** Free-form provenance: data set, steps, losses, commit... */
  readonly training: Readonly<Record<string, unknown>>;
  /**
   * Optional: the style's colour world over the whole frame (blend/grade.ts: an optional tone,
   * then a colour), fitted by the builder to what the generator does to faces' brightness and
   * colours. Packs without it leave the camera's colours and tone around the face.
   */
  readonly grade?: FrameGrade;
}

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
// semver.org's recommended expression.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const FILE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
// Segments may not start with "." (so no "..", no hidden files); no "\", no scheme, no leading "/".
const PACK_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const PACK_PATH_MAX_LENGTH = 100; // fits a plain ustar header name field
const MEDIA_TYPE = /^[a-z]+\/[a-z0-9.+-]+$/;

/** Decodes and parses manifest.json bytes; throws StylePackError 'foreign' or 'unsupported-version'. */
export function decodeStylePackManifest(bytes: Uint8Array, packUrl: string): StylePackManifest {
  if (bytes.byteLength > MANIFEST_MAX_BYTES) {
    throw new StylePackError('foreign', packUrl, `${MANIFEST_FILE_NAME} is larger than ${MANIFEST_MAX_BYTES} bytes`, {
      file: MANIFEST_FILE_NAME,
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new StylePackError('foreign', packUrl, `${MANIFEST_FILE_NAME} is not UTF-8 text`, { file: MANIFEST_FILE_NAME, cause: error });
  }
  return parseStylePackManifest(text, packUrl);
}

/** Parses manifest.json text; throws StylePackError 'foreign' or 'unsupported-version'. */
export function parseStylePackManifest(text: string, packUrl: string): StylePackManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StylePackError('foreign', packUrl, `${MANIFEST_FILE_NAME} is not JSON`, { file: MANIFEST_FILE_NAME, cause: error });
  }
  return validateStylePackManifest(value, packUrl);
}

/** Validates a parsed manifest; throws StylePackError 'foreign' or 'unsupported-version'. */
export function validateStylePackManifest(value: unknown, packUrl: string): StylePackManifest {
  const foreign = (detail: string): StylePackError =>
    new StylePackError('foreign', packUrl, detail, { file: MANIFEST_FILE_NAME });

  if (!isRecord(value)) throw foreign(`${MANIFEST_FILE_NAME} is not a JSON object`);
  if (value['format'] !== STYLE_PACK_FORMAT) {
    throw foreign(`not a style pack: format is ${JSON.stringify(value['format'])}, expected "${STYLE_PACK_FORMAT}"`);
  }
  // The version is read before anything else: a newer format may have changed every other field.
  const formatVersion = value['formatVersion'];
  if (typeof formatVersion !== 'number' || !Number.isInteger(formatVersion) || formatVersion < 1) {
    throw foreign(`formatVersion must be a positive integer, got ${JSON.stringify(formatVersion)}`);
  }
  if (formatVersion > STYLE_PACK_FORMAT_VERSION) {
    throw new StylePackError(
      'unsupported-version',
      packUrl,
      `pack format version ${formatVersion} is newer than the supported version ${STYLE_PACK_FORMAT_VERSION}; update face-stylizer`,
      { file: MANIFEST_FILE_NAME },
    );
  }

  const issues = new Issues();
  stringAt(value, 'id', '', issues, { pattern: ID, expected: 'a lowercase id of [a-z0-9._-], at most 64 characters' });
  stringAt(value, 'name', '', issues);
  stringAt(value, 'version', '', issues, { pattern: SEMVER, expected: 'a semantic version like 1.0.0' });
  stringAt(value, 'description', '', issues, { allowEmpty: true });
  const createdAt = stringAt(value, 'createdAt', '', issues, { pattern: RFC3339, expected: 'an RFC 3339 timestamp' });
  if (createdAt !== undefined && Number.isNaN(Date.parse(createdAt))) issues.add('createdAt', 'not a real date');
  stringAt(value, 'licence', '', issues);
  stringAt(value, 'author', '', issues);
  const contract = collectModelContract(value['contract'], 'contract', issues);
  collectFiles(value, issues);
  const base = objectAt(value, 'base', '', issues);
  if (base) stringAt(base, 'encoderSha256', 'base', issues, { pattern: SHA256_HEX, expected: '64 lowercase hex digits' });
  const alphaValue = objectAt(value, 'alpha', '', issues);
  const alpha = alphaValue && collectAlphaRange(alphaValue, 'alpha', issues);
  if (alpha && contract && (alpha.min < contract.alpha.min || alpha.max > contract.alpha.max)) {
    issues.add('alpha', `[${alpha.min}, ${alpha.max}] is outside the generator's contract.alpha [${contract.alpha.min}, ${contract.alpha.max}]`);
  }
  objectAt(value, 'training', '', issues);
  if (value['grade'] !== undefined) collectGrade(value, issues);

  if (issues.list.length > 0) throw foreign(`invalid ${MANIFEST_FILE_NAME}: ${issues.list.join('; ')}`);
  return value as unknown as StylePackManifest;
}

function collectGrade(manifest: Record<string, unknown>, issues: Issues): void {
  const grade = objectAt(manifest, 'grade', '', issues);
  if (!grade) return;
  const color = grade['color'];
  if (!Array.isArray(color) || color.length !== 3) {
    issues.add('grade.color', 'expected three sRGB components in [0, 1]');
  } else {
    color.forEach((_, i) => numberAt(color as unknown as Record<string, unknown>, String(i), 'grade.color', issues, { min: 0, max: 1 }));
  }
  numberAt(grade, 'opacity', 'grade', issues, { min: 0, max: 1 });
  if (grade['tone'] === undefined) return;
  const tone = objectAt(grade, 'tone', 'grade', issues);
  if (!tone) return;
  // Within what a style does to a face's brightness (the builder fits gain 0.75-1, offset
  // -0.3-0.3; the shipped packs: gain 0.75-1, offset -0.105-+0.3); a wider tone would wash
  // out or black out the whole camera picture.
  numberAt(tone, 'gain', 'grade.tone', issues, { min: TONE_LIMITS.gain[0], max: TONE_LIMITS.gain[1] });
  numberAt(tone, 'offset', 'grade.tone', issues, { min: TONE_LIMITS.offset[0], max: TONE_LIMITS.offset[1] });
}

/** The frame tone a manifest may ask for (grade.tone). */
export const TONE_LIMITS = { gain: [0.5, 1.5], offset: [-0.4, 0.4] } as const;

function collectFiles(manifest: Record<string, unknown>, issues: Issues): void {
  const files = objectAt(manifest, 'files', '', issues);
  if (!files) return;
  for (const required of ['generator', 'preview']) {
    if (files[required] === undefined) issues.add(childPath('files', required), 'missing');
  }
  const seenPaths = new Set<string>();
  for (const [name, entry] of Object.entries(files)) {
    const path = childPath('files', name);
    if (!FILE_NAME.test(name)) issues.add(path, 'file names are [A-Za-z][A-Za-z0-9_-]*');
    if (!isRecord(entry)) {
      issues.add(path, 'expected an object');
      continue;
    }
    const filePath = stringAt(entry, 'path', path, issues, { pattern: PACK_PATH, expected: 'a relative path inside the pack' });
    if (filePath !== undefined) {
      if (filePath.length > PACK_PATH_MAX_LENGTH) issues.add(childPath(path, 'path'), `longer than ${PACK_PATH_MAX_LENGTH} characters`);
      if (filePath === MANIFEST_FILE_NAME) issues.add(childPath(path, 'path'), `${MANIFEST_FILE_NAME} cannot list itself`);
      if (seenPaths.has(filePath)) issues.add(childPath(path, 'path'), `${filePath} is listed twice`);
      seenPaths.add(filePath);
    }
    stringAt(entry, 'sha256', path, issues, { pattern: SHA256_HEX, expected: '64 lowercase hex digits' });
    numberAt(entry, 'bytes', path, issues, { integer: true, min: 0, max: PACK_FILE_MAX_BYTES });
    if (entry['mediaType'] !== undefined || name === 'preview') {
      const pattern = name === 'preview' ? /^image\/[a-z0-9.+-]+$/ : MEDIA_TYPE;
      stringAt(entry, 'mediaType', path, issues, { pattern, expected: name === 'preview' ? 'an image/* media type' : 'a media type' });
    }
  }
}

/** What the runtime has loaded, for the compatibility check. */
export interface BaseModel {
  /** The base contract (models/base/contract.json). */
  readonly contract: ModelContract;
  /** SHA-256 of the loaded encoder ONNX; when given, the pack must name the same encoder. */
  readonly encoderSha256?: string;
}

/** Throws StylePackError 'incompatible' unless the pack's generator can run behind `base`. */
export function checkStylePackCompatibility(manifest: StylePackManifest, base: BaseModel, packUrl: string): void {
  const differences = contractDifferences(manifest.contract, base.contract);
  if (base.encoderSha256 !== undefined && base.encoderSha256.toLowerCase() !== manifest.base.encoderSha256) {
    differences.push(`pack was trained behind base encoder ${manifest.base.encoderSha256}, runtime loaded ${base.encoderSha256}`);
  }
  if (differences.length > 0) {
    throw new StylePackError('incompatible', packUrl, `made for a different base model: ${differences.join('; ')}`, {
      file: MANIFEST_FILE_NAME,
    });
  }
}
