/**
 * The tracking worker (built to dist/worker/tracking-worker.js, a classic worker: tasks-vision
 * loads its WASM glue with importScripts): MediaPipe's FaceLandmarker off the page's thread. The
 * page sends camera frames (transferred VideoFrames) whenever the worker is free and keeps
 * showing frames meanwhile; the landmarker's synchronous GPU readback then blocks only this thread.
 */
import type { FaceLandmarker } from '@mediapipe/tasks-vision';
import { createLandmarker, detectLandmarks } from './landmarker';
import type { TrackingReply, TrackingRequest } from './tracking-protocol';

interface WorkerScope {
  onmessage: ((event: MessageEvent<TrackingRequest>) => void) | null;
  postMessage(message: TrackingReply, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

let landmarker: FaceLandmarker | undefined;
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (event) => {
  const request = event.data;
  queue = queue.then(() => handle(request));
};

async function handle(request: TrackingRequest): Promise<void> {
  try {
    switch (request.type) {
      case 'load':
        landmarker = await createLandmarker(request.options);
        return reply({ id: request.id, ok: true });
      case 'detect': {
        try {
          if (!landmarker) throw new Error('tracking worker: landmarker not loaded');
          const faces = detectLandmarks(landmarker, request.frame, request.timestampMs);
          return reply({ id: request.id, ok: true, faces }, faces.map((face) => face.buffer as ArrayBuffer));
        } finally {
          request.frame.close(); // back to the camera's buffer pool at once
        }
      }
      case 'set-num-faces':
        await landmarker?.setOptions({ numFaces: request.numFaces });
        return reply({ id: request.id, ok: true });
      case 'close':
        landmarker?.close();
        landmarker = undefined;
        return reply({ id: request.id, ok: true });
    }
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    reply({ id: request.id, ok: false, error: { name, message } });
  }
}

function reply(message: TrackingReply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}
