import { Observable, Subject, type OperatorFunction } from 'rxjs';
import type { AlignedFace, AlignedFrame, CropRenderer } from '../alignment';
import type { FrameCrop } from '../alignment/cpu-crop';
import { ownVideoFrame, type Frame } from '../frames';
import { IDENTITY_COLOR, type ColorMatchMode, type ColorTransform } from '../blend/color-match';
import type { SeamGrade } from '../blend/grade';
import { dropWhileBusy } from '../frames/drop-while-busy';
import type { StatsRecorder } from '../frames/stats';
import type { StyleEngine } from './engine';
import { isSuperseded, type SeamRequest, type StyleResult } from './runner';

export { StyleEngine, type StyleEngineOptions } from './engine';
export { createOrtBackend, hasWebGpuAdapter, type OrtBackendOptions, type OrtBuilds } from './ort-backend';
export { ALL_ORT_BUILDS } from './ort-builds';
export { SessionRunner, type CropInput, type InferenceStage, type ModelRunner, type SeamRequest, type StyleResult } from './runner';
export { WorkerRunner, type WorkerRunnerOptions } from './worker-runner';
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
  /** The aligned input crop the result came from (the temporal filter compares inputs). */
  readonly input: Float32Array;
  /** What drew it (pack and α, see StylizeFacesOptions.look): results of different looks are not mixed. */
  readonly look: string;
}

export interface StylizedFrame extends AlignedFrame {
  /** Latest stylized crop per face id (may be from an earlier frame). */
  readonly stylized: ReadonlyMap<number, StylizedCrop>;
}

export interface StylizeFacesOptions {
  readonly engine: StyleEngine;
  /** Cuts crops on the GPU; without it (or when the engine takes frames) the frame goes to the engine. */
  readonly crops?: CropRenderer;
  readonly cropSize: number;
  /** Read per inference, so slider changes apply to the next result. */
  readonly alpha: () => number;
  /** Read per request: names the pack and α a result is drawn with (StylizedCrop.look). */
  readonly look?: () => string;
  /** Feather width in crop pixels (the colour-match ring). */
  readonly feather: number;
  /** Read per request: what the seam colour match takes from the frame (computed where the models run). */
  readonly colorMatch?: () => ColorMatchMode;
  /** Read per request: the frame grade the blend lays around the face, in the model's pixel range (grade.ts seamGrade). */
  readonly grade?: () => SeamGrade;
  readonly stats?: StatsRecorder;
  /** Inference errors do not stop the stream (frames pass through); they are reported here. */
  readonly onError: (error: unknown) => void;
}

/**
 * Stage operator: runs encoder → generator on the frames' faces, never queueing frames, and tags
 * every frame — at camera rate — with the latest result per face. Crops are requested while the
 * frame is current. Two ways, by engine:
 * - one that takes runs while busy (the WASM worker) gets every frame's faces as frames and keeps
 *   only the newest per face itself, so its models go from one run to the next on the newest
 *   face without waiting for this thread;
 * - otherwise a run starts when the previous one ended (frames meanwhile are dropped), from a
 *   crop cut on the GPU here (or the frame, cut on the CPU, without a GPU crop renderer).
 */
export function stylizeFaces(options: StylizeFacesOptions): OperatorFunction<AlignedFrame, StylizedFrame> {
  return (source) =>
    new Observable<StylizedFrame>((subscriber) => {
      const latest = new Map<number, StylizedCrop>();
      let version = 0;
      let stopped = false; // an inference still running after unsubscribe must not report

      /** Keeps a face's new result, colour-matched at the seam where it ran, for every later frame to re-warp. */
      const accept = (face: AlignedFace, result: StyleResult, look: string) => {
        const color = result.color ?? IDENTITY_COLOR;
        latest.set(face.id, { faceId: face.id, version: ++version, size: options.cropSize, image: result.image, flow: result.flow, color, input: result.crop, look });
        options.stats?.tick('stylized');
        if (options.stats) options.stats.executionProvider = options.engine.executionProvider;
      };

      /** The seam colour match's part of a request (mode and grade as they are now; unset: matchRingColor's defaults). */
      const seamOf = (face: AlignedFace): SeamRequest => {
        const mode = options.colorMatch?.();
        const grade = options.grade?.();
        return { ovalInCrop: face.ovalInCrop, feather: options.feather, ...(mode ? { mode } : {}), ...(grade ? { grade } : {}) };
      };

      const requestAlongside = (aligned: AlignedFrame) => {
        for (const face of aligned.faces) {
          const look = options.look?.() ?? '';
          options.engine.run(frameCrop(aligned.frame, face), options.alpha(), face.id, seamOf(face)).then(
            (result) => {
              if (!stopped) accept(face, result, look);
            },
            (error: unknown) => {
              if (stopped) return;
              if (isSuperseded(error)) options.stats?.drop('stylize');
              else options.onError(error);
            },
          );
        }
      };

      const runJobs = async (jobs: { face: AlignedFace; input: Promise<Float32Array> | FrameCrop }[]): Promise<void> => {
        let next = 0;
        try {
          for (; next < jobs.length; next++) {
            const { face, input } = jobs[next] as (typeof jobs)[number];
            let crop: Float32Array | FrameCrop;
            if (input instanceof Promise) {
              const readbackStart = performance.now();
              crop = await input; // GPU readback of the crop, in flight since it was cut
              options.stats?.time('readback', performance.now() - readbackStart);
            } else {
              crop = input;
            }
            const look = options.look?.() ?? '';
            const result = await options.engine.run(crop, options.alpha(), face.id, seamOf(face));
            if (stopped) return;
            accept(face, result, look);
          }
        } catch (error) {
          if (!stopped) options.onError(error);
        } finally {
          // Frames of jobs that never ran (an error, or unsubscribed meanwhile) are closed here.
          for (const job of jobs.slice(next + 1)) if (!(job.input instanceof Promise)) job.input.frame.close();
        }
      };
      const requests = new Subject<AlignedFrame>();
      const serialised = requests
        .pipe(
          dropWhileBusy(
            (aligned: AlignedFrame) => {
              const crops = options.engine.takesFrames ? undefined : options.crops;
              if (!crops) return runJobs(aligned.faces.map((face) => ({ face, input: frameCrop(aligned.frame, face) })));
              const start = performance.now();
              const jobs = aligned.faces.map((face) => ({ face, input: crops.extract(aligned.frame, face.alignment) }));
              for (const job of jobs) job.input.catch(() => undefined); // failures surface where awaited
              options.stats?.time('crop', performance.now() - start);
              return runJobs(jobs);
            },
            () => options.stats?.drop('stylize'),
          ),
        )
        .subscribe();

      const frames = source.subscribe({
        next(aligned) {
          // Results of faces that left the frame are dropped, so a returning face starts fresh.
          for (const id of latest.keys()) if (!aligned.faces.some((face) => face.id === id)) latest.delete(id);
          if (aligned.faces.length > 0) {
            // An engine that keeps only the newest request gets every frame: whenever its models
            // are free they start on the newest face, extrapolated landmarks or not (with the
            // landmarker in its worker, every frame's landmarks are extrapolated, by at most a
            // few frames). A serialised engine starts on tracked frames only, so the encoder
            // gets the landmarker's own alignment.
            if (options.engine.acceptsWhileBusy && options.engine.takesFrames) requestAlongside(aligned);
            else if (!aligned.predicted) requests.next(aligned);
          }
          subscriber.next({ ...aligned, stylized: latest });
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        stopped = true;
        frames.unsubscribe();
        serialised.unsubscribe();
      };
    });
}

/** A crop request carrying its own reference to the frame's pixels (valid after the frame moves on). */
function frameCrop(frame: Frame, face: AlignedFace): FrameCrop {
  return { frame: ownVideoFrame(frame), imageFromCrop: face.alignment.imageFromCrop, width: frame.width, height: frame.height };
}
