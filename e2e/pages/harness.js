// Browser side of the end-to-end tests: the built SDK bundle plus helpers the tests call with
// page.evaluate. Everything the SDK loads comes from /assets/ (the asset base).
import * as sdk from '/sdk/face-stylizer.bundle.js';

const ASSET_BASE = '/assets/';
// MediaPipe FACEMESH_FACE_OVAL as a closed loop (the SDK's mask polygon).
const FACE_OVAL = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150,
  136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];
/** A pixel "changed" when some channel differs by more than this (8-bit levels): above JPEG-free noise. */
const CHANGED_LEVELS = 2;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const state = { frames: [], outputs: {} };

function withTimeout(promise, ms, what) {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`timed out after ${ms} ms: ${what}`)))]);
}

function describeError(error) {
  if (!error) return String(error);
  return {
    name: error.name,
    code: error.code,
    file: error.file,
    message: error.message,
    isStylePackError: error instanceof sdk.StylePackError,
    isFaceStylizerError: error instanceof sdk.FaceStylizerError,
  };
}

/** Lockstep frames are written no faster than a 30 fps camera delivers them. */
const FRAME_INTERVAL_MS = 1000 / 30;

function pixelsOf(source, width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(source, 0, 0, width, height);
  return context.getImageData(0, 0, width, height).data;
}

function toPng(pixels, width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(pixels), width, height), 0, 0);
  return canvas.toDataURL('image/png');
}

/** Captures `count` camera frames `intervalMs` apart (after `warmupMs`) as the source frames of later runs. */
async function captureFrames({ count = 1, intervalMs = 0, warmupMs = 1500 } = {}) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = stream;
  await video.play();
  await sleep(warmupMs);
  state.frames = [];
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
    state.frames.push(await createImageBitmap(video));
    if (intervalMs) await sleep(intervalMs);
  }
  stream.getTracks().forEach((track) => track.stop());
  return { count: state.frames.length, width: state.frames[0].width, height: state.frames[0].height };
}

async function createStylizer(options = {}) {
  const stylizer = await sdk.FaceStylizer.create({
    assetBase: ASSET_BASE,
    executionProviders: ['wasm'],
    packCache: false,
    ...options,
  });
  const events = [];
  stylizer.events$.subscribe((event) =>
    events.push(event.type === 'state' ? `state:${event.state}` : event.type === 'warning' ? `warning:${event.warning.code}` : `error:${event.error?.code ?? event.error}`),
  );
  return { stylizer, events };
}

/**
 * Lockstep run over the captured frames through stylize(MediaStreamTrackGenerator) (the
 * insertable-streams path): each frame is written only after the previous one came out, and
 * the output canvas is read back for exactly that frame.
 *  - mode 'still': repeats frame 0 until `expectFaces` faces are stylized, then `settle` more
 *    frames, then `totalSteps` frames in all if given (so two runs end in the same state);
 *    compares the last output with the input.
 *  - mode 'sequence': every captured frame once; compares each output with its input.
 */
async function lockstep({ mode = 'still', expectFaces = 1, settle = 3, totalSteps, maxSteps = 900, keep, cropped = false, ...options } = {}) {
  const { stylizer, events } = await createStylizer(options);
  const generator = new MediaStreamTrackGenerator({ kind: 'video' });
  const writer = generator.writable.getWriter();
  let pending;
  const subscription = stylizer.stylize(generator).subscribe({
    next: (info) => pending?.resolve(info),
    error: (error) => pending?.reject(error),
  });
  let timestamp = 0;
  let lastWrite = 0;
  const step = async (bitmap) => {
    // Paced like a 30 fps camera: tracking and inference run in workers at their own pace, so
    // "how many frames until stylized" must mean camera time, not how fast frames can be pushed.
    await sleep(Math.max(0, lastWrite + FRAME_INTERVAL_MS - performance.now()));
    lastWrite = performance.now();
    const emitted = new Promise((resolve, reject) => (pending = { resolve, reject }));
    timestamp += 33333;
    await writer.write(cropped ? croppedFrame(bitmap, timestamp) : new VideoFrame(bitmap, { timestamp }));
    return withTimeout(emitted, 20000, 'frame through the pipeline');
  };
  // The output canvas keeps the last frame until the next one is written (preserveDrawingBuffer).
  const readOutput = (bitmap) => pixelsOf(stylizer.canvas, bitmap.width, bitmap.height);
  // A cropped frame is compared with what it displays (its visible rect scaled to its display size).
  const reference = new Map();
  const inputOf = (bitmap) => {
    if (!cropped) return bitmap;
    if (!reference.has(bitmap)) {
      const frame = croppedFrame(bitmap, 0);
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      canvas.getContext('2d').drawImage(frame, 0, 0, bitmap.width, bitmap.height);
      frame.close();
      reference.set(bitmap, canvas);
    }
    return reference.get(bitmap);
  };
  const results = [];
  let steps = 0;
  let png;
  try {
    if (mode === 'still') {
      const bitmap = state.frames[0];
      let last;
      let stylizedAt = -1;
      while (steps < maxSteps) {
        last = await step(bitmap);
        steps++;
        const ready = last.faces.length === expectFaces && last.faces.every((face) => face.stylized);
        if (ready && stylizedAt < 0) stylizedAt = steps;
        if (stylizedAt >= 0 && steps >= stylizedAt + settle && (!totalSteps || steps >= totalSteps)) break;
        if (expectFaces === 0 && steps >= settle) break;
      }
      const output = readOutput(bitmap);
      png = toPng(output, bitmap.width, bitmap.height);
      results.push({ ...compare(inputOf(bitmap), output, last, stylizer.pack?.grade), stylizedAt });
      if (keep) state.outputs[keep] = { pixels: output, info: last, width: bitmap.width, height: bitmap.height };
    } else {
      for (const bitmap of state.frames) {
        const info = await step(bitmap);
        steps++;
        results.push(compare(inputOf(bitmap), readOutput(bitmap), info, stylizer.pack?.grade));
      }
    }
  } finally {
    subscription.unsubscribe();
    generator.stop();
  }
  const provider = stylizer.executionProvider;
  await stylizer.close();
  // How many different input frames the run saw (a sequence test must not feed one frame over and over).
  const distinctInputs = new Set(state.frames.map((bitmap) => checksum(pixelsOf(bitmap, bitmap.width, bitmap.height)))).size;
  return { provider, steps, events: [...new Set(events)], results, distinctInputs, png };
}

/**
 * What a 1280×720 camera asked for 640×480 delivers: a crop-and-scale frame, coded 1280×720 with
 * visibleRect {x: 160, y: 0, 960×720} and display size 640×480. The captured frame fills the
 * visible rect (scaled 1.5×); the cropped-away sides are a flat grey, so reading them shows.
 */
function croppedFrame(bitmap, timestamp) {
  const canvas = new OffscreenCanvas(1280, 720);
  const context = canvas.getContext('2d');
  context.fillStyle = 'rgb(40, 160, 40)';
  context.fillRect(0, 0, 1280, 720);
  context.drawImage(bitmap, 160, 0, 960, 720);
  return new VideoFrame(canvas, { timestamp, visibleRect: { x: 160, y: 0, width: 960, height: 720 }, displayWidth: bitmap.width, displayHeight: bitmap.height });
}

function checksum(pixels) {
  let hash = 2166136261;
  for (let i = 0; i < pixels.length; i += 7) hash = Math.imul(hash ^ pixels[i], 16777619);
  return hash >>> 0;
}

/** Signed distance from (x, y) to a closed polygon [[x, y], ...]: negative inside. */
function signedDistance(x, y, polygon) {
  let squared = Infinity;
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [ax, ay] = polygon[i];
    const [bx, by] = polygon[j];
    const ex = bx - ax;
    const ey = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * ex + (y - ay) * ey) / (ex * ex + ey * ey || 1)));
    squared = Math.min(squared, (x - ax - t * ex) ** 2 + (y - ay - t * ey) ** 2);
    if (ay > y !== by > y && x < (ex * (y - ay)) / (ey || 1e-12) + ax) inside = !inside;
  }
  return (inside ? -1 : 1) * Math.sqrt(squared);
}

/** W3C compositing Lum() of the RGBA pixel at byte offset k (what a pack's frame grade keeps). */
function luminosityAt(pixels, k) {
  return 0.3 * pixels[k] + 0.59 * pixels[k + 1] + 0.11 * pixels[k + 2];
}

/**
 * Output vs input: per face, the "core" (the face oval shrunk to 70 % about its centroid, well
 * inside any feather) and, for the whole frame, every pixel more than 1 px outside all face ovals.
 * With the pack's frame `grade`, outside.gradeLumaMaxDiff is the largest luminosity difference
 * from the input through sdk.gradePixel (its colour as the renderers draw it, in 8 bits): the
 * luminosity, which the tone sets, because the camera frame's chroma reaches the WebGL texture
 * and the 2D canvas through different chroma upsampling.
 */
function compare(bitmap, output, info, grade) {
  const drawnGrade = grade && { ...grade, color: grade.color.map((c) => Math.round(c * 255) / 255) };
  const { width, height } = bitmap;
  const input = pixelsOf(bitmap, width, height);
  const ovals = info.faces.map((face) => FACE_OVAL.map((i) => [face.landmarks[i].x, face.landmarks[i].y]));
  const cores = ovals.map((oval) => {
    const cx = oval.reduce((a, p) => a + p[0], 0) / oval.length;
    const cy = oval.reduce((a, p) => a + p[1], 0) / oval.length;
    return oval.map(([x, y]) => [cx + (x - cx) * 0.7, cy + (y - cy) * 0.7]);
  });
  const faces = cores.map(() => ({ pixels: 0, changed: 0, sumAbs: 0, lumaShift: 0 }));
  // changed: by more than CHANGED_LEVELS; lumaMaxDiff: largest change of luminosityAt
  const outside = { pixels: 0, differing: 0, changed: 0, maxDiff: 0, lumaMaxDiff: 0, gradeLumaMaxDiff: 0 };
  let frameMaxDiff = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = 4 * (y * width + x);
      const diff = Math.max(Math.abs(output[k] - input[k]), Math.abs(output[k + 1] - input[k + 1]), Math.abs(output[k + 2] - input[k + 2]));
      frameMaxDiff = Math.max(frameMaxDiff, diff);
      const px = x + 0.5;
      const py = y + 0.5;
      if (ovals.every((oval) => signedDistance(px, py, oval) > 1)) {
        outside.pixels++;
        if (diff > 0) outside.differing++;
        if (diff > CHANGED_LEVELS) outside.changed++;
        outside.maxDiff = Math.max(outside.maxDiff, diff);
        outside.lumaMaxDiff = Math.max(outside.lumaMaxDiff, Math.abs(luminosityAt(output, k) - luminosityAt(input, k)));
        if (drawnGrade) {
          const expected = sdk.gradePixel(drawnGrade, [input[k] / 255, input[k + 1] / 255, input[k + 2] / 255]).map((c) => c * 255);
          outside.gradeLumaMaxDiff = Math.max(outside.gradeLumaMaxDiff, Math.abs(luminosityAt(output, k) - luminosityAt(expected, 0)));
        }
        continue;
      }
      cores.forEach((core, f) => {
        if (signedDistance(px, py, core) < 0) {
          faces[f].pixels++;
          if (diff > CHANGED_LEVELS) faces[f].changed++;
          faces[f].sumAbs += (Math.abs(output[k] - input[k]) + Math.abs(output[k + 1] - input[k + 1]) + Math.abs(output[k + 2] - input[k + 2])) / 3;
          faces[f].lumaShift += luminosityAt(output, k) - luminosityAt(input, k);
        }
      });
    }
  }
  return {
    faces: info.faces.map((face, f) => ({
      id: face.id,
      stylized: face.stylized,
      centre: { x: Math.round(ovals[f].reduce((a, p) => a + p[0], 0) / ovals[f].length), y: Math.round(ovals[f].reduce((a, p) => a + p[1], 0) / ovals[f].length) },
      corePixels: faces[f].pixels,
      coreChangedFraction: faces[f].pixels ? faces[f].changed / faces[f].pixels : 0,
      coreMeanAbs: faces[f].pixels ? faces[f].sumAbs / faces[f].pixels : 0,
      // mean luminosity of the core, output minus input, 8-bit levels
      coreLumaShift: faces[f].pixels ? faces[f].lumaShift / faces[f].pixels : 0,
    })),
    outside,
    frameMaxDiff,
  };
}

/** Difference between two kept outputs (e.g. WebGPU vs WASM) inside the face ovals of `a`, and over the whole frame. */
function compareOutputs([a, b]) {
  const first = state.outputs[a];
  const second = state.outputs[b];
  const { width, height } = first;
  const ovals = first.info.faces.map((face) => FACE_OVAL.map((i) => [face.landmarks[i].x, face.landmarks[i].y]));
  const histogram = new Array(256).fill(0);
  let facePixels = 0;
  let sumAbs = 0;
  let frameMax = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = 4 * (y * width + x);
      const d = [0, 1, 2].map((c) => Math.abs(first.pixels[k + c] - second.pixels[k + c]));
      const diff = Math.max(...d);
      frameMax = Math.max(frameMax, diff);
      if (ovals.some((oval) => signedDistance(x + 0.5, y + 0.5, oval) < 0)) {
        facePixels++;
        histogram[diff]++;
        sumAbs += (d[0] + d[1] + d[2]) / 3;
      }
    }
  }
  let cumulative = 0;
  let p99 = 0;
  for (let level = 0; level < 256; level++) {
    cumulative += histogram[level];
    if (cumulative >= 0.99 * facePixels) {
      p99 = level;
      break;
    }
  }
  const landmarksMaxDelta = Math.max(
    0,
    ...first.info.faces.flatMap((face, f) => face.landmarks.map((p, i) => Math.hypot(p.x - second.info.faces[f].landmarks[i].x, p.y - second.info.faces[f].landmarks[i].y))),
  );
  return {
    facePixels,
    meanAbs: sumAbs / Math.max(1, facePixels),
    p99,
    max: histogram.reduceRight((found, count, level) => (found < 0 && count > 0 ? level : found), -1),
    frameMax,
    landmarksMaxDelta,
    facesA: first.info.faces.length,
    facesB: second.info.faces.length,
  };
}

/**
 * The normal path: stylize(camera MediaStream) through a <video>, for `seconds`. Counts
 * displayed frames, frames with faces and frames whose faces were all stylized.
 */
async function live({ seconds = 6, busyMainThreadMs = 0, ...options } = {}) {
  const { stylizer, events } = await createStylizer(options);
  const camera = await sdk.FaceStylizer.openCamera();
  const counts = { frames: 0, withFace: 0, stylized: 0, maxFaces: 0, predicted: 0 };
  // Optional load on the page's main thread (busy-waits every 50 ms), so the pipeline drops camera frames.
  const busy = busyMainThreadMs
    ? setInterval(() => {
        const until = performance.now() + busyMainThreadMs;
        while (performance.now() < until);
      }, 50)
    : undefined;
  let streamError;
  const subscription = stylizer.stylize(camera).subscribe({
    next: (info) => {
      counts.frames++;
      if (info.faces.length > 0) counts.withFace++;
      if (info.faces.length > 0 && info.faces.every((face) => face.stylized)) counts.stylized++;
      counts.maxFaces = Math.max(counts.maxFaces, info.faces.length);
      if (info.landmarksPredicted) counts.predicted++;
    },
    error: (error) => (streamError = describeError(error)),
  });
  // Count from the first stylized frame, so camera start, model warm-up and the first inference are not judged.
  const started = performance.now();
  while (counts.stylized === 0 && performance.now() - started < 30000) await sleep(20);
  const before = { ...counts };
  await sleep(seconds * 1000);
  const stats = await new Promise((resolve) => stylizer.stats$.subscribe(resolve));
  clearInterval(busy);
  subscription.unsubscribe();
  camera.getTracks().forEach((track) => track.stop());
  const provider = stylizer.executionProvider;
  await stylizer.close();
  return {
    provider,
    frames: counts.frames - before.frames,
    withFace: counts.withFace - before.withFace,
    stylized: counts.stylized - before.stylized,
    maxFaces: counts.maxFaces,
    predicted: counts.predicted - before.predicted,
    events: [...new Set(events)],
    streamError,
    fps: stats.fps,
  };
}

/**
 * Style packs while a camera stream runs: switches to `good`, then tries each of `bad` (expecting
 * rejections), and checks that frames and stylized results keep coming with `good` still active.
 */
/**
 * The camera stream through `stylizer`, counting frames shown and frames whose faces are all
 * stylized; `untilStylized()` waits (≤ 30 s) for the first stylized frame, `stop()` ends it.
 */
async function cameraRun(stylizer) {
  const camera = await sdk.FaceStylizer.openCamera();
  const run = { counts: { frames: 0, stylized: 0 }, streamError: undefined };
  const subscription = stylizer.stylize(camera).subscribe({
    next: (info) => {
      run.counts.frames++;
      if (info.faces.length > 0 && info.faces.every((face) => face.stylized)) run.counts.stylized++;
    },
    error: (error) => (run.streamError = describeError(error)),
  });
  run.untilStylized = async () => {
    const started = performance.now();
    while (run.counts.stylized === 0 && performance.now() - started < 30000) await sleep(20);
  };
  run.stop = () => {
    subscription.unsubscribe();
    camera.getTracks().forEach((track) => track.stop());
  };
  return run;
}

async function packSwitch({ good, bad, createWith }) {
  const result = {};
  result.creates = {};
  for (const url of createWith ? [createWith].flat() : []) {
    try {
      const stylizer = await sdk.FaceStylizer.create({ assetBase: ASSET_BASE, executionProviders: ['wasm'], packCache: false, pack: url });
      await stylizer.close();
      result.creates[url] = 'resolved';
    } catch (error) {
      result.creates[url] = describeError(error);
    }
  }
  const { stylizer, events } = await createStylizer();
  const run = await cameraRun(stylizer);
  const { counts } = run;
  const stylizedResults = async (ms) => {
    const before = (await new Promise((resolve) => stylizer.stats$.subscribe(resolve))).fps;
    const startFrames = counts.frames;
    await sleep(ms);
    return { frames: counts.frames - startFrames, stylizedFps: before.stylized };
  };
  await run.untilStylized();
  await stylizer.setPack(good);
  result.packAfterGood = stylizer.pack?.id ?? null;
  result.rejections = {};
  for (const url of bad) {
    try {
      await stylizer.setPack(url);
      result.rejections[url] = 'resolved';
    } catch (error) {
      result.rejections[url] = describeError(error);
    }
  }
  result.packAfterBad = stylizer.pack?.id ?? null;
  // The stream keeps running with the good pack: frames and new stylized results keep coming.
  const stylizedBefore = counts.stylized;
  result.after = await stylizedResults(2500);
  result.stylizedAfter = counts.stylized - stylizedBefore;
  result.statsAfter = (await new Promise((resolve) => stylizer.stats$.subscribe(resolve))).fps;
  result.streamError = run.streamError;
  result.events = [...new Set(events)];
  run.stop();
  await stylizer.close();
  return result;
}

/**
 * Concurrent setPack calls, not awaited, `rounds` times over `urls` in a rotating order: reports
 * how each call settled and which pack is active afterwards (the last call must win).
 */
async function packRace({ urls, rounds = 6 }) {
  const { stylizer, events } = await createStylizer();
  const result = { rounds: [] };
  for (let round = 0; round < rounds; round++) {
    const order = urls.map((_, i) => urls[(i + round) % urls.length]);
    const settled = await Promise.allSettled(order.map((url) => stylizer.setPack(url)));
    result.rounds.push({
      order,
      outcomes: settled.map((s) => (s.status === 'fulfilled' ? 'resolved' : describeError(s.reason))),
      active: stylizer.pack?.id ?? null,
    });
  }
  result.events = [...new Set(events)];
  await stylizer.close();
  return result;
}

/**
 * WebGPU device loss mid-stream: every GPUDevice the page creates is recorded (the adapter's
 * requestDevice is wrapped before the stylizer exists), the stream runs on WebGPU until it has
 * stylized frames, then the devices are destroyed — what a driver reset or an unplugged eGPU
 * does. Reports what happened before and after: provider, stylized frames, events, errors.
 */
async function deviceLoss({ secondsAfter = 8 } = {}) {
  const devices = [];
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    devices.push(device);
    return device;
  };
  const { stylizer, events } = await createStylizer({ executionProviders: ['webgpu', 'wasm'] });
  const camera = await sdk.FaceStylizer.openCamera();
  let frames = 0;
  let stylizedFrames = 0;
  let streamError;
  const subscription = stylizer.stylize(camera).subscribe({
    next: (info) => {
      frames++;
      if (info.faces.some((face) => face.stylized)) stylizedFrames++;
    },
    error: (error) => (streamError = describeError(error)),
  });
  const started = performance.now();
  while (stylizedFrames === 0 && performance.now() - started < 120000) await sleep(50);
  const before = { provider: stylizer.executionProvider, stylizedFrames, devices: devices.length };
  for (const device of devices) device.destroy();
  const framesAtLoss = frames;
  await sleep(secondsAfter * 1000);
  // The stylized rate over the last 2 s (StatsRecorder's window): generator results made after the switch.
  const stats = await new Promise((resolve) => {
    const statsSubscription = stylizer.stats$.subscribe((value) => {
      resolve(value);
      queueMicrotask(() => statsSubscription.unsubscribe());
    });
  });
  const after = { provider: stylizer.executionProvider, frames: frames - framesAtLoss, stylizedFps: stats.fps.stylized, statsProvider: stats.executionProvider };
  subscription.unsubscribe();
  camera.getTracks().forEach((track) => track.stop());
  await stylizer.close();
  GPUAdapter.prototype.requestDevice = requestDevice;
  return { before, after, events: [...new Set(events)], streamError };
}

/**
 * Model-level parity: the base encoder and generator on WebGPU and on WASM, fed the same
 * deterministic crop (a smooth synthetic pattern in [-1, 1]), α = 1. Returns the largest
 * absolute difference of each output between the two providers.
 */
async function modelParity() {
  const backend = sdk.createOrtBackend({ wasmBaseUrl: `${ASSET_BASE}ort/` }, sdk.ALL_ORT_BUILDS);
  const contract = await (await fetch(`${ASSET_BASE}models/base/contract.json`)).json();
  const model = async (file) => new Uint8Array(await (await fetch(`${ASSET_BASE}models/base/${file}`)).arrayBuffer());
  const [encoderBytes, generatorBytes] = await Promise.all([model(contract.encoder.file), model(contract.generator.file)]);
  const size = contract.crop.size;
  const crop = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) crop[(c * size + y) * size + x] = 0.8 * Math.sin(0.11 * x + c) * Math.cos(0.07 * y - c);
    }
  }
  const outputs = {};
  for (const provider of ['webgpu', 'wasm']) {
    const encoder = await backend.createSession(encoderBytes, provider, { outputsOnGpu: [] });
    const generator = await backend.createSession(generatorBytes, provider, { outputsOnGpu: [] });
    const encoded = await encoder.run({ image: backend.tensor(provider, crop, [1, 3, size, size]) });
    const generated = await generator.run({ w_plus: encoded.w_plus, features: encoded.features, alpha: backend.tensor(provider, new Float32Array([1]), [1]) });
    outputs[provider] = {};
    for (const [name, tensor] of Object.entries({ ...encoded, ...generated })) outputs[provider][name] = await tensor.getData();
    for (const tensor of [...Object.values(encoded), ...Object.values(generated)]) tensor.dispose();
    await encoder.release();
    await generator.release();
  }
  const maxAbs = {};
  for (const name of Object.keys(outputs.wasm)) {
    const [a, b] = [outputs.webgpu[name], outputs.wasm[name]];
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    maxAbs[name] = max;
  }
  return maxAbs;
}

/**
 * The same frame and stylized face composited by the WebGL renderer and by the 2D-canvas one:
 * landmarks from the page's landmarker on captured frame 0, a synthetic stylized crop (a colour
 * pattern) and a non-identity flow, strength 0.8. Returns how far the two canvases differ.
 */
async function rendererParity({ strength = 0.8, feather = 8, detail = 0, grade } = {}) {
  const bitmap = state.frames[0];
  const { width, height } = bitmap;
  const tracker = await sdk.FaceTracker.create({ wasmBaseUrl: `${ASSET_BASE}mediapipe/wasm/`, modelUrl: `${ASSET_BASE}mediapipe/face_landmarker.task` });
  const image = new VideoFrame(bitmap, { timestamp: 0 });
  const frame = { image, width, height, timestampMs: 1, index: 0, skipped: 0 };
  let faces = [];
  for (let t = 1; t < 10 && faces.length === 0; t++) faces = tracker.detect({ ...frame, timestampMs: t });
  tracker.close();
  const size = 128;
  const aligned = faces.flatMap((face) => sdk.alignFace(face, { size, alignment: 'face-core-v1' }));
  const plane = size * size;
  const pattern = new Float32Array(3 * plane);
  const flow = new Float32Array(2 * plane);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      pattern[i] = Math.sin(x / 7) * 0.9;
      pattern[plane + i] = Math.cos(y / 5) * 0.9;
      pattern[2 * plane + i] = ((x + y) % 32) / 16 - 1;
      // Identity plus a smooth bulge: the mask outline follows a deformed face.
      flow[i] = ((x + 0.5) / size) * 2 - 1 + 0.04 * Math.sin((y / size) * Math.PI * 2);
      flow[plane + i] = ((y + 0.5) / size) * 2 - 1 + 0.03 * Math.cos((x / size) * Math.PI * 2);
    }
  }
  const color = { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], offset: [0, 0, 0] }; // ColorTransform identity
  // With camera detail, the pattern is also the "input" crop: its gain is ~1 wherever it varies.
  const stylized = new Map(aligned.map((face) => [face.id, { faceId: face.id, version: 1, size, image: pattern, flow, color, ...(detail > 0 ? { input: pattern } : {}) }]));
  const stylizedFrame = { frame, faces: aligned, predicted: false, stylized };
  const outputs = {};
  const kinds = detail > 0 ? ['webgl', 'canvas2d', 'canvas2d-no-detail'] : ['webgl', 'canvas2d'];
  for (const kind of kinds) {
    const canvas = document.createElement('canvas');
    let renderer;
    let gl;
    if (kind === 'webgl') {
      gl = new sdk.GlContext(canvas);
      renderer = new sdk.BlendRenderer(gl, [-1, 1]);
    } else {
      renderer = new sdk.Canvas2dBlendRenderer(canvas, [-1, 1]);
    }
    renderer.upload(frame);
    renderer.render(stylizedFrame, { strength, feather, detail: kind === 'canvas2d-no-detail' ? 0 : detail, grade });
    outputs[kind] = pixelsOf(canvas, width, height);
    if (grade) {
      // The grade alone (no face): every pixel must be the reference formula of the input's.
      renderer.upload({ ...frame, index: 1 });
      renderer.render({ frame: { ...frame, index: 1 }, faces: [], predicted: false, stylized: new Map() }, { strength: 1, feather, detail, grade });
      outputs[`${kind}-grade-only`] = pixelsOf(canvas, width, height);
    }
    renderer.dispose();
    gl?.dispose();
  }
  image.close();
  const input = pixelsOf(bitmap, width, height);
  let gradeMax = 0; // largest difference of the grade-only renders from sdk.gradePixel, 8-bit levels
  let lumaMax = 0; // largest change of luminosityAt the grade's colour made (after its tone), 8-bit levels
  if (grade) {
    const quantised = { ...grade, color: grade.color.map((c) => Math.round(c * 255) / 255) };
    const { gain, offset } = grade.tone ?? { gain: 1, offset: 0 };
    const toned = new Uint8ClampedArray(4);
    for (let k = 0; k < input.length; k += 4) {
      const expected = sdk.gradePixel(quantised, [input[k] / 255, input[k + 1] / 255, input[k + 2] / 255]);
      for (let c = 0; c < 3; c++) toned[c] = Math.min(1, Math.max(0, gain * (input[k + c] / 255) + offset)) * 255;
      for (const kind of ['webgl', 'canvas2d']) {
        const out = outputs[`${kind}-grade-only`];
        for (let c = 0; c < 3; c++) gradeMax = Math.max(gradeMax, Math.abs(out[k + c] - expected[c] * 255));
        lumaMax = Math.max(lumaMax, Math.abs(luminosityAt(out, k) - luminosityAt(toned, 0)));
      }
    }
  }
  let max = 0;
  let overOne = 0;
  let changed = 0;
  let detailChanged = 0; // pixels the camera detail moved by more than 2 levels
  for (let k = 0; k < input.length; k += 4) {
    if (outputs['canvas2d-no-detail'] && [0, 1, 2].some((c) => Math.abs(outputs.canvas2d[k + c] - outputs['canvas2d-no-detail'][k + c]) > 2)) detailChanged++;
    let d = 0;
    for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(outputs.webgl[k + c] - outputs.canvas2d[k + c]));
    max = Math.max(max, d);
    if (d > 1) overOne++;
    if ([0, 1, 2].some((c) => outputs.canvas2d[k + c] !== input[k + c])) changed++;
  }
  return { faces: aligned.length, pixels: input.length / 4, changed, max, overOne, detailChanged, gradeMax, lumaMax };
}

/**
 * A live stream whose SDK workers fail mid-stream: once a stylized frame was shown, the tracking
 * worker and then the inference worker get an `error` event (what a crashed worker delivers),
 * `secondsAfter` apart. Workers are told apart by the name the SDK gives them.
 */
async function workerCrash({ secondsAfter = 6 } = {}) {
  const workers = [];
  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      super(url, options);
      workers.push({ name: options?.name ?? '', worker: this });
    }
  };
  const { stylizer, events } = await createStylizer();
  window.Worker = NativeWorker;
  const run = await cameraRun(stylizer);
  const { counts } = run;
  await run.untilStylized();
  const phases = {};
  for (const which of ['tracking', 'inference']) {
    const target = workers.find((w) => w.name.endsWith(which));
    target?.worker.dispatchEvent(new ErrorEvent('error', { message: `${which} worker crashed (test)` }));
    const before = { ...counts };
    await sleep(secondsAfter * 1000);
    phases[which] = { found: !!target, frames: counts.frames - before.frames, stylized: counts.stylized - before.stylized };
  }
  const stats = await new Promise((resolve) => stylizer.stats$.subscribe(resolve));
  run.stop();
  const provider = stylizer.executionProvider;
  await stylizer.close();
  return { provider, phases, stylizedFps: stats.fps.stylized, events: [...new Set(events)], streamError: run.streamError };
}

/**
 * One stylizer, its source switched `switches` times between the camera (a MediaStream: insertable
 * streams, capture timestamps) and a looping <video> of the sample clip (media-time frames), as the
 * demo's Source selector does. Per phase: frames shown and frames with every face stylized.
 */
async function sourceSwitch({ switches = 6, secondsEach = 4, clip = '/media/sample-face.webm' } = {}) {
  const { stylizer, events } = await createStylizer();
  const phases = [];
  let streamErrors = [];
  for (let i = 0; i <= switches; i++) {
    const kind = i % 2 === 0 ? 'camera' : 'video';
    let source;
    let stop;
    if (kind === 'camera') {
      source = await sdk.FaceStylizer.openCamera();
      stop = () => source.getTracks().forEach((track) => track.stop());
    } else {
      source = document.createElement('video');
      Object.assign(source, { muted: true, loop: true, playsInline: true, src: clip });
      await source.play();
      stop = () => {
        source.pause();
        source.removeAttribute('src');
        source.load();
      };
    }
    const counts = { kind, frames: 0, stylized: 0 };
    const subscription = stylizer.stylize(source).subscribe({
      next: (info) => {
        counts.frames++;
        if (info.faces.length > 0 && info.faces.every((face) => face.stylized)) counts.stylized++;
      },
      error: (error) => streamErrors.push(describeError(error)),
    });
    await sleep(secondsEach * 1000);
    subscription.unsubscribe();
    stop();
    phases.push(counts);
  }
  await stylizer.close();
  return { phases, events: [...new Set(events)], streamErrors };
}

/**
 * stylize(<video>) of `src` (or of the camera under srcObject when `camera`), until the stream
 * errors or completes or `timeoutMs` passes; `stopCameraAfterMs` stops the camera track.
 */
async function videoSource({ src, loop = false, camera = false, stopCameraAfterMs, timeoutMs = 30000 } = {}) {
  const { stylizer, events } = await createStylizer();
  const video = document.createElement('video');
  Object.assign(video, { muted: true, loop, playsInline: true });
  let stream;
  if (camera) video.srcObject = stream = await sdk.FaceStylizer.openCamera();
  else video.src = src;
  let playError;
  video.play().catch((error) => (playError = describeError(error)));
  let frames = 0;
  const started = performance.now();
  const outcome = await new Promise((resolve) => {
    stylizer.stylize(video).subscribe({
      next: () => frames++,
      error: (error) => resolve({ kind: 'error', error: describeError(error), afterMs: performance.now() - started }),
      complete: () => resolve({ kind: 'complete', afterMs: performance.now() - started }),
    });
    if (stopCameraAfterMs !== undefined) setTimeout(() => stream.getTracks().forEach((track) => track.stop()), stopCameraAfterMs);
    setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
  });
  stream?.getTracks().forEach((track) => track.stop());
  await stylizer.close();
  return { outcome, frames, playError, mediaError: video.error?.code ?? null, events: [...new Set(events)] };
}

/**
 * `count` create → stylize(camera) → close cycles (the long-run check): each runs until
 * `framesEach` frames were shown and one was stylized (or `timeoutMs`), sharing one camera stream.
 */
async function createCloseCycles({ count = 20, framesEach = 5, timeoutMs = 30000, ...options } = {}) {
  state.cycleCamera ??= await sdk.FaceStylizer.openCamera();
  const result = { cycles: 0, unstylized: 0, errors: [] };
  for (let i = 0; i < count; i++) {
    const { stylizer, events } = await createStylizer(options);
    let frames = 0;
    let stylized = 0;
    const subscription = stylizer.stylize(state.cycleCamera).subscribe({
      next: (info) => {
        frames++;
        if (info.faces.length > 0 && info.faces.every((face) => face.stylized)) stylized++;
      },
      error: (error) => result.errors.push(describeError(error)),
    });
    const started = performance.now();
    while ((frames < framesEach || stylized === 0) && performance.now() - started < timeoutMs) await sleep(20);
    if (stylized === 0) result.unstylized++;
    subscription.unsubscribe();
    await stylizer.close();
    result.errors.push(...events.filter((event) => event.startsWith('error')));
    result.cycles++;
  }
  return result;
}

/** Stops the camera the cycles shared. */
function stopCycleCamera() {
  state.cycleCamera?.getTracks().forEach((track) => track.stop());
  state.cycleCamera = undefined;
}

/** create() with `options`: 'resolved' (then closed) or the typed error it rejected with. */
async function tryCreate(options = {}) {
  try {
    const stylizer = await sdk.FaceStylizer.create({ assetBase: ASSET_BASE, executionProviders: ['wasm'], packCache: false, ...options });
    await stylizer.close();
    return 'resolved';
  } catch (error) {
    return describeError(error);
  }
}

window.e2e = { createCloseCycles, stopCycleCamera, sourceSwitch, videoSource, tryCreate, captureFrames, lockstep, compareOutputs, modelParity, deviceLoss, live, packSwitch, packRace, rendererParity, workerCrash, sdk, hasWebGpu: async () => !!(await navigator.gpu?.requestAdapter()) };
window.e2eReady = true;
