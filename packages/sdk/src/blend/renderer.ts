import type { Frame } from '../frames';
import { FULLSCREEN_VERTEX, createProgram, createTexture, uniforms, type GlContext } from '../gpu/gl';
import type { AlignedFace } from '../alignment';
import type { StylizedCrop, StylizedFrame } from '../inference';
import { applyColor } from './color-match';
import { MASK_TEXTURE_SIZE, fillMaskTexels, polygonBounds } from './mask';

/**
 * Puts frames on the output canvas: `upload` the camera frame (once per frame, after tracking),
 * then `render` it with every face's latest stylized crop blended in.
 */
export interface FrameRenderer {
  readonly canvas: HTMLCanvasElement | OffscreenCanvas;
  upload(frame: Frame): void;
  render(frame: StylizedFrame, options: BlendOptions): void;
  dispose(): void;
}

export interface BlendOptions {
  /** 0 = original frame, 1 = fully stylized face. */
  readonly strength: number;
  /** Feather width in crop pixels. */
  readonly feather: number;
}

// Exact copy of the frame: texelFetch, no filtering, so untouched pixels stay bit-identical.
const COPY_FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D u_frame;
uniform int u_height;
out vec4 outColor;
void main() {
  outColor = texelFetch(u_frame, ivec2(int(gl_FragCoord.x), u_height - 1 - int(gl_FragCoord.y)), 0);
}`;

// Covers a rectangle of the crop (where the mask can be non-zero) in the image, with the
// current frame's alignment.
const FACE_VERTEX = `#version 300 es
uniform vec3 u_imageFromCropX;
uniform vec3 u_imageFromCropY;
uniform vec4 u_cropRect;
uniform vec2 u_canvasSize;
void main() {
  vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
  vec2 crop = mix(u_cropRect.xy, u_cropRect.zw, corner);
  vec2 image = vec2(dot(u_imageFromCropX, vec3(crop, 1.0)), dot(u_imageFromCropY, vec3(crop, 1.0)));
  gl_Position = vec4(image.x / u_canvasSize.x * 2.0 - 1.0, 1.0 - image.y / u_canvasSize.y * 2.0, 0.0, 1.0);
}`;

// The mask is sampled where the generator's flow says this output pixel came from, so it
// follows the deformed outline; it fades to 0 at the crop border so the square never shows.
const FACE_FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D u_stylized;
uniform sampler2D u_flow;
uniform sampler2D u_mask;
uniform vec3 u_cropFromImageX;
uniform vec3 u_cropFromImageY;
uniform float u_size;
uniform vec2 u_canvasSize;
uniform float u_feather;
uniform float u_strength;
out vec4 outColor;

void main() {
  vec3 image = vec3(gl_FragCoord.x, u_canvasSize.y - gl_FragCoord.y, 1.0);
  vec2 crop = vec2(dot(u_cropFromImageX, image), dot(u_cropFromImageY, image));
  float border = min(min(crop.x, crop.y), min(u_size - crop.x, u_size - crop.y));
  if (border <= 0.0) discard;
  vec2 uv = crop / u_size;
  vec2 source = texture(u_flow, uv).xy * 0.5 + 0.5;
  float weight = texture(u_mask, source).r * smoothstep(0.0, u_feather, border) * u_strength;
  if (weight <= 0.0) discard;
  outColor = vec4(texture(u_stylized, uv).rgb, weight);
}`;

interface FaceTextures {
  readonly image: WebGLTexture;
  readonly flow: WebGLTexture;
  version: number;
  /** flowReach of the uploaded flow, crop px. */
  flowReach: number;
}

/**
 * Draws each frame into the context's canvas: an exact copy of the camera frame, then every
 * face's latest stylized crop warped in with the CURRENT frame's alignment (so a slower
 * generator never makes the face lag or freeze), weighted by the feathered, flow-deformed mask.
 */
export class BlendRenderer implements FrameRenderer {
  private readonly copyProgram: WebGLProgram;
  private readonly faceProgram: WebGLProgram;
  private readonly copyUniforms;
  private readonly faceUniforms;
  private readonly maskTexture: WebGLTexture;
  private readonly maskTexels = new Uint8Array(MASK_TEXTURE_SIZE * MASK_TEXTURE_SIZE);
  private readonly vertexArray: WebGLVertexArrayObject;
  private readonly faceTextures = new Map<number, FaceTextures>();

  constructor(
    private readonly context: GlContext,
    private readonly range: readonly [number, number],
  ) {
    const gl = context.gl;
    this.copyProgram = createProgram(gl, FULLSCREEN_VERTEX, COPY_FRAGMENT);
    this.faceProgram = createProgram(gl, FACE_VERTEX, FACE_FRAGMENT);
    this.copyUniforms = uniforms(gl, this.copyProgram, ['u_frame', 'u_height']);
    this.faceUniforms = uniforms(gl, this.faceProgram, [
      'u_stylized', 'u_flow', 'u_mask', 'u_imageFromCropX', 'u_imageFromCropY', 'u_cropFromImageX', 'u_cropFromImageY',
      'u_size', 'u_cropRect', 'u_canvasSize', 'u_feather', 'u_strength',
    ]);
    this.maskTexture = createTexture(gl, gl.LINEAR);
    gl.texStorage2D(gl.TEXTURE_2D, 1, gl.R8, MASK_TEXTURE_SIZE, MASK_TEXTURE_SIZE);
    const vertexArray = gl.createVertexArray();
    if (!vertexArray) throw new Error('WebGL: createVertexArray failed');
    this.vertexArray = vertexArray;
  }

  get canvas(): HTMLCanvasElement | OffscreenCanvas {
    return this.context.canvas;
  }

  /** Uploads the frame to the shared frame texture (crop and blend both sample it). */
  upload(frame: Frame): void {
    this.context.frameTexture(frame);
  }

  render(frame: StylizedFrame, options: BlendOptions): void {
    const gl = this.context.gl;
    const canvas = this.context.canvas;
    const { width, height } = frame.frame;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const frameTexture = this.context.frameTexture(frame.frame);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, width, height);
    gl.bindVertexArray(this.vertexArray);

    gl.disable(gl.BLEND);
    gl.useProgram(this.copyProgram);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, frameTexture);
    gl.uniform1i(this.copyUniforms['u_frame'] ?? null, 0);
    gl.uniform1i(this.copyUniforms['u_height'] ?? null, height);
    gl.drawArrays(gl.TRIANGLES, 0, 3);

    this.forgetFacesNotIn(frame.stylized);
    if (options.strength <= 0) return;
    for (const face of frame.faces) {
      const stylized = frame.stylized.get(face.id);
      if (!stylized) continue;
      this.uploadMask(face.ovalInCrop, face.alignment.size, options.feather);
      this.renderFace(face, stylized, options, width, height);
    }
  }

  /**
   * The feathered face-oval mask in (undeformed) crop space, into maskTexture. Computed on
   * the CPU (mask.ts, ~1 ms) rather than in a fragment shader: the 36-edge distance loop with
   * dynamic uniform indexing cost ~11 ms of GPU-process CPU per frame on SwiftShader, and the
   * CPU colour match uses the same function.
   */
  private uploadMask(ovalInCrop: Float32Array, cropSize: number, feather: number): void {
    const gl = this.context.gl;
    fillMaskTexels(this.maskTexels, ovalInCrop, cropSize, feather);
    gl.bindTexture(gl.TEXTURE_2D, this.maskTexture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, MASK_TEXTURE_SIZE, MASK_TEXTURE_SIZE, gl.RED, gl.UNSIGNED_BYTE, this.maskTexels);
  }

  /** Warps one face's stylized crop into the canvas with the current alignment. */
  private renderFace(face: AlignedFace, stylized: StylizedCrop, options: BlendOptions, width: number, height: number): void {
    const gl = this.context.gl;
    const textures = this.texturesFor(stylized);
    const { imageFromCrop, cropFromImage, size } = face.alignment;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, width, height);
    gl.enable(gl.BLEND);
    // Colour: weight·stylized + (1 − weight)·frame; the canvas alpha stays opaque.
    gl.blendFuncSeparate(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA, gl.ZERO, gl.ONE);
    gl.useProgram(this.faceProgram);
    const u = this.faceUniforms;
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, textures.image);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, textures.flow);
    gl.activeTexture(gl.TEXTURE2);
    gl.bindTexture(gl.TEXTURE_2D, this.maskTexture);
    gl.uniform1i(u['u_stylized'] ?? null, 0);
    gl.uniform1i(u['u_flow'] ?? null, 1);
    gl.uniform1i(u['u_mask'] ?? null, 2);
    gl.uniform3f(u['u_imageFromCropX'] ?? null, imageFromCrop[0], imageFromCrop[1], imageFromCrop[2]);
    gl.uniform3f(u['u_imageFromCropY'] ?? null, imageFromCrop[3], imageFromCrop[4], imageFromCrop[5]);
    gl.uniform3f(u['u_cropFromImageX'] ?? null, cropFromImage[0], cropFromImage[1], cropFromImage[2]);
    gl.uniform3f(u['u_cropFromImageY'] ?? null, cropFromImage[3], cropFromImage[4], cropFromImage[5]);
    gl.uniform1f(u['u_size'] ?? null, size);
    // Only where the mask can be non-zero: the oval's box, widened by how far the flow moves
    // any pixel (a pixel further out samples the mask outside the oval, where it is 0).
    const oval = polygonBounds(face.ovalInCrop);
    const margin = textures.flowReach + 1;
    const clampToCrop = (v: number) => Math.min(size, Math.max(0, v));
    gl.uniform4f(u['u_cropRect'] ?? null, clampToCrop(oval.minX - margin), clampToCrop(oval.minY - margin), clampToCrop(oval.maxX + margin), clampToCrop(oval.maxY + margin));
    gl.uniform2f(u['u_canvasSize'] ?? null, width, height);
    gl.uniform1f(u['u_feather'] ?? null, options.feather);
    gl.uniform1f(u['u_strength'] ?? null, Math.min(1, options.strength));
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.disable(gl.BLEND);
    gl.activeTexture(gl.TEXTURE0);
  }

  dispose(): void {
    const gl = this.context.gl;
    this.forgetFacesNotIn(new Map());
    gl.deleteTexture(this.maskTexture);
    gl.deleteProgram(this.copyProgram);
    gl.deleteProgram(this.faceProgram);
    gl.deleteVertexArray(this.vertexArray);
  }

  /** Uploads a face's crop textures when its stylized result changed. */
  private texturesFor(stylized: StylizedCrop): FaceTextures {
    const gl = this.context.gl;
    let textures = this.faceTextures.get(stylized.faceId);
    if (!textures) {
      textures = { image: createTexture(gl, gl.LINEAR), flow: createTexture(gl, gl.LINEAR), version: -1, flowReach: 0 };
      this.faceTextures.set(stylized.faceId, textures);
    }
    if (textures.version !== stylized.version) {
      const { size } = stylized;
      gl.bindTexture(gl.TEXTURE_2D, textures.image);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
      const wide = size * COLOR_TEXELS_PER_CROP_PIXEL;
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, wide, wide, 0, gl.RGBA, gl.UNSIGNED_BYTE, correctedTexels(stylized, this.range));
      gl.bindTexture(gl.TEXTURE_2D, textures.flow);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RG16F, size, size, 0, gl.RG, gl.FLOAT, planarToInterleaved(stylized.flow, 2, 2, size));
      textures.version = stylized.version;
      textures.flowReach = flowReach(stylized.flow, size);
    }
    return textures;
  }

  private forgetFacesNotIn(stylized: ReadonlyMap<number, StylizedCrop>): void {
    for (const [id, textures] of this.faceTextures) {
      if (stylized.has(id)) continue;
      this.context.gl.deleteTexture(textures.image);
      this.context.gl.deleteTexture(textures.flow);
      this.faceTextures.delete(id);
    }
  }
}

/**
 * How many texels per crop pixel the stylized colour texture has: correctedTexels upsamples the
 * crop 2× with Catmull-Rom once per result, and the blend samples that bilinearly. A face is
 * shown 1.5–3× larger than the model renders it, and bilinear magnification alone keeps only
 * ~69 % of the fine-detail energy at 1.7× (measured on a camera frame: downscale, upscale, RMS of
 * luma minus its σ 1.5 blur); bicubic keeps ~80 %. Once per result, not per displayed pixel.
 */
export const COLOR_TEXELS_PER_CROP_PIXEL = 2;

/**
 * The stylized crop as RGBA8 texels, colour-corrected (the seam's ColorTransform), mapped from the
 * model's pixel range to [0, 255] and upsampled 2× (COLOR_TEXELS_PER_CROP_PIXEL: a
 * (2·size)² texture covering the same crop), once per result: the output is 8-bit anyway, and
 * sampling an 8-bit texture instead of a half-float one with per-pixel colour math made the
 * face pass several times cheaper on SwiftShader.
 */
export function correctedTexels(stylized: Pick<StylizedCrop, 'image' | 'size' | 'color'>, range: readonly [number, number]): Uint8ClampedArray {
  const { image, size, color } = stylized;
  const plane = size * size;
  const wide = 2 * size;
  const texels = new Uint8ClampedArray(wide * wide * 4).fill(255); // clamps and rounds on assignment
  const scale = 255 / (range[1] - range[0]);
  const corrected = new Float32Array(plane);
  const rows = new Float32Array(size * wide); // horizontal pass: size rows × 2·size columns
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const value = applyColor(color, c, image[i] as number, image[plane + i] as number, image[2 * plane + i] as number);
      corrected[i] = (value - range[0]) * scale;
    }
    for (let y = 0; y < size; y++) upsampleLine(corrected, y * size, 1, size, rows, y * wide, 1);
    for (let x = 0; x < wide; x++) upsampleLine(rows, x, wide, size, texels, x * 4 + c, wide * 4);
  }
  return texels;
}

// Catmull-Rom weights of the four taps around a 2× output sample: output 2i sits at input
// i − 0.25 (taps i−2..i+1, t = 0.75), output 2i + 1 at i + 0.25 (taps i−1..i+2, t = 0.25).
const catmullRom = (t: number): [number, number, number, number] => [
  (-t * t * t + 2 * t * t - t) / 2,
  (3 * t * t * t - 5 * t * t + 2) / 2,
  (-3 * t * t * t + 4 * t * t + t) / 2,
  (t * t * t - t * t) / 2,
];
const EVEN_TAPS = catmullRom(0.75);
const ODD_TAPS = catmullRom(0.25);

/** One line of n samples (from `src` at `from` + k·`step`) upsampled 2× into `dst` at `to` + j·`dstStep`, edges clamped. */
function upsampleLine(
  src: ArrayLike<number>,
  from: number,
  step: number,
  n: number,
  dst: { [index: number]: number },
  to: number,
  dstStep: number,
): void {
  const at = (k: number) => src[from + (k < 0 ? 0 : k >= n ? n - 1 : k) * step] as number;
  for (let i = 0; i < n; i++) {
    const [e0, e1, e2, e3] = EVEN_TAPS;
    const [o0, o1, o2, o3] = ODD_TAPS;
    const a = at(i - 2);
    const b = at(i - 1);
    const c = at(i);
    const d = at(i + 1);
    const e = at(i + 2);
    dst[to + 2 * i * dstStep] = e0 * a + e1 * b + e2 * c + e3 * d;
    dst[to + (2 * i + 1) * dstStep] = o0 * b + o1 * c + o2 * d + o3 * e;
  }
}

/**
 * How far (crop px, per axis) the generator's flow moves any pixel from where it samples:
 * max |source − position| over the texels of a [2, size, size] flow in [-1, 1]. Bilinear
 * interpolation between texels cannot exceed it (the identity is linear too).
 */
export function flowReach(flow: Float32Array, size: number): number {
  const plane = size * size;
  let reach = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      reach = Math.max(
        reach,
        Math.abs(((flow[i] as number) + 1) * 0.5 * size - (x + 0.5)),
        Math.abs(((flow[plane + i] as number) + 1) * 0.5 * size - (y + 0.5)),
      );
    }
  }
  return reach;
}

/** NCHW planes -> interleaved texels (extra components set to 1, i.e. opaque alpha). */
export function planarToInterleaved(planar: Float32Array, channels: number, components: number, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(plane * components).fill(1);
  for (let c = 0; c < channels; c++) {
    const offset = c * plane;
    for (let i = 0; i < plane; i++) out[i * components + c] = planar[offset + i] as number;
  }
  return out;
}
