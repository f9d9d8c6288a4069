// Runs in headless Chromium: the runtime's own face landmarker and alignment math applied to
// still photos, so training crops are defined exactly as the SDK defines them at run time.
import { FaceLandmarker, FilesetResolver } from '@mediapipe/tasks-vision';
import { alignmentKeypoints, ffhqAlignment } from '../../packages/sdk/src/alignment/ffhq';

export interface LandmarkResult {
  key: string;
  width: number;
  height: number;
  faces: number;
  keypoints?: ReturnType<typeof alignmentKeypoints>;
  cropFromImage?: readonly number[];
  error?: string;
}

let landmarker: FaceLandmarker | undefined;
const PADDING = 0.3;

async function init(cropSize: number): Promise<void> {
  const fileset = await FilesetResolver.forVisionTasks('/tasks-vision-wasm');
  landmarker = await FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: '/models/mediapipe/face_landmarker.task', delegate: 'CPU' },
    runningMode: 'IMAGE',
    numFaces: 2,
  });
  (globalThis as unknown as { cropSize: number }).cropSize = cropSize;
}

async function landmark(items: { key: string; url: string }[]): Promise<LandmarkResult[]> {
  const cropSize = (globalThis as unknown as { cropSize: number }).cropSize;
  const results: LandmarkResult[] = [];
  for (const { key, url } of items) {
    try {
      const bitmap = await createImageBitmap(await (await fetch(url)).blob());
      const { width, height } = bitmap;
      // The photos are tight face crops; the short-range detector misses faces that fill the
      // whole frame, so each photo is centred on a larger neutral canvas first.
      const padX = Math.round(width * PADDING);
      const padY = Math.round(height * PADDING);
      const canvas = new OffscreenCanvas(width + 2 * padX, height + 2 * padY);
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#808080';
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, padX, padY);
      bitmap.close();
      const detected = landmarker!.detect(canvas);
      const faces = detected.faceLandmarks.length;
      const result: LandmarkResult = { key, width, height, faces };
      if (faces >= 1) {
        const points = detected.faceLandmarks[0]!.map((p) => ({ x: p.x * canvas.width - padX, y: p.y * canvas.height - padY }));
        result.keypoints = alignmentKeypoints(points);
        result.cropFromImage = [...ffhqAlignment(points, cropSize).cropFromImage];
      }
      results.push(result);
    } catch (error) {
      results.push({ key, width: 0, height: 0, faces: 0, error: String(error) });
    }
  }
  return results;
}

Object.assign(globalThis, { init, landmark });
