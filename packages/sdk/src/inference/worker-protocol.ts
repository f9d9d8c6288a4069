import type { ModelContract } from '../packs/contract';
import type { CropPixels } from '../alignment/cpu-crop';
import type { InferenceStage, SeamRequest, StyleResult } from './runner';

/** Messages between WorkerRunner (page) and inference-worker.ts; every request gets one reply with its id. */
export type WorkerRequest =
  | {
      readonly type: 'load';
      readonly id: number;
      readonly wasmBaseUrl: string;
      readonly numThreads?: number;
      readonly contract: ModelContract;
      readonly encoder: Uint8Array;
      readonly generator: Uint8Array;
    }
  | { readonly type: 'set-generator'; readonly id: number; readonly generator: Uint8Array }
  /**
   * The crop as a tensor, or as the frame pixels it is cut from (read on the page, so the
   * camera's frame is released at once).
   */
  | { readonly type: 'run'; readonly id: number; readonly input: Float32Array | CropPixels; readonly alpha: number; readonly seam?: SeamRequest }
  | { readonly type: 'release'; readonly id: number };

/** What a successful reply carries besides its id (a run: the result and its stage timings). */
export interface WorkerReplyFields {
  readonly result?: StyleResult;
  readonly timings?: readonly (readonly [InferenceStage, number])[];
}
