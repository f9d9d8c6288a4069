import type { FaceLandmarker } from '@mediapipe/tasks-vision';

export interface LandmarkerOptions {
  /** Folder with tasks-vision's vision_wasm_internal.{js,wasm}. */
  readonly wasmBaseUrl: string;
  /** The FaceLandmarker .task bundle. */
  readonly modelUrl: string;
  readonly numFaces?: number;
  /** MediaPipe delegate; CPU is the predictable default for headless and low-end machines. */
  readonly delegate?: 'CPU' | 'GPU';
}

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

export function detectLandmarks(landmarker: FaceLandmarker, image: TexImageSource, timestampMs: number): Detections {
  return landmarker.detectForVideo(image, timestampMs).faceLandmarks.map((face) => {
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
