import { Observable, Subject, type OperatorFunction } from 'rxjs';
import type { AlignedFace, AlignedFrame, CropRenderer } from '../alignment';
import { matchRingColor, type ColorTransform } from '../blend/color-match';
import { dropWhileBusy } from '../frames/drop-while-busy';
import type { StatsRecorder } from '../frames/stats';
import type { StyleEngine } from './engine';

export { StyleEngine, type StyleEngineOptions, type StyleResult } from './engine';
export { createOrtBackend, hasWebGpuAdapter, type OrtBackendOptions } from './ort-backend';
export type { ExecutionProvider, InferenceBackend, SessionLike, TensorLike, SessionOptions } from './backend';

/** The latest generator output for one tracked face, kept in crop space so any later frame can re-warp it. */
export interface StylizedCrop {
  readonly faceId: number;
  /** Increments with every new result, so the blend stage uploads only what changed. */
  readonly version: number;
  readonly size: number;
  readonly image: Float32Array;
  readonly flow: Float32Array;
  readonly color: ColorTransform;
}

export interface StylizedFrame extends AlignedFrame {
  /** Latest stylized crop per face id (may be from an earlier frame). */
  readonly stylized: ReadonlyMap<number, StylizedCrop>;
}

export interface StylizeFacesOptions {
  readonly engine: StyleEngine;
  readonly crops: CropRenderer;
  readonly cropSize: number;
  /** Read per inference, so slider changes apply to the next result. */
  readonly alpha: () => number;
  /** Feather width in crop pixels (the colour-match ring). */
  readonly feather: number;
  readonly stats?: StatsRecorder;
  /** Inference errors do not stop the stream (frames pass through); they are reported here. */
  readonly onError: (error: unknown) => void;
}

/**
 * Stage operator: starts encoder → generator on the current frame's faces whenever the engine
 * is idle (frames arriving meanwhile are not queued), and tags every frame — at camera rate —
 * with the latest result per face. The crop is cut synchronously, while the frame is current.
 */
export function stylizeFaces(options: StylizeFacesOptions): OperatorFunction<AlignedFrame, StylizedFrame> {
  return (source) =>
    new Observable<StylizedFrame>((subscriber) => {
      const latest = new Map<number, StylizedCrop>();
      let version = 0;
      let stopped = false; // an inference still running after unsubscribe must not report
      const requests = new Subject<AlignedFrame>();
      const inference = requests
        .pipe(
          dropWhileBusy(
            (aligned: AlignedFrame) => {
              // Crops are cut now, while the frame is current; their readback completes later.
              const start = performance.now();
              const jobs = aligned.faces.map((face) => ({ face, crop: options.crops.extract(aligned.frame, face.alignment) }));
              options.stats?.time('crop', performance.now() - start);
              return runJobs(jobs);
            },
            () => options.stats?.drop('stylize'),
          ),
        )
        .subscribe();

      const runJobs = async (jobs: { face: AlignedFace; crop: Promise<Float32Array> }[]): Promise<void> => {
        for (const job of jobs) job.crop.catch(() => undefined); // failures surface where awaited
        try {
          for (const job of jobs) {
            const { face } = job;
            const readbackStart = performance.now();
            const crop = await job.crop; // GPU readback of the crop, in flight since it was cut
            options.stats?.time('readback', performance.now() - readbackStart);
            const result = await options.engine.run(crop, options.alpha());
            const colourStart = performance.now();
            const color = matchRingColor(crop, result.image, result.flow, face.ovalInCrop, options.cropSize, options.feather);
            options.stats?.time('colour', performance.now() - colourStart);
            if (stopped) return;
            latest.set(face.id, { faceId: face.id, version: ++version, size: options.cropSize, ...result, color });
            options.stats?.tick('stylized');
          }
          if (options.stats) options.stats.executionProvider = options.engine.executionProvider;
        } catch (error) {
          if (!stopped) options.onError(error);
        }
      };

      const frames = source.subscribe({
        next(aligned) {
          // Results of faces that left the frame are dropped, so a returning face starts fresh.
          for (const id of latest.keys()) if (!aligned.faces.some((face) => face.id === id)) latest.delete(id);
          // Crops come from tracked frames only: extrapolated landmarks are good enough to
          // place the face, but the encoder gets the landmarker's alignment.
          if (aligned.faces.length > 0 && !aligned.predicted) requests.next(aligned);
          subscriber.next({ ...aligned, stylized: latest });
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        stopped = true;
        frames.unsubscribe();
        inference.unsubscribe();
      };
    });
}
