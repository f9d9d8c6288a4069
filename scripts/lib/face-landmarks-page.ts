// Runs in headless Chromium: the SDK's FaceLandmarker + ffhq-v1 alignment on still images
// (dataset preparation, style-pack builder, metrics). Reports every face with all face-mesh
// points, the alignment keypoints and the crop matrix, so callers can refuse "several faces"
// and measure landmark geometry.
import { FaceLandmarker, FilesetResolver } from '@mediapipe/tasks-vision';
import { alignmentKeypoints, ffhqAlignment } from '../../packages/sdk/src/alignment/ffhq';

export interface FaceResult {
  /** Face-mesh points in image pixels (continuous coordinates). */
  points: { x: number; y: number }[];
  keypoints: ReturnType<typeof alignmentKeypoints>;
  cropFromImage: number[];
}

export interface LandmarkerSettings {
  numFaces: number;
  /** Detection and presence confidence; MediaPipe's default is 0.5. */
  minConfidence: number;
}

export interface ImageResult {
  url: string;
  width: number;
  height: number;
  faces: FaceResult[];
  error?: string;
}

let landmarker: FaceLandmarker | undefined;
// Tight crops defeat the short-range detector: centre each image on a larger neutral canvas.
const PADDING = 0.3;

async function init({ numFaces, minConfidence }: LandmarkerSettings): Promise<void> {
  const fileset = await FilesetResolver.forVisionTasks('/tasks-vision-wasm');
  landmarker = await FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: '/models/mediapipe/face_landmarker.task', delegate: 'CPU' },
    runningMode: 'IMAGE',
    numFaces,
    minFaceDetectionConfidence: minConfidence,
    minFacePresenceConfidence: minConfidence,
  });
}

async function landmarkImages(urls: string[], cropSize: number): Promise<ImageResult[]> {
  const results: ImageResult[] = [];
  for (const url of urls) {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const bitmap = await createImageBitmap(await response.blob());
      const { width, height } = bitmap;
      const padX = Math.round(width * PADDING);
      const padY = Math.round(height * PADDING);
      const canvas = new OffscreenCanvas(width + 2 * padX, height + 2 * padY);
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#808080';
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, padX, padY);
      bitmap.close();
      const detected = landmarker!.detect(canvas);
      const faces = detected.faceLandmarks.map((landmarks) => {
        const points = landmarks.map((p) => ({ x: p.x * canvas.width - padX, y: p.y * canvas.height - padY }));
        return { points, keypoints: alignmentKeypoints(points), cropFromImage: [...ffhqAlignment(points, cropSize).cropFromImage] };
      });
      results.push({ url, width, height, faces });
    } catch (error) {
      results.push({ url, width: 0, height: 0, faces: [], error: String(error) });
    }
  }
  return results;
}

Object.assign(globalThis, { init, landmarkImages });
