// Browser side of scripts/bench.mjs: camera rate, face tracking alone, then the full pipeline
// (WASM EP) for a number of frames, with per-stage timings, fps and heap samples.
import * as sdk from '/sdk/face-stylizer.bundle.js';

const ASSET_BASE = '/assets/';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentiles(samples) {
  const sorted = Float64Array.from(samples).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), n: sorted.length };
}

// The same constraints as the pipeline's camera (FaceStylizer.openCamera), so that the camera
// and tracking-alone rates are measured at the size the pipeline gets (a 1280×720 clip was read
// at 640×480 here before session 16).
async function cameraVideo() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: sdk.FaceStylizer.CAMERA_DEFAULT });
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = stream;
  await video.play();
  return { stream, video };
}

/** Calls `onFrame(now)` for every new video frame until it returns false. */
function eachVideoFrame(video, onFrame) {
  return new Promise((resolve, reject) => {
    const step = (now) => {
      try {
        if (onFrame(now) === false) return resolve();
        video.requestVideoFrameCallback(step);
      } catch (error) {
        reject(error);
      }
    };
    video.requestVideoFrameCallback(step);
  });
}

/** Frames per second the fake camera delivers to a <video> doing nothing else. */
async function cameraRate(seconds = 3) {
  const { stream, video } = await cameraVideo();
  await sleep(500);
  let frames = 0;
  const start = performance.now();
  await eachVideoFrame(video, () => (frames++, performance.now() - start < seconds * 1000));
  stream.getTracks().forEach((track) => track.stop());
  return { fps: (frames * 1000) / (performance.now() - start), width: video.videoWidth, height: video.videoHeight };
}

/** The SDK's FaceTracker alone (MediaPipe FaceLandmarker, VIDEO mode, + smoothing) on every camera frame. */
async function trackingAlone(seconds = 10) {
  const tracker = await sdk.FaceTracker.create({ wasmBaseUrl: `${ASSET_BASE}mediapipe/wasm/`, modelUrl: `${ASSET_BASE}mediapipe/face_landmarker.task` });
  const { stream, video } = await cameraVideo();
  // Warm-up: the first detections are slower.
  let index = 0;
  let lastTimestamp = 0;
  const detect = (now) => {
    lastTimestamp = Math.max(now, lastTimestamp + 0.001);
    return tracker.detect({ image: video, width: video.videoWidth, height: video.videoHeight, timestampMs: lastTimestamp, index: index++, skipped: 0 });
  };
  const warmStart = performance.now();
  await eachVideoFrame(video, (now) => (detect(now), performance.now() - warmStart < 2000));
  const times = [];
  let faces = 0;
  let frames = 0;
  const start = performance.now();
  await eachVideoFrame(video, (now) => {
    const t = performance.now();
    faces += detect(now).length;
    times.push(performance.now() - t);
    frames++;
    return performance.now() - start < seconds * 1000;
  });
  const elapsed = performance.now() - start;
  stream.getTracks().forEach((track) => track.stop());
  tracker.close();
  return { fps: (frames * 1000) / elapsed, frames, facesPerFrame: faces / frames, detectMs: percentiles(times) };
}

/** Counts a track's frames while `counting()` is true (insertable streams; undefined without them). */
function countTrackFrames(track, counting) {
  if (typeof MediaStreamTrackProcessor !== 'function') return { stop: async () => (track.stop(), undefined) };
  const reader = new MediaStreamTrackProcessor({ track, maxBufferSize: 30 }).readable.getReader();
  let frames = 0;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (counting()) frames++;
      value.close();
    }
  })();
  return {
    stop: async () => {
      const counted = frames;
      track.stop();
      await reader.cancel().catch(() => undefined);
      await pump.catch(() => undefined);
      return counted;
    },
  };
}

/**
 * The whole pipeline, FaceStylizer.stylize(camera) on the WASM EP, for `frames` displayed frames
 * after `warmupFrames`. Every stage timing the SDK records is collected (StatsRecorder is
 * instrumented, not sampled), heap is sampled through window.benchHeap (CDP, after a GC).
 */
async function pipeline({ frames = 600, warmupFrames = 60, heapSamples = 10, options = {}, videoElement = false }) {
  // Preallocated, so collecting 10,000 frames of timings does not itself grow the heap.
  // In the order the bench prints them (the pipeline's, then the whole frame).
  const STAGES = ['upload', 'tracking', 'alignment', 'crop', 'readback', 'idle', 'encoder', 'generator', 'colour', 'blend', 'frame'];
  const samples = Object.fromEntries(STAGES.map((stage) => [stage, { values: new Float64Array(frames + 16), n: 0 }]));
  let stylizedTicks = 0;
  let measuring = false;
  const { time, tick } = sdk.StatsRecorder.prototype;
  sdk.StatsRecorder.prototype.time = function (stage, ms) {
    const recorded = samples[stage];
    if (measuring && recorded && recorded.n < recorded.values.length) recorded.values[recorded.n++] = ms;
    return time.call(this, stage, ms);
  };
  sdk.StatsRecorder.prototype.tick = function (rate) {
    if (measuring && rate === 'stylized') stylizedTicks++;
    return tick.call(this, rate);
  };

  const createStart = performance.now();
  const stylizer = await sdk.FaceStylizer.create({ assetBase: ASSET_BASE, executionProviders: ['wasm'], ...options });
  const createMs = performance.now() - createStart;
  document.body.append(stylizer.canvas);
  const events = { errors: [], warnings: [] };
  stylizer.events$.subscribe((event) => {
    if (event.type === 'error') events.errors.push(String(event.error?.code ?? event.error?.message ?? event.error));
    if (event.type === 'warning') events.warnings.push(event.warning.code);
  });
  let lastStats;
  stylizer.stats$.subscribe((stats) => (lastStats = stats));
  const camera = await sdk.FaceStylizer.openCamera();

  let displayed = 0;
  let withFace = 0;
  let streamError;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const heap = new Array(heapSamples + 2);
  heap.length = 0;
  let start = 0;
  let nextHeapAt = 0;
  const heapEvery = Math.max(1, Math.floor(frames / heapSamples));
  // What the camera delivers meanwhile: a clone of its track read by a processor with a deep
  // buffer (so none of its frames are dropped for lateness), counted over the measured window.
  const cameraDuring = countTrackFrames(camera.getVideoTracks()[0].clone(), () => measuring);
  // A MediaStream goes through insertable streams where the browser has them; a <video> is the other path.
  let source = camera;
  if (videoElement) {
    source = document.createElement('video');
    source.muted = true;
    source.srcObject = camera;
    await source.play();
  }
  const subscription = stylizer.stylize(source).subscribe({
    next: (info) => {
      displayed++;
      if (measuring && info.faces.length > 0) withFace++;
      if (displayed === warmupFrames) {
        measuring = true;
        start = performance.now();
        nextHeapAt = warmupFrames;
      }
      if (measuring && displayed >= nextHeapAt) {
        nextHeapAt += heapEvery;
        const frame = displayed - warmupFrames;
        // Sampled asynchronously; the stream keeps running meanwhile.
        window.benchHeap().then((sample) => heap.push({ frame, ...sample }));
      }
      if (displayed >= warmupFrames + frames) resolveDone();
    },
    error: (error) => {
      streamError = String(error?.code ?? error);
      resolveDone();
    },
  });
  await done;
  const elapsed = performance.now() - start;
  measuring = false;
  const cameraFrames = await cameraDuring.stop();
  await window.benchCpuMark(); // while the workers still exist (close() ends their threads)
  subscription.unsubscribe();
  camera.getTracks().forEach((track) => track.stop());
  await sleep(500);
  heap.push({ frame: frames, final: true, ...(await window.benchHeap()) });
  const provider = stylizer.executionProvider;
  await stylizer.close();
  sdk.StatsRecorder.prototype.time = time;
  sdk.StatsRecorder.prototype.tick = tick;

  const stages = Object.fromEntries(
    Object.entries(samples).filter(([, s]) => s.n > 0).map(([stage, s]) => [stage, percentiles(s.values.subarray(0, s.n))]),
  );
  return {
    provider,
    createMs,
    frames: displayed - warmupFrames,
    seconds: elapsed / 1000,
    displayedFps: ((displayed - warmupFrames) * 1000) / elapsed,
    stylizedFps: (stylizedTicks * 1000) / elapsed,
    cameraFps: cameraFrames === undefined ? undefined : (cameraFrames * 1000) / elapsed,
    faceFraction: withFace / Math.max(1, displayed - warmupFrames),
    stages,
    dropped: lastStats?.dropped ?? {},
    heap: heap.sort((a, b) => a.frame - b.frame),
    events,
    streamError,
    crossOriginIsolated,
  };
}

window.bench = { cameraRate, trackingAlone, pipeline };
window.benchReady = true;
