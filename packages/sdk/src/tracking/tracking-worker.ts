/**
 * The tracking worker (built to dist/worker/tracking-worker.js, a classic worker: tasks-vision
 * loads its WASM glue with importScripts): MediaPipe's FaceLandmarker off the page's thread. The
 * page sends camera frames (transferred VideoFrames) whenever the worker is free and keeps
 * showing frames meanwhile; the landmarker's synchronous GPU readback then blocks only this thread.
 */
import type { FaceLandmarker } from '@mediapipe/tasks-vision';
import { serveRequests } from '../workers/worker-server';
import { DetectionScaler, createLandmarker, detectLandmarks } from './landmarker';
import type { TrackingReplyFields, TrackingRequest } from './tracking-protocol';

let landmarker: FaceLandmarker | undefined;
let scaler: DetectionScaler | undefined;

serveRequests<TrackingRequest, TrackingReplyFields>(async (request) => {
  switch (request.type) {
    case 'load':
      landmarker = await createLandmarker(request.options);
      scaler = new DetectionScaler(request.options.maxWidth);
      return;
    case 'detect':
      try {
        if (!landmarker) throw new Error('tracking worker: landmarker not loaded');
        const faces = detectLandmarks(landmarker, request.frame, request.timestampMs, scaler);
        return { reply: { faces }, transfer: faces.map((face) => face.buffer as ArrayBuffer) };
      } finally {
        request.frame.close(); // back to the camera's buffer pool at once
      }
    case 'set-num-faces':
      await landmarker?.setOptions({ numFaces: request.numFaces });
      return;
    case 'close':
      landmarker?.close();
      landmarker = undefined;
      return;
  }
});
