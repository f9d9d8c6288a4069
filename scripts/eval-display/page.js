// Browser side of `npm run eval:display` (scripts/eval-display.mjs): the built SDK bundle, fed
// the frames of an MJPEG clip in lockstep through stylize(MediaStreamTrackGenerator) (the
// insertable-streams path, as the e2e harness does), with the metrics of ./metrics.mjs computed
// here so no full frame crosses to Node. Everything the SDK loads comes from /assets/.
import * as sdk from '/sdk/face-stylizer.bundle.js';
import * as M from './metrics.mjs';

const ASSET_BASE = '/assets/';
/** Lockstep frames are written no faster than a 30 fps camera delivers them. */
const FRAME_INTERVAL_MS = 1000 / 30;
/** Margin around the face oval for the per-face sub-image (≥ the Gaussian windows' radius). */
const MARGIN = 8;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const clip = { bytes: undefined, ranges: [], bitmaps: new Map() };
/** Aligned input crops (and their ovals in crop space) kept by `reconstruction` for `checkerboard`. */
let keptCrops = [];
let contractPromise;

const contract = () => (contractPromise ??= fetch(`${ASSET_BASE}models/base/contract.json`).then((r) => r.json()));

function withTimeout(promise, ms, what) {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`timed out after ${ms} ms: ${what}`)))]);
}

function pixelsOf(source, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(source, 0, 0, width, height);
  return context.getImageData(0, 0, width, height).data;
}

function toPng(rgba, width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  return canvas.toDataURL('image/png');
}

/** Loads an MJPEG clip (concatenated JPEGs); frames are decoded when first used. */
async function loadClip({ url }) {
  clip.bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  clip.ranges = M.splitJpegs(clip.bytes);
  clip.bitmaps.clear();
  keptCrops = [];
  const first = await frame(0);
  return { frames: clip.ranges.length, width: first.width, height: first.height };
}

async function frame(index) {
  const i = Math.min(index, clip.ranges.length - 1);
  if (!clip.bitmaps.has(i)) {
    const [start, end] = clip.ranges[i];
    clip.bitmaps.set(i, await createImageBitmap(new Blob([clip.bytes.subarray(start, end)], { type: 'image/jpeg' })));
  }
  return clip.bitmaps.get(i);
}

/** A stylizer fed frame by frame: `step(bitmap)` writes one frame and resolves with its FrameInfo. */
async function openRun(options) {
  const stylizer = await sdk.FaceStylizer.create({ assetBase: ASSET_BASE, executionProviders: ['wasm'], packCache: false, ...options });
  const events = [];
  stylizer.events$.subscribe((event) =>
    events.push(event.type === 'state' ? `state:${event.state}` : event.type === 'warning' ? `warning:${event.warning.code}` : `error:${event.error?.code ?? event.error}`),
  );
  const generator = new MediaStreamTrackGenerator({ kind: 'video' });
  const writer = generator.writable.getWriter();
  let pending;
  const subscription = stylizer.stylize(generator).subscribe({
    next: (info) => pending?.resolve(info),
    error: (error) => pending?.reject(error),
  });
  let timestamp = 0;
  let lastWrite = 0;
  return {
    stylizer,
    events,
    async step(bitmap) {
      // Paced like a 30 fps camera (tracking and inference run in workers at their own pace).
      await sleep(Math.max(0, lastWrite + FRAME_INTERVAL_MS - performance.now()));
      lastWrite = performance.now();
      const emitted = new Promise((resolve, reject) => (pending = { resolve, reject }));
      timestamp += 33333;
      await writer.write(new VideoFrame(bitmap, { timestamp }));
      return withTimeout(emitted, 30000, 'frame through the pipeline');
    },
    // The output canvas keeps the last frame until the next one is written.
    read: (bitmap) => pixelsOf(stylizer.canvas, bitmap.width, bitmap.height),
    async close() {
      subscription.unsubscribe();
      generator.stop();
      await stylizer.close();
    },
  };
}

/** The face the metrics use: the one with the largest oval (the clips have one face). */
function mainFace(info) {
  let best;
  let bestArea = -1;
  for (const face of info.faces) {
    const box = M.boundingBox(M.ovalOf(face.landmarks), info.width, info.height);
    if (box.width * box.height > bestArea) [best, bestArea] = [face, box.width * box.height];
  }
  return best;
}

/** Sub-images of the face: the oval's box + MARGIN, the core mask in it. */
function faceRegion(face, width, height) {
  const oval = M.ovalOf(face.landmarks);
  const core = M.shrinkPolygon(oval);
  const box = M.boundingBox(oval, width, height, MARGIN);
  const mask = M.polygonMask(core.map(([x, y]) => [x - box.x, y - box.y]), box.width, box.height);
  return { oval, core, box, mask };
}

/** The runtime's crop transform for these landmarks (the SDK's own alignFace and contract crop). */
function alignmentOf(face, crop) {
  let aligned = sdk.alignFace(face, crop);
  // Before the contract's crop spec (SDK of contract v1): alignFace(face, size).
  if (!aligned[0] || !Number.isFinite(aligned[0].alignment.cropFromImage[0])) aligned = sdk.alignFace(face, crop.size);
  return aligned[0]?.alignment;
}

/**
 * Base reconstruction: each sampled frame is repeated until its face is stylized and `settle`
 * more frames went through (a stylized result of this very frame, tracking settled), then the
 * output canvas is compared with the input over the face core.
 */
async function reconstruction({ indices, pack, exaggeration = 0, settle = 20, maxSteps = 400, pngIndices = [], keepCrops = true, options = {} }) {
  const run = await openRun({ ...(pack ? { pack } : {}), exaggeration, ...options });
  const spec = await contract();
  const totals = { se: 0, seCount: 0, ssim: 0, ssimCount: 0, detailOut: 0, detailIn: 0, detailCount: 0 };
  const samples = [];
  const pngs = {};
  try {
    let blank;
    for (const index of indices) {
      const bitmap = await frame(index);
      let info;
      let steps = 0;
      if (index !== indices[0]) {
        // A face-less frame until the track is lost: the sampled frame's face then gets a new id,
        // so "stylized" can only mean a result computed from this very frame (not a stale crop
        // of the previous sample warped onto new landmarks).
        blank ??= await createImageBitmap(new ImageData(bitmap.width, bitmap.height));
        for (let empty = 0, k = 0; empty < 3 && k < 120; k++) empty = (await run.step(blank)).faces.length === 0 ? empty + 1 : 0;
      }
      let sinceStylized = -1;
      while (steps < maxSteps) {
        info = await run.step(bitmap);
        steps++;
        const face = mainFace(info);
        if (face?.stylized) sinceStylized++;
        if (sinceStylized >= settle) break;
      }
      const face = mainFace(info);
      if (!face?.stylized) {
        samples.push({ index, steps, face: !!face, stylized: false });
        continue;
      }
      const { width, height } = bitmap;
      const output = run.read(bitmap);
      const input = pixelsOf(bitmap, width, height);
      const { oval, box, mask } = faceRegion(face, width, height);
      const inRgba = M.cropRgba(input, width, box);
      const outRgba = M.cropRgba(output, width, box);
      const inY = M.luma(inRgba, box.width, box.height);
      const outY = M.luma(outRgba, box.width, box.height);
      const se = M.squaredErrorRgb(outRgba, inRgba, mask);
      const ss = M.ssimSum(outY, inY, box.width, box.height, mask);
      const dOut = M.detailEnergy(outY, box.width, box.height, mask);
      const dIn = M.detailEnergy(inY, box.width, box.height, mask);
      totals.se += se.sum;
      totals.seCount += se.count;
      totals.ssim += ss.sum;
      totals.ssimCount += ss.count;
      totals.detailOut += dOut.sum;
      totals.detailIn += dIn.sum;
      totals.detailCount += dIn.count;
      const alignment = alignmentOf(face, spec.crop);
      const coverage = alignment ? M.ovalCoverage(oval, alignment.cropFromImage) : undefined;
      samples.push({
        index,
        steps,
        face: true,
        stylized: true,
        corePixels: ss.count,
        psnr: M.psnrFromMse(se.sum / se.count),
        ssim: ss.sum / ss.count,
        detailRatio: Math.sqrt(dOut.sum / dIn.sum),
        coverage,
        cropFromImage: alignment?.cropFromImage,
      });
      if (pngIndices.includes(index)) {
        // Input | output, the oval's box at display resolution (no scaling).
        const side = new Uint8ClampedArray(box.width * 2 * box.height * 4);
        for (let y = 0; y < box.height; y++) {
          side.set(inRgba.subarray(y * box.width * 4, (y + 1) * box.width * 4), y * box.width * 8);
          side.set(outRgba.subarray(y * box.width * 4, (y + 1) * box.width * 4), y * box.width * 8 + box.width * 4);
        }
        pngs[index] = toPng(side, box.width * 2, box.height);
      }
      if (keepCrops && alignment) {
        const videoFrame = new VideoFrame(bitmap, { timestamp: 0 });
        try {
          const crop = await sdk.cropVideoFrame({ frame: videoFrame, imageFromCrop: alignment.imageFromCrop, width, height }, spec.crop.size, spec.pixel.range);
          const [a, b, c, d, e, f] = alignment.cropFromImage;
          keptCrops.push({ index, crop, ovalInCrop: oval.map(([x, y]) => [a * x + b * y + c, d * x + e * y + f]) });
        } finally {
          videoFrame.close();
        }
      }
    }
  } finally {
    await run.close();
  }
  const mse = totals.se / Math.max(1, totals.seCount);
  return {
    samples,
    pngs,
    events: [...new Set(run.events)],
    psnr: totals.seCount ? M.psnrFromMse(mse) : null,
    ssim: totals.ssimCount ? totals.ssim / totals.ssimCount : null,
    detailRatio: totals.detailIn ? Math.sqrt(totals.detailOut / totals.detailIn) : null,
    detailRmsIn: totals.detailCount ? Math.sqrt(totals.detailIn / totals.detailCount) : null,
    detailRmsOut: totals.detailCount ? Math.sqrt(totals.detailOut / totals.detailCount) : null,
  };
}

/**
 * Flicker: frame `start` repeated until stylized (+ `settle`), then `count` consecutive frames in
 * lockstep at camera pace; the mean absolute frame-to-frame change over each frame's face core,
 * output ÷ input.
 */
async function flicker({ start = 0, count = 60, pack, settle = 10, maxSteps = 400, options = {}, trace = false }) {
  const run = await openRun({ ...(pack ? { pack } : {}), ...options });
  let sumOut = 0;
  let sumIn = 0;
  let pixels = 0;
  // the pictures' own contrast over the same core (gradientEnergy), output and input
  let gradientOut = 0;
  let gradientIn = 0;
  let stylizedFrames = 0;
  let faceFrames = 0;
  // colour step across the face's outline (seamChromaStep), summed over the stylized frames
  const seam = { out: 0, in: 0, lumaOut: 0, lumaIn: 0, points: 0, frames: 0 };
  // mean luminosity of the face core, output minus input (the style's brightness on screen), over the stylized frames
  const tone = { sum: 0, pixels: 0 };
  let previous;
  // trace: per frame the mean change in and out, and the face box (input | output) as a PNG
  const perFrame = [];
  let steps = 0;
  try {
    const first = await frame(start);
    let sinceStylized = -1;
    while (steps < maxSteps && sinceStylized < settle) {
      const face = mainFace(await run.step(first));
      steps++;
      if (face?.stylized) sinceStylized++;
    }
    for (let t = 0; t < count; t++) {
      const bitmap = await frame(start + t);
      const info = await run.step(bitmap);
      const { width, height } = bitmap;
      const current = { input: pixelsOf(bitmap, width, height), output: run.read(bitmap) };
      const face = mainFace(info);
      if (face) faceFrames++;
      if (face?.stylized) stylizedFrames++;
      if (face?.stylized) {
        const step = M.seamChromaStep(current.output, current.input, width, height, M.ovalOf(face.landmarks));
        if (step) {
          seam.out += step.output;
          seam.in += step.camera;
          seam.lumaOut += step.outputLuma;
          seam.lumaIn += step.cameraLuma;
          seam.points += step.points;
          seam.frames++;
        }
      }
      if (face && previous) {
        const { box, mask } = faceRegion(face, width, height);
        const [inNow, outNow] = [M.cropRgba(current.input, width, box), M.cropRgba(current.output, width, box)];
        const dOut = M.absDiffRgb(outNow, M.cropRgba(previous.output, width, box), mask);
        const dIn = M.absDiffRgb(inNow, M.cropRgba(previous.input, width, box), mask);
        sumOut += dOut.sum;
        sumIn += dIn.sum;
        pixels += dIn.count;
        gradientOut += M.gradientEnergy(outNow, box.width, box.height, mask).sum;
        gradientIn += M.gradientEnergy(inNow, box.width, box.height, mask).sum;
        if (face.stylized) {
          const shift = M.lumaShift(outNow, inNow, mask);
          tone.sum += shift.sum;
          tone.pixels += shift.count;
        }
        if (trace) {
          const pair = new Uint8ClampedArray(box.width * 2 * box.height * 4);
          for (let y = 0; y < box.height; y++) {
            pair.set(inNow.subarray(y * box.width * 4, (y + 1) * box.width * 4), y * box.width * 8);
            pair.set(outNow.subarray(y * box.width * 4, (y + 1) * box.width * 4), y * box.width * 8 + box.width * 4);
          }
          perFrame.push({ t, changeIn: dIn.sum / dIn.count, changeOut: dOut.sum / dOut.count, png: toPng(pair, box.width * 2, box.height) });
        }
      }
      previous = current;
    }
  } finally {
    await run.close();
  }
  return {
    frames: count,
    warmupSteps: steps,
    faceFrames,
    stylizedFrames,
    meanChangeOut: pixels ? sumOut / pixels : null,
    meanChangeIn: pixels ? sumIn / pixels : null,
    flickerRatio: sumIn ? sumOut / sumIn : null,
    contrastRatio: gradientIn ? gradientOut / gradientIn : null,
    seamStepOut: seam.frames ? seam.out / seam.frames : null,
    seamStepIn: seam.frames ? seam.in / seam.frames : null,
    seamPoints: seam.frames ? seam.points / seam.frames : null,
    seamLumaStepOut: seam.frames ? seam.lumaOut / seam.frames : null,
    seamLumaStepIn: seam.frames ? seam.lumaIn / seam.frames : null,
    faceLumaShift: tone.pixels ? tone.sum / tone.pixels : null,
    events: [...new Set(run.events)],
    ...(trace ? { perFrame } : {}),
  };
}

/**
 * Checkerboard score in crop space, on the generator's own 128² grid: the crops kept by
 * `reconstruction` through the base encoder, then each generator (`{id, url, alpha}`; url of the
 * generator.onnx); the kernel's RMS on the output's luma ÷ on the input crop's, over the face
 * oval in the crop and over the whole crop.
 */
async function checkerboard({ generators }) {
  const spec = await contract();
  const size = spec.crop.size;
  const crops = keptCrops;
  if (!crops.length) return { crops: 0, generators: {} };
  const backend = sdk.createOrtBackend({ wasmBaseUrl: `${ASSET_BASE}ort/` }, sdk.ALL_ORT_BUILDS);
  const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  const encoder = await backend.createSession(await bytes(`${ASSET_BASE}models/base/${spec.encoder.file}`), 'wasm', { outputsOnGpu: [] });
  const encoded = [];
  for (const { crop, ovalInCrop } of crops) {
    const out = await encoder.run({ image: backend.tensor('wasm', crop, [1, 3, size, size]) });
    const entry = { ovalMask: M.polygonMask(ovalInCrop, size, size), inputLuma: M.tensorLuma(crop, size, spec.pixel.range) };
    for (const [name, tensor] of Object.entries(out)) {
      entry[name] = { data: new Float32Array(await tensor.getData()), dims: tensor.dims };
      tensor.dispose();
    }
    encoded.push(entry);
  }
  await encoder.release();
  const inputOval = { sum: 0, count: 0 };
  const inputWhole = { sum: 0, count: 0 };
  for (const entry of encoded) {
    const o = M.checkerEnergy(entry.inputLuma, size, size, entry.ovalMask);
    const w = M.checkerEnergy(entry.inputLuma, size, size);
    inputOval.sum += o.sum;
    inputOval.count += o.count;
    inputWhole.sum += w.sum;
    inputWhole.count += w.count;
  }
  const rms = (e) => Math.sqrt(e.sum / Math.max(1, e.count));
  const results = {};
  for (const { id, url, alpha } of generators) {
    const generator = await backend.createSession(await bytes(url), 'wasm', { outputsOnGpu: [] });
    const oval = { sum: 0, count: 0 };
    const whole = { sum: 0, count: 0 };
    for (const entry of encoded) {
      const feeds = {
        w_plus: backend.tensor('wasm', entry.w_plus.data, entry.w_plus.dims),
        features: backend.tensor('wasm', entry.features.data, entry.features.dims),
        alpha: backend.tensor('wasm', new Float32Array([alpha]), [1]),
      };
      const out = await generator.run(feeds);
      const image = new Float32Array(await out.image.getData());
      for (const tensor of Object.values(out)) tensor.dispose();
      const y = M.tensorLuma(image, size, spec.pixel.range);
      const o = M.checkerEnergy(y, size, size, entry.ovalMask);
      const w = M.checkerEnergy(y, size, size);
      oval.sum += o.sum;
      oval.count += o.count;
      whole.sum += w.sum;
      whole.count += w.count;
    }
    await generator.release();
    results[id] = { alpha, oval: rms(oval) / rms(inputOval), whole: rms(whole) / rms(inputWhole), rmsOval: rms(oval) };
  }
  return { crops: crops.length, cropSize: size, alignment: spec.crop.alignment, inputRmsOval: rms(inputOval), inputRmsWhole: rms(inputWhole), generators: results };
}

/**
 * Draws `parts` (each an image and its source rectangle [x, y, w, h]) left to right at `height`
 * px, `gap` px apart, on white; returns a PNG data URL.
 */
function drawRow(parts, height, gap) {
  const widths = parts.map(({ rect }) => Math.round((rect[2] * height) / rect[3]));
  const canvas = document.createElement('canvas');
  canvas.width = widths.reduce((a, b) => a + b, 0) + gap * Math.max(0, parts.length - 1);
  canvas.height = height;
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.imageSmoothingQuality = 'high';
  let x = 0;
  parts.forEach(({ image, rect }, k) => {
    context.drawImage(image, ...rect, x, 0, widths[k], height);
    x += widths[k] + gap;
  });
  return canvas.toDataURL('image/png');
}

const bitmapOf = async (url) => createImageBitmap(await (await fetch(url)).blob());

/**
 * The gallery (scripts/gallery.mjs): the sampled frames' face boxes through `pack` at
 * `exaggeration`, as two strips (before, after) of faces scaled to `height` px, side by side;
 * `options` go to FaceStylizer.create (e.g. colorMatch).
 */
async function galleryStrips({ indices, pack, exaggeration, height = 160, gap = 4, options = {} }) {
  const run = await reconstruction({ indices, pack, exaggeration, settle: 12, pngIndices: indices, keepCrops: false, options });
  // each PNG is input | output, side by side
  const pairs = await Promise.all(indices.filter((i) => run.pngs[i]).map((i) => bitmapOf(run.pngs[i])));
  const half = (k) => pairs.map((image) => ({ image, rect: [(k * image.width) / 2, 0, image.width / 2, image.height] }));
  return { faces: pairs.length, before: drawRow(half(0), height, gap), after: drawRow(half(1), height, gap) };
}

/** Images (data or same-origin URLs) joined left to right at `height` px, `gap` px apart; a PNG data URL. */
async function joinImages({ urls, height = 160, gap = 8 }) {
  const images = await Promise.all(urls.map(bitmapOf));
  return drawRow(images.map((image) => ({ image, rect: [0, 0, image.width, image.height] })), height, gap);
}

window.evalDisplay = { loadClip, reconstruction, flicker, checkerboard, galleryStrips, joinImages };
window.evalReady = true;
