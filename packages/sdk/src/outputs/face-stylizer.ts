import { Observable, Subject, defer, finalize, from, map, merge, takeUntil, takeWhile, tap } from 'rxjs';
import { GlCropRenderer, alignFaces, type CropRenderer } from '../alignment';
import type { Point } from '../alignment/ffhq';
import { BlendRenderer, Canvas2dBlendRenderer, blendFaces, scaledGrade, seamGrade, type ColorMatchMode, type FrameGrade, type FrameRenderer } from '../blend';
import { FaceStylizerError, cameraError, type FaceStylizerWarning } from '../errors';
import { frames, hasInsertableStreams, trackFrames, type Frame, type FrameSource } from '../frames';
import { StatsRecorder, type PipelineStats } from '../frames/stats';
import { GlContext, webGlIsSoftware } from '../gpu/gl';
import { StyleEngine, WorkerRunner, createOrtBackend, stylizeFaces, type ExecutionProvider, type InferenceStage, type StylizedFrame } from '../inference';
import { StylePackError, loadStylePack, type StylePackCache, type StylePackManifest } from '../packs';
import { ALL_ORT_BUILDS } from '../inference/ort-builds';
import { parseModelContract, type ModelContract } from '../packs/contract';
import { checkGeneratorModel } from '../packs/onnx-io';
import { sharpenFaces } from '../sharpen';
import { stabilizeFaces } from '../stabilize';
import { FaceTracker, trackFaces, type OneEuroParams, type TrackingMode } from '../tracking';
import { fetchAsset, packUrl, resolveAssetUrls, sha256Hex, type AssetUrls, type LoadProgress } from './assets';

export interface FaceStylizerOptions {
  /**
   * Base URL of every asset (see AssetUrls); nothing outside it is requested. Default: the folder
   * of the JavaScript file the SDK runs from (`defaultAssetBase`), where `npx face-stylizer assets`
   * and the Vite/Rollup plugins put them.
   */
  readonly assetBase?: string;
  /** Per-asset overrides of the default layout under `assetBase`. */
  readonly assets?: Partial<AssetUrls>;
  /**
   * Style pack URL, or the id of a pack under the asset base (`packs/<id>/`); without one, the
   * base model's own generator runs.
   */
  readonly pack?: string;
  /** Canvas to draw into; by default the stylizer creates one (see `canvas`). */
  readonly canvas?: HTMLCanvasElement | OffscreenCanvas;
  readonly numFaces?: number;
  /** 0..1: original → stylized face. Default 1. */
  readonly strength?: number;
  /** α, the generator's exaggeration, within the contract's range. Default: the contract's default. */
  readonly exaggeration?: number;
  /**
   * 0..1: temporal stabilisation of the stylized face (stabilize/index.ts): where the camera
   * image of the face did not change, new results are averaged in; where it changed (mouth,
   * eyes, light) they pass at once. 0 = off. Default 0.8.
   */
  readonly stabilization?: number;
  /**
   * ≥ 0: unsharp mask of the stylized face on the generator's pixel grid (sharpen/index.ts), so
   * the generator's own strokes stay crisp when magnified. 0 = off. Default 0.4.
   */
  readonly sharpening?: number;
  /**
   * 0..1: the camera's fine detail (lashes, lip lines, glasses' rims: what the 144² crop cannot
   * hold) put into the stylized face at the gain with which the style follows the camera there
   * (blend/detail.ts), so the magnified face is as sharp as the frame around it. 0 = off. Default 1.
   */
  readonly detail?: number;
  /**
   * 0..1: how much of the pack's colour world (its `grade`, blend/grade.ts: the style's tone,
   * then its colours) is laid over the whole frame, so the stylized face and the skin, hair and
   * room around it share the style's brightness and colours instead of the face showing as a
   * differently coloured mask, or being matched back to the camera's brightness. Packs without
   * a grade ignore it. 0 = the camera's colours and tone. Default 1.
   */
  readonly grade?: number;
  /**
   * What the seam colour match takes from the camera frame around the face (blend/color-match.ts):
   * 'skin' (default) brightness and contrast, the scene light's colour cast relative to the
   * pack's grade (a warm lamp warms the style's skin as it warms the neck beside it), and, near
   * the outline, the chroma of the camera's skin beside each part of the edge (a face lit warm on
   * one side and cool on the other shows no coloured edge on either), so the style keeps its own
   * colours in the middle of the face; 'lighting' the same without the edge's own chroma (one
   * shift for the whole face); 'luminance' brightness and contrast only (the style's chroma as
   * drawn: a pale style under warm light is a grey mask); 'color' each channel's mean and spread
   * (the seam disappears, but the skin takes the camera's colour back); 'off' none. Computed
   * where the models run (the inference worker), not on the page's thread.
   */
  readonly colorMatch?: ColorMatchMode;
  /** Feather width of the face mask, in crop pixels. Default: 6 % of the crop. */
  readonly feather?: number;
  /** Tried in order; default ['webgpu', 'wasm']. */
  readonly executionProviders?: readonly ExecutionProvider[];
  readonly wasmThreads?: number;
  /**
   * Run WASM inference in the SDK's inference worker (`assets.inferenceWorker`), which also cuts
   * the crops from the camera frames, so the displayed stream never waits for it. Default: on
   * where workers and VideoFrame exist; off runs WASM on the page's thread.
   */
  readonly wasmWorker?: boolean;
  /**
   * How frames reach the canvas. 'webgl': WebGL2 (GPU crop warp and blend); 'canvas2d': a 2D
   * canvas with the face blended on the CPU and crops cut from the frame on the CPU; 'auto'
   * (default): WebGL2 unless its renderer is a software rasterizer (SwiftShader, llvmpipe), where
   * every GL pass is CPU work and the 2D canvas costs a fraction of it.
   */
  readonly renderer?: 'auto' | 'webgl' | 'canvas2d';
  readonly smoothing?: OneEuroParams;
  /**
   * 'adaptive' (default): while the pipeline is behind the camera (camera frames skipped, or
   * the models dropping requests), the landmarker runs on every other frame and the frames
   * between use extrapolated landmarks. 'every-frame': always.
   */
  readonly tracking?: TrackingMode;
  /**
   * Run the face landmarker in the SDK's tracking worker (`assets.trackingWorker`), so the
   * displayed stream never waits for it (frames carry the latest landmarks extrapolated to their
   * time). Default: on where workers, VideoFrame and OffscreenCanvas exist.
   */
  readonly trackingWorker?: boolean;
  readonly trackerDelegate?: 'CPU' | 'GPU';
  /**
   * Camera frames wider than this are scaled down (aspect kept) for the face landmarker only;
   * 0 = full resolution. Default 960 (tracking/landmarker.ts DETECTION_MAX_WIDTH): at 1280×720
   * the landmarker's whole-frame conversion was the slowest stage on a 2-core CPU.
   */
  readonly trackingMaxWidth?: number;
  /** Where verified style packs are cached; Cache Storage by default, false for none. */
  readonly packCache?: StylePackCache | false;
  readonly onProgress?: (progress: LoadProgress) => void;
}

export interface StylizeOptions {
  readonly strength?: number;
  readonly exaggeration?: number;
  readonly stabilization?: number;
  readonly sharpening?: number;
  readonly detail?: number;
  readonly grade?: number;
  readonly colorMatch?: ColorMatchMode;
  readonly numFaces?: number;
}

export type FaceStylizerState = 'no-face' | 'stylizing';

export type FaceStylizerEvent =
  | { readonly type: 'state'; readonly state: FaceStylizerState; readonly faces: number }
  | { readonly type: 'warning'; readonly warning: FaceStylizerWarning }
  | { readonly type: 'error'; readonly error: unknown };

/** What each displayed frame reports. */
export interface FrameInfo {
  readonly index: number;
  readonly timestampMs: number;
  readonly width: number;
  readonly height: number;
  readonly faces: readonly {
    readonly id: number;
    /** Smoothed landmarks in frame pixels. */
    readonly landmarks: readonly Point[];
    /** True once a stylized result exists for this face. */
    readonly stylized: boolean;
  }[];
  /**
   * Landmarks are extrapolated from an earlier detection: a frame the landmarker skipped
   * (adaptive tracking), or, with the tracking worker, any frame but the first after a detection.
   */
  readonly landmarksPredicted: boolean;
}

/** Everything `create` loads, handed to the constructor. */
interface StylizerParts {
  readonly config: FaceStylizerOptions;
  readonly assets: AssetUrls;
  readonly contract: ModelContract;
  readonly encoderSha256: string;
  /** The WebGL renderer's context and GPU crop; absent with the 2D-canvas renderer. */
  readonly gl: GlContext | undefined;
  readonly crops: CropRenderer | undefined;
  readonly blend: FrameRenderer;
  readonly tracker: FaceTracker;
  readonly engine: StyleEngine;
  readonly stats: StatsRecorder;
  readonly pack: StylePackManifest | undefined;
  readonly loadWarnings: readonly FaceStylizerWarning[];
}

/** Minimal typing for Chrome's MediaStreamTrackGenerator (not in lib.dom). */
interface TrackGenerator extends MediaStreamTrack {
  readonly writable: WritableStream<VideoFrame>;
}
type TrackGeneratorConstructor = new (init: { kind: 'video' }) => TrackGenerator;

/**
 * The whole pipeline with an explicit lifecycle: `create` loads and warms up everything (and
 * fails there, with a typed error), `stylize` runs a stream, `setOptions` / `setPack` change it
 * live, `close` frees it.
 *
 *   const stylizer = await FaceStylizer.create({ assetBase: '/assets/' });
 *   document.body.append(stylizer.canvas);
 *   stylizer.stylize(await FaceStylizer.openCamera()).subscribe();
 */
export class FaceStylizer {
  /** Timing / fps / drop statistics, once per second. */
  readonly stats$: Observable<PipelineStats>;
  readonly events$: Observable<FaceStylizerEvent>;

  private readonly events = new Subject<FaceStylizerEvent>();
  private options: Required<StylizeOptions>;
  private state: FaceStylizerState | undefined;
  /** Emits when a stream starts or the stylizer closes: ends the running stream. */
  private readonly streamStarted = new Subject<void>();
  private closed = false;

  private readonly config: FaceStylizerOptions;
  private readonly assets: AssetUrls;
  readonly contract: ModelContract;
  private readonly encoderSha256: string;
  private readonly gl: GlContext | undefined;
  private readonly crops: CropRenderer | undefined;
  private readonly blend: FrameRenderer;
  private readonly tracker: FaceTracker;
  private readonly engine: StyleEngine;
  private readonly stats: StatsRecorder;
  private currentPack: StylePackManifest | undefined;
  /** Generators swapped in so far: part of a result's look, so the temporal filter restarts on a new pack. */
  private generatorSwaps = 0;
  /** setPack calls so far; only the newest may swap the generator (last call wins). */
  private packRequests = 0;
  private packAbort: AbortController | undefined;

  private constructor(parts: StylizerParts) {
    this.config = parts.config;
    this.assets = parts.assets;
    this.contract = parts.contract;
    this.encoderSha256 = parts.encoderSha256;
    this.gl = parts.gl;
    this.crops = parts.crops;
    this.blend = parts.blend;
    this.tracker = parts.tracker;
    this.engine = parts.engine;
    this.stats = parts.stats;
    this.currentPack = parts.pack;
    this.options = {
      strength: this.config.strength ?? 1,
      exaggeration: clampAlpha(this.config.exaggeration ?? this.contract.alpha.default, this.contract),
      stabilization: Math.min(1, Math.max(0, this.config.stabilization ?? DEFAULT_STABILIZATION)),
      sharpening: Math.max(0, this.config.sharpening ?? DEFAULT_SHARPENING),
      detail: Math.min(1, Math.max(0, this.config.detail ?? DEFAULT_DETAIL)),
      grade: Math.min(1, Math.max(0, this.config.grade ?? DEFAULT_GRADE)),
      colorMatch: knownColorMatch(this.config.colorMatch, DEFAULT_COLOR_MATCH),
      numFaces: this.config.numFaces ?? 1,
    };
    this.stats$ = this.stats.stats$();
    // Warnings from loading (e.g. WebGPU failed, WASM used) are replayed to every subscriber.
    const loadWarnings = parts.loadWarnings.map((warning): FaceStylizerEvent => ({ type: 'warning', warning }));
    this.events$ = merge(from(loadWarnings), this.events);
    this.stats.executionProvider = this.engine.executionProvider;
  }

  static async create(config: FaceStylizerOptions): Promise<FaceStylizer> {
    let assets: AssetUrls;
    try {
      assets = resolveAssetUrls(config.assetBase, config.assets);
    } catch (cause) {
      // e.g. a relative assetBase where there is no page URL to resolve it against (a worker, Node).
      throw new FaceStylizerError('invalid-asset-base', `assetBase ${JSON.stringify(config.assetBase)} is not a URL, and there is no page URL to resolve it against: give an absolute URL.`, { cause });
    }
    await checkWasmAllowed();
    const stats = new StatsRecorder();
    const warnings: FaceStylizerWarning[] = [];
    let contract: ModelContract;
    try {
      contract = parseModelContract(JSON.parse(new TextDecoder().decode(await fetchAsset(`${assets.baseModel}contract.json`))));
    } catch (cause) {
      if (cause instanceof FaceStylizerError) throw cause;
      throw new FaceStylizerError('asset-load-failed', `Invalid ${assets.baseModel}contract.json.`, { cause });
    }
    const encoder = await fetchAsset(new URL(contract.encoder.file, assets.baseModel).href, config.onProgress);
    const encoderSha256 = await sha256Hex(encoder);
    let generator: Uint8Array;
    let pack: StylePackManifest | undefined;
    if (config.pack) {
      const loaded = await loadStylePack(packUrl(config.pack, assets), {
        base: { contract, encoderSha256 },
        ...(config.packCache !== undefined ? { cache: config.packCache } : {}),
      });
      checkGeneratorModel(loaded.generator, contract, config.pack, loaded.manifest.files.generator.path);
      generator = loaded.generator;
      pack = loaded.manifest;
    } else {
      generator = await fetchAsset(new URL(contract.generator.file, assets.baseModel).href, config.onProgress);
    }

    const canvas = config.canvas ?? (typeof document !== 'undefined' ? document.createElement('canvas') : new OffscreenCanvas(1, 1));
    const range = contract.pixel.range;
    const renderer = config.renderer ?? 'auto';
    let gl: GlContext | undefined;
    let crops: CropRenderer | undefined;
    let blend: FrameRenderer;
    if (renderer === 'webgl' || (renderer === 'auto' && !webGlIsSoftware())) {
      gl = new GlContext(canvas);
      // Without float render targets, crops are cut on the CPU from the frame (cpu-crop.ts).
      crops = gl.floatTargets ? new GlCropRenderer(gl, contract.crop.size, range) : undefined;
      blend = new BlendRenderer(gl, range);
    } else {
      blend = new Canvas2dBlendRenderer(canvas, range);
    }
    const providers = config.executionProviders ?? (['webgpu', 'wasm'] as const);
    // Both workers are sent frames' pixels (VideoFrame); the tracking one also draws (OffscreenCanvas).
    const workersAvailable = typeof Worker === 'function' && typeof VideoFrame === 'function';
    const useWorker = (config.wasmWorker ?? true) && workersAvailable;
    let stylizer: FaceStylizer | undefined;
    const onTiming = (stage: InferenceStage, ms: number) => stats.time(stage, ms);
    const wasmThreads = config.wasmThreads ? { numThreads: config.wasmThreads } : {};
    const trackerOptions = {
      wasmBaseUrl: assets.mediapipeWasm,
      modelUrl: assets.faceLandmarker,
      numFaces: config.numFaces ?? 1,
      ...(config.smoothing ? { smoothing: config.smoothing } : {}),
      ...(config.trackerDelegate ? { delegate: config.trackerDelegate } : {}),
      ...(config.trackingMaxWidth !== undefined ? { maxWidth: config.trackingMaxWidth } : {}),
    };
    const trackInWorker = (config.trackingWorker ?? true) && workersAvailable && typeof OffscreenCanvas === 'function';
    const createTracker = async (): Promise<FaceTracker> => {
      if (!trackInWorker) return FaceTracker.create(trackerOptions);
      try {
        return await FaceTracker.create({ ...trackerOptions, worker: new Worker(assets.trackingWorker, { name: 'face-stylizer tracking' }) });
      } catch (error) {
        // e.g. the worker script is not served: the landmarker still runs on this thread.
        warnings.push({ code: 'worker-fallback', message: 'The tracking worker failed to start; tracking on this thread.', cause: error });
        return FaceTracker.create(trackerOptions);
      }
    };
    const [tracker, engine] = await Promise.allSettled([
      createTracker(),
      StyleEngine.create({
        backend: createOrtBackend({ wasmBaseUrl: assets.ortWasm, ...wasmThreads }, ALL_ORT_BUILDS),
        contract,
        encoder,
        generator,
        providers,
        onWarning: (warning) => (stylizer ? stylizer.warn(warning) : warnings.push(warning)),
        onTiming,
        ...(useWorker
          ? {
              wasmRunner: (models: Uint8Array) =>
                WorkerRunner.create(new Worker(assets.inferenceWorker, { type: 'module', name: 'face-stylizer inference' }), {
                  contract,
                  encoder,
                  generator: models,
                  wasmBaseUrl: assets.ortWasm,
                  ...wasmThreads,
                  onTiming,
                }),
            }
          : {}),
      }),
    ]);
    if (tracker.status === 'rejected' || engine.status === 'rejected') {
      if (tracker.status === 'fulfilled') tracker.value.close();
      if (engine.status === 'fulfilled') await engine.value.close();
      crops?.dispose();
      blend.dispose();
      gl?.dispose();
      if (tracker.status === 'rejected') throw tracker.reason;
      throw (engine as PromiseRejectedResult).reason;
    }
    stylizer = new FaceStylizer({
      config,
      assets,
      contract,
      encoderSha256,
      gl,
      crops,
      blend,
      tracker: tracker.value,
      engine: engine.value,
      stats,
      pack,
      loadWarnings: warnings,
    });
    return stylizer;
  }

  /**
   * Opens the default camera; rejects with 'camera-not-found' / 'camera-permission-denied'. By
   * default asks for 1280×720 and takes the nearest the camera offers (640×480 on a VGA camera);
   * `FaceStylizer.CAMERA_DEFAULT` is that request.
   */
  static async openCamera(constraints: MediaTrackConstraints = FaceStylizer.CAMERA_DEFAULT): Promise<MediaStream> {
    try {
      return await navigator.mediaDevices.getUserMedia({ video: constraints, audio: false });
    } catch (error) {
      throw cameraError(error);
    }
  }

  /** openCamera's default: 1280×720 where the camera offers it (ideal, not exact: never fails). */
  static readonly CAMERA_DEFAULT: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } };

  /** The output canvas (the one given at creation, or created by the stylizer). */
  get canvas(): HTMLCanvasElement | OffscreenCanvas {
    return this.blend.canvas;
  }

  get executionProvider(): ExecutionProvider {
    return this.engine.executionProvider;
  }

  get pack(): StylePackManifest | undefined {
    return this.currentPack;
  }

  /**
   * Runs the pipeline on a stream, <video> or track, drawing into `canvas`; emits per displayed
   * frame. Starts on subscribe and stops on unsubscribe; one stream at a time (a new
   * subscription completes the previous one). Errors: 'camera-ended' when the source track ends.
   */
  stylize(source: FrameSource): Observable<FrameInfo> {
    // Streams and tracks go through insertable streams where available: VideoFrames straight
    // from the capture, no <video> element decoding and compositing them (and no
    // requestVideoFrameCallback, which skips frames whenever the page's rendering is late).
    const track = source instanceof MediaStream ? source.getVideoTracks()[0] : source;
    return this.run(track instanceof MediaStreamTrack && hasInsertableStreams() ? trackFrames(track) : frames(source));
  }

  /**
   * A stylized copy of a camera track, for video calls: insertable streams where available
   * (frames never leave the GPU/VideoFrame path), `canvas.captureStream` otherwise. Stopping the
   * returned track stops the processing.
   */
  stylizeTrack(track: MediaStreamTrack): MediaStreamTrack {
    const canvas = this.blend.canvas;
    if (hasInsertableStreams()) {
      const Generator = (globalThis as unknown as { MediaStreamTrackGenerator: TrackGeneratorConstructor })
        .MediaStreamTrackGenerator;
      const output = new Generator({ kind: 'video' });
      const writer = output.writable.getWriter();
      let writing = false;
      this.stylize(track)
        .pipe(takeWhile(() => output.readyState !== 'ended'))
        .subscribe({
          next: (info) => {
            if (writing) return; // the consumer is behind: drop rather than queue
            writing = true;
            writer
              .write(new VideoFrame(canvas, { timestamp: Math.round(info.timestampMs * 1000) }))
              .catch(() => undefined) // a stopped output ends the subscription at the next frame
              .finally(() => (writing = false));
          },
          error: () => output.stop(),
        });
      return output;
    }
    if (!(canvas instanceof HTMLCanvasElement)) {
      throw new TypeError('stylizeTrack needs an HTMLCanvasElement canvas when insertable streams are unavailable');
    }
    const output = canvas.captureStream().getVideoTracks()[0] as MediaStreamTrack;
    this.stylize(track)
      .pipe(takeWhile(() => output.readyState !== 'ended'))
      .subscribe({ error: () => output.stop() });
    return output;
  }

  setOptions(options: StylizeOptions): void {
    const next = { ...this.options, ...definedOnly(options) };
    next.strength = Math.min(1, Math.max(0, next.strength));
    next.exaggeration = clampAlpha(next.exaggeration, this.contract);
    next.stabilization = Math.min(1, Math.max(0, next.stabilization));
    next.sharpening = Math.max(0, next.sharpening);
    next.detail = Math.min(1, Math.max(0, next.detail));
    next.grade = Math.min(1, Math.max(0, next.grade));
    next.colorMatch = knownColorMatch(next.colorMatch, this.options.colorMatch);
    if (next.numFaces !== this.options.numFaces) this.tracker.setNumFaces(next.numFaces);
    this.options = next;
  }

  /**
   * Switches style pack (null = the base generator). Resolves once the new generator runs;
   * rejects with StylePackError for a corrupt / truncated / foreign / newer / incompatible pack,
   * and the current style keeps running. The last call wins: a call that a later one replaces
   * before it took effect (and any call still pending when a later one is made) rejects with
   * FaceStylizerError `superseded`, its download is aborted, and `pack` ends as the last call's.
   */
  async setPack(url: string | null, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.assertOpen();
    const request = ++this.packRequests;
    this.packAbort?.abort(new FaceStylizerError('superseded', 'A later setPack call replaced this one.'));
    const abort = new AbortController();
    this.packAbort = abort;
    const signal = options.signal ? anySignal([abort.signal, options.signal]) : abort.signal;
    const superseded = () => request !== this.packRequests;
    const throwIfSuperseded = () => {
      if (superseded()) throw new FaceStylizerError('superseded', `setPack(${url === null ? 'null' : JSON.stringify(url)}) was replaced by a later setPack call.`);
    };
    try {
      let generator: Uint8Array;
      let manifest: StylePackManifest | undefined;
      if (url === null) {
        generator = await fetchAsset(new URL(this.contract.generator.file, this.assets.baseModel).href, this.config.onProgress);
      } else {
        const pack = await loadStylePack(packUrl(url, this.assets), {
          base: { contract: this.contract, encoderSha256: this.encoderSha256 },
          signal,
          ...(this.config.packCache !== undefined ? { cache: this.config.packCache } : {}),
        });
        // Before it can replace the running generator: ONNX at all, and the contract's tensors.
        checkGeneratorModel(pack.generator, this.contract, url, pack.manifest.files.generator.path);
        generator = pack.generator;
        manifest = pack.manifest;
      }
      throwIfSuperseded();
      try {
        await this.engine.setGenerator(generator);
        this.generatorSwaps++;
      } catch (cause) {
        // The generator passed its hash and I/O check but onnxruntime cannot load or run it.
        if (url === null || cause instanceof FaceStylizerError || cause instanceof StylePackError) throw cause;
        throw new StylePackError('corrupt', url, `the generator could not run (${cause instanceof Error ? cause.message : String(cause)})`, { file: manifest?.files.generator.path ?? 'generator', cause });
      }
      // Whatever was swapped in last is what runs, even if a later call then fails.
      this.currentPack = manifest;
      throwIfSuperseded();
    } catch (error) {
      if (this.closed) throw new FaceStylizerError('closed', 'The stylizer was closed while the pack loaded.', { cause: error });
      if (superseded() && !(error instanceof FaceStylizerError && error.code === 'superseded')) {
        throw new FaceStylizerError('superseded', 'A later setPack call replaced this one.', { cause: error });
      }
      throw error;
    } finally {
      if (this.packAbort === abort) this.packAbort = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.packAbort?.abort(new FaceStylizerError('closed', 'The stylizer was closed.'));
    this.streamStarted.next();
    this.tracker.close();
    await this.engine.close();
    this.crops?.dispose();
    this.blend.dispose();
    this.gl?.dispose();
    this.events.complete();
  }

  private run(source: Observable<Frame>): Observable<FrameInfo> {
    return defer(() => {
      this.assertOpen();
      this.streamStarted.next(); // one stream at a time: completes the previous one
      let frameStart = 0;
      return source.pipe(
        tap((frame) => {
          frameStart = performance.now();
          this.stats.drop('frames', frame.skipped);
        }),
        trackFaces(this.tracker, this.stats, this.config.tracking ?? 'adaptive', (warning) => this.warn(warning)),
        // Upload once, after tracking (whose synchronous readback would otherwise also wait
        // for this upload in the GPU process): crop and blend both sample this texture.
        tap(({ frame }) => this.stats.measure('upload', () => this.blend.upload(frame))),
        alignFaces(this.contract.crop, this.stats),
        stylizeFaces({
          engine: this.engine,
          ...(this.crops ? { crops: this.crops } : {}),
          cropSize: this.contract.crop.size,
          alpha: () => this.options.exaggeration,
          look: () => `${this.generatorSwaps}:${this.options.exaggeration}`,
          feather: this.feather,
          colorMatch: () => this.options.colorMatch,
          // the grade the renderers lay around the face (they scale it by the blend's strength too)
          grade: () => seamGrade(scaledGrade(this.frameGrade, this.options.strength), this.contract.pixel.range),
          stats: this.stats,
          onError: (error) => this.events.next({ type: 'error', error }),
        }),
        stabilizeFaces({ strength: () => this.options.stabilization }, this.contract.pixel.range),
        sharpenFaces({ amount: () => this.options.sharpening }),
        blendFaces(
          this.blend,
          () => ({
            strength: this.options.strength,
            feather: this.feather,
            detail: this.options.detail,
            grade: this.frameGrade,
          }),
          this.stats,
        ),
      ).pipe(
        tap((frame) => {
          this.stats.time('frame', performance.now() - frameStart);
          this.updateState(frame.faces.length);
        }),
        map(frameInfo),
        tap({ error: (error: unknown) => this.events.next({ type: 'error', error }) }),
        takeUntil(this.streamStarted),
        finalize(() => (this.state = undefined)),
      );
    });
  }

  /** The pack's frame grade at the `grade` option's share (the renderers scale it by strength too). */
  private get frameGrade(): FrameGrade | undefined {
    return scaledGrade(this.currentPack?.grade, this.options.grade);
  }

  private get feather(): number {
    return this.config.feather ?? this.contract.crop.size * 0.06;
  }

  private updateState(faces: number): void {
    const state: FaceStylizerState = faces > 0 ? 'stylizing' : 'no-face';
    if (state !== this.state) {
      this.state = state;
      this.events.next({ type: 'state', state, faces });
    }
  }

  private warn(warning: FaceStylizerWarning): void {
    this.stats.executionProvider = this.engine.executionProvider;
    this.events.next({ type: 'warning', warning });
  }

  private assertOpen(): void {
    if (this.closed) throw new FaceStylizerError('closed', 'The stylizer was closed.');
  }
}

function frameInfo(frame: StylizedFrame): FrameInfo {
  const { index, timestampMs, width, height } = frame.frame;
  return {
    index,
    timestampMs,
    width,
    height,
    faces: frame.faces.map((face) => ({ id: face.id, landmarks: face.landmarks, stylized: frame.stylized.has(face.id) })),
    landmarksPredicted: frame.predicted,
  };
}

/** The smallest valid WebAssembly module: just the header. */
const EMPTY_WASM_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/**
 * Face tracking and inference are WebAssembly: a page whose Content-Security-Policy forbids
 * compiling it (script-src without 'wasm-unsafe-eval') would otherwise fail later with a
 * misleading "could not load" from the first library to try.
 */
async function checkWasmAllowed(): Promise<void> {
  if (typeof WebAssembly !== 'object') throw new FaceStylizerError('inference-unavailable', 'This browser has no WebAssembly.');
  try {
    await WebAssembly.compile(EMPTY_WASM_MODULE);
  } catch (cause) {
    throw new FaceStylizerError(
      'csp-blocks-wasm',
      "The page's Content-Security-Policy blocks WebAssembly, which face tracking and inference run on: add 'wasm-unsafe-eval' to its script-src directive.",
      { cause },
    );
  }
}

/** AbortSignal.any where it exists (Chromium 116+), otherwise a forwarding controller. */
function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  const any = (AbortSignal as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
  if (any) return any([...signals]);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

/** Default temporal stabilisation (FaceStylizerOptions.stabilization). */
export const DEFAULT_STABILIZATION = 0.8;

/**
 * Default sharpening (FaceStylizerOptions.sharpening). 0.4 since the camera detail (0.8 before):
 * both raise the fine band, and together at 0.8 the base reconstruction's detail ratio overshot
 * the camera's (1.11–1.22) and its PSNR fell ~2 dB; at 0.4 it is 0.86–1.04 and the styles keep
 * crisp strokes (at 0 they look soft at 640×480, where the camera adds little above the crop).
 */
export const DEFAULT_SHARPENING = 0.4;

/** Default camera detail (FaceStylizerOptions.detail). */
export const DEFAULT_DETAIL = 1;

/** Default share of the pack's frame grade (FaceStylizerOptions.grade). */
export const DEFAULT_GRADE = 1;

/**
 * Default seam colour match (FaceStylizerOptions.colorMatch). 'lighting' since session 22: with
 * 'luminance' the default pack's pale skin turned a dim, lamp-lit face grey-green beside its
 * orange neck (colour step across the outline 15.7 levels on head-turn, the camera's own 7.5);
 * 'lighting' 3.7, and over 9 packs × 6 shared clips 6.3 → 4.9 (camera 7.0), flicker unchanged
 * (docs/quality.md, session 22). 'skin' since session 31: the seam field takes the colour step
 * over 9 packs × 8 clips from 5.18 to 4.66 levels, the largest 19.2 → 11.2 (session 30); with the
 * match computed in the inference worker it no longer costs the page's thread (frames shown
 * under a 60 %-busy page the same as 'lighting', docs/quality.md session 31).
 */
export const DEFAULT_COLOR_MATCH: ColorMatchMode = 'skin';
const COLOR_MATCH_MODES: readonly ColorMatchMode[] = ['luminance', 'lighting', 'skin', 'color', 'off'];

/** `mode` if it is one of the modes (plain-JS callers can pass anything), otherwise `fallback`. */
function knownColorMatch(mode: ColorMatchMode | undefined, fallback: ColorMatchMode): ColorMatchMode {
  return mode !== undefined && COLOR_MATCH_MODES.includes(mode) ? mode : fallback;
}

function clampAlpha(alpha: number, contract: ModelContract): number {
  return Math.min(contract.alpha.max, Math.max(contract.alpha.min, alpha));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
