/**
 * Every way a style pack can be refused, as one error class with a discriminating `code`.
 * The codes are defined in docs/style-pack.md ("What makes a pack unusable").
 */

export type StylePackErrorCode =
  /** A file's sha256 differs from the manifest, or the file is longer than declared. */
  | 'corrupt'
  /** A file is shorter than the manifest declares, or missing from a pack on disk. */
  | 'truncated'
  /** Not a v1 style pack at all: not JSON, wrong `format`, missing/invalid fields, not a tar. */
  | 'foreign'
  /** A style pack, but of a newer `formatVersion` than this code reads. */
  | 'unsupported-version'
  /** A valid pack made for a different base model than the one the runtime loaded. */
  | 'incompatible'
  /** The transfer failed: fetch rejected, HTTP status not 2xx, or the body stream broke. */
  | 'network';

export class StylePackError extends Error {
  override readonly name = 'StylePackError';
  readonly code: StylePackErrorCode;
  /** The pack's URL (browser loader) or path (Node tooling). */
  readonly url: string;
  /** The pack file concerned, by its path inside the pack, when the error is about one file. */
  readonly file: string | undefined;

  constructor(
    code: StylePackErrorCode,
    url: string,
    detail: string,
    options: { file?: string; cause?: unknown } = {},
  ) {
    super(`style pack ${url}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.url = url;
    this.file = options.file;
  }
}
