import type { FaceLandmarker } from '@mediapipe/tasks-vision';

export interface LandmarkerOptions {
  /** Folder with tasks-vision's vision_wasm_internal.{js,wasm}. */
  readonly wasmBaseUrl: string;
  /** The FaceLandmarker .task bundle. */
  readonly modelUrl: string;
  readonly numFaces?: number;
  /** MediaPipe delegate; CPU is the predictable default for headless and low-end machines. */
  readonly delegate?: 'CPU' | 'GPU';
  /**
   * Frames wider than this are scaled down (aspect kept) before the landmarker sees them; 0 =
   * never. Default DETECTION_MAX_WIDTH. The landmarks are normalised, so nothing else changes.
   */
  readonly maxWidth?: number;
}

/**
 * The widest frame the landmarker gets by default. Its models see a 128² (detector) and a 256²
 * (mesh) crop whatever the frame's size, but the CPU delegate converts and resamples the whole
 * frame first: on the 2-core machine tracking alone ran at 27–30 fps at 640×480 and 17–22 at
 * 1280×720 (`npm run bench`). A face filling a third of a 960-wide frame still gives the mesh
 * model 320 px, more than its 256² input.
 */
export const DETECTION_MAX_WIDTH = 960;

/** Per face, the face-mesh landmarks as normalised [x0, y0, x1, y1, …] (0..1 of the image). */
export type Detections = Float32Array[];

/** MediaPipe FaceLandmarker in VIDEO mode (on the page, or in the tracking worker). */
export async function createLandmarker(options: LandmarkerOptions): Promise<FaceLandmarker> {
  // Imported on use: a page whose landmarker runs in the tracking worker never loads it.
  const { FaceLandmarker, FilesetResolver } = await import('@mediapipe/tasks-vision');
  const fileset = await FilesetResolver.forVisionTasks(options.wasmBaseUrl.replace(/\/$/, ''));
  const landmarker = await FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: options.modelUrl, delegate: options.delegate ?? 'CPU' },
    runningMode: 'VIDEO',
    numFaces: options.numFaces ?? 1,
    outputFaceBlendshapes: false,
    outputFacialTransformationMatrixes: false,
  });
  disableTelemetry(landmarker);
  return landmarker;
}

export function detectLandmarks(landmarker: FaceLandmarker, image: TexImageSource, timestampMs: number, scaler?: DetectionScaler): Detections {
  return landmarker.detectForVideo(scaler ? scaler.fit(image) : image, timestampMs).faceLandmarks.map((face) => {
    const values = new Float32Array(face.length * 2);
    face.forEach((p, i) => {
      values[2 * i] = p.x;
      values[2 * i + 1] = p.y;
    });
    return values;
  });
}

/**
 * tasks-vision 1.1.0 posts usage logs to odml.pa.googleapis.com every 60 s and on close(), with
 * no option to turn it off; the SDK must not talk to anything but the asset base. The logger's
 * sink drops everything once its `error` is set, so we set it (found by shape: the fields are
 * minified). If a future version changes the shape this does nothing, and the e2e network test
 * catches the request.
 */
function disableTelemetry(landmarker: FaceLandmarker): void {
  interface LogSink {
    error?: unknown;
    i: unknown[];
    h?: ReturnType<typeof setInterval>;
    flush: unknown;
  }
  for (const value of Object.values(landmarker as object) as unknown[]) {
    const sink = (value as { m?: Partial<LogSink> } | null)?.m;
    if (sink && typeof sink.flush === 'function' && Array.isArray(sink.i)) {
      sink.error = new Error('telemetry disabled by @face-stylizer/sdk');
      sink.i = [];
      if (sink.h !== undefined) clearInterval(sink.h);
      sink.h = undefined;
    }
  }
}

/** Scales frames wider than `maxWidth` down into its own canvas for the landmarker (LandmarkerOptions.maxWidth). */
export class DetectionScaler {
  private context: OffscreenCanvasRenderingContext2D | undefined;

  /** `maxWidth`: LandmarkerOptions.maxWidth (undefined: DETECTION_MAX_WIDTH). */
  constructor(private readonly maxWidth: number = DETECTION_MAX_WIDTH) {}

  /** The image itself when it is narrow enough (or no OffscreenCanvas exists), else its scaled copy (valid until the next call). */
  fit(image: TexImageSource): TexImageSource {
    const [width, height] = displaySize(image);
    if (this.maxWidth <= 0 || width <= this.maxWidth || !height || typeof OffscreenCanvas !== 'function') return image;
    const scaledWidth = this.maxWidth;
    const scaledHeight = Math.max(1, Math.round((height * scaledWidth) / width));
    if (!this.context || this.context.canvas.width !== scaledWidth || this.context.canvas.height !== scaledHeight) {
      this.context = new OffscreenCanvas(scaledWidth, scaledHeight).getContext('2d') ?? undefined;
      if (!this.context) return image;
      // Mipmapped minification: a bilinear 1.3–2× reduction aliases fine edges, which moves landmarks.
      this.context.imageSmoothingQuality = 'medium';
    }
    this.context.drawImage(image as CanvasImageSource, 0, 0, scaledWidth, scaledHeight);
    return this.context.canvas;
  }
}

/** The size at which an image is displayed (a VideoFrame's display size, a video's intrinsic size). */
function displaySize(image: TexImageSource): [number, number] {
  if (typeof VideoFrame === 'function' && image instanceof VideoFrame) return [image.displayWidth, image.displayHeight];
  if (typeof HTMLVideoElement === 'function' && image instanceof HTMLVideoElement) return [image.videoWidth, image.videoHeight];
  const sized = image as { width?: number; height?: number };
  return [sized.width ?? 0, sized.height ?? 0];
}
