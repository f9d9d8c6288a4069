/** What went wrong, as a stable string callers can switch on. */
export type FaceStylizerErrorCode =
  | 'camera-not-found' // no camera, or none matching the constraints
  | 'camera-permission-denied'
  | 'camera-ended' // the source track ended: device unplugged, or stopped by the user/OS
  | 'webgl2-unavailable'
  | 'asset-load-failed' // a model / wasm file under the asset base could not be fetched or parsed
  | 'inference-unavailable' // no execution provider could run the models
  | 'csp-blocks-wasm' // the page's Content-Security-Policy forbids WebAssembly: add 'wasm-unsafe-eval' to script-src
  | 'invalid-asset-base' // assetBase is not a URL and there is no page URL to resolve it against
  | 'video-source-failed' // a <video> source could not be demuxed or decoded (MediaError code in the message)
  | 'superseded' // setPack: a later setPack call replaced this one before it took effect
  | 'closed'; // the stylizer was used after close()

export class FaceStylizerError extends Error {
  override readonly name = 'FaceStylizerError';
  constructor(
    readonly code: FaceStylizerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Non-fatal conditions: the stream keeps running. */
export type FaceStylizerWarningCode =
  | 'webgpu-device-lost' // switched to WASM
  | 'execution-provider-fallback' // an EP failed at load or mid-stream; switched to the next one
  | 'worker-fallback'; // a worker (inference, tracking) failed to start or died: its work runs on the page's thread

export interface FaceStylizerWarning {
  readonly code: FaceStylizerWarningCode;
  readonly message: string;
  readonly cause?: unknown;
}

/** Maps a getUserMedia rejection to a typed error. */
export function cameraError(error: unknown): FaceStylizerError {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new FaceStylizerError('camera-permission-denied', 'Camera permission was denied.', { cause: error });
  }
  return new FaceStylizerError('camera-not-found', 'No usable camera was found.', { cause: error });
}
