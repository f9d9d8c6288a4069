import type { Frame } from '../frames';
import { FULLSCREEN_VERTEX, createProgram, createTexture, uniforms, type GlContext } from '../gpu/gl';
import type { AlignedFace } from '../alignment';
import type { StylizedCrop, StylizedFrame } from '../inference';
import { addSeamField, applyColor } from './color-match';
import { GRADE_GLSL, gradeColorBytes, scaledGrade, toneChanges, toneOf, type FrameGrade } from './grade';
import { DETAIL_MAX_GAIN, detailGain, detailLevel, detailRegion, displayPerCropPixel } from './detail';
import { MASK_TEXTURE_SIZE, blendCropRect, fillMaskTexels, imageBounds } from './mask';

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
  /** 0 = off, 1 = the camera's fine detail at the style's own gain (detail.ts). */
  readonly detail: number;
  /** The pack's colour world over the whole frame (grade.ts), already scaled; none = the camera's colours. */
  readonly grade?: FrameGrade | undefined;
}

// Copy of the frame through the pack's grade (grade.ts; colour, opacity in u_grade, tone gain,
// offset in u_tone): texelFetch, no filtering, so without a grade untouched pixels stay bit-identical.
const COPY_FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D u_frame;
uniform int u_height;
uniform vec4 u_grade;
uniform vec2 u_tone;
uniform bool u_graded;
out vec4 outColor;
${GRADE_GLSL}
void main() {
  vec4 texel = texelFetch(u_frame, ivec2(int(gl_FragCoord.x), u_height - 1 - int(gl_FragCoord.y)), 0);
  outColor = u_graded ? vec4(grade(texel.rgb, u_grade, u_tone), texel.a) : texel;
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
// Camera detail (detail.ts): the frame region under the face with its mip levels (its origin and
// size in frame px), the level of the low-pass, amount.
uniform sampler2D u_detailRegion;
uniform vec4 u_detailRect;
uniform vec3 u_imageFromCropX;
uniform vec3 u_imageFromCropY;
uniform float u_detailLevel;
uniform float u_detail;
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
  vec4 texel = texture(u_stylized, uv);
  vec3 color = texel.rgb;
  if (u_detail > 0.0 && texel.a > 0.0) {
    // The frame's luma detail where the flow says this pixel came from, at the gain in alpha.
    vec3 sourceCrop = vec3(source * u_size, 1.0);
    vec2 framePx = vec2(dot(u_imageFromCropX, sourceCrop), dot(u_imageFromCropY, sourceCrop));
    vec2 regionUv = (framePx - u_detailRect.xy) / u_detailRect.zw;
    const vec3 LUMA = vec3(0.299, 0.587, 0.114);
    float fine = dot(textureLod(u_detailRegion, regionUv, 0.0).rgb, LUMA);
    float low = dot(textureLod(u_detailRegion, regionUv, u_detailLevel).rgb, LUMA);
    color += texel.a * ${DETAIL_MAX_GAIN.toFixed(1)} * u_detail * (fine - low);
  }
  outColor = vec4(clamp(color, 0.0, 1.0), weight);
}`;

interface FaceTextures {
  readonly image: WebGLTexture;
  readonly flow: WebGLTexture;
  version: number;
  /** Whether the image's alpha carries the detail gain (computed only while detail is on). */
  withGain: boolean;
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
  /** Trilinear sampling of the detail region's mip levels. */
  private readonly mipmapSampler: WebGLSampler;
  /** The frame region under the face being drawn, with mip levels (detail.ts detailRegion). */
  private readonly detailTexture: WebGLTexture;
  private detailTextureSize: readonly [number, number] = [0, 0];
  /** Reads the frame texture for the region copy. */
  private readonly frameReader: WebGLFramebuffer;

  constructor(
    private readonly context: GlContext,
    private readonly range: readonly [number, number],
  ) {
    const gl = context.gl;
    this.copyProgram = createProgram(gl, FULLSCREEN_VERTEX, COPY_FRAGMENT);
    this.faceProgram = createProgram(gl, FACE_VERTEX, FACE_FRAGMENT);
    this.copyUniforms = uniforms(gl, this.copyProgram, ['u_frame', 'u_height', 'u_grade', 'u_tone', 'u_graded']);
    this.faceUniforms = uniforms(gl, this.faceProgram, [
      'u_stylized', 'u_flow', 'u_mask', 'u_imageFromCropX', 'u_imageFromCropY', 'u_cropFromImageX', 'u_cropFromImageY',
      'u_size', 'u_cropRect', 'u_canvasSize', 'u_feather', 'u_strength', 'u_detailRegion', 'u_detailRect', 'u_detailLevel', 'u_detail',
    ]);
    const sampler = gl.createSampler();
    if (!sampler) throw new Error('WebGL: createSampler failed');
    gl.samplerParameteri(sampler, gl.TEXTURE_MIN_FILTER, gl.LINEAR_MIPMAP_LINEAR);
    gl.samplerParameteri(sampler, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.samplerParameteri(sampler, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.samplerParameteri(sampler, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    this.mipmapSampler = sampler;
    this.detailTexture = createTexture(gl, gl.LINEAR);
    const reader = gl.createFramebuffer();
    if (!reader) throw new Error('WebGL: createFramebuffer failed');
    this.frameReader = reader;
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
    const grade = scaledGrade(options.grade, options.strength);
    const [r, g, b] = grade ? gradeColorBytes(grade) : [0, 0, 0];
    const tone = toneOf(grade);
    gl.uniform4f(this.copyUniforms['u_grade'] ?? null, r / 255, g / 255, b / 255, grade?.opacity ?? 0);
    gl.uniform2f(this.copyUniforms['u_tone'] ?? null, tone.gain, tone.offset);
    gl.uniform1i(this.copyUniforms['u_graded'] ?? null, grade && (grade.opacity > 0 || toneChanges(tone)) ? 1 : 0);
    gl.drawArrays(gl.TRIANGLES, 0, 3);

    this.forgetFacesNotIn(frame.stylized);
    if (options.strength <= 0) return;
    for (const face of frame.faces) {
      const stylized = frame.stylized.get(face.id);
      if (!stylized) continue;
      this.uploadMask(face.ovalInCrop, face.alignment.size, options.feather);
      this.renderFace(face, stylized, options, tone.gain, frame.frame, width, height);
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
  private renderFace(face: AlignedFace, stylized: StylizedCrop, options: BlendOptions, toneGain: number, cameraFrame: Frame, width: number, height: number): void {
    const gl = this.context.gl;
    const { imageFromCrop, cropFromImage, size } = face.alignment;
    const textures = this.texturesFor(stylized, options.detail > 0);
    const cropRect = blendCropRect(face.ovalInCrop, textures.flowReach, size);
    const level = detailLevel(displayPerCropPixel(cropFromImage));
    const region = options.detail > 0 ? detailRegion(imageBounds(imageFromCrop, cropRect), level, width, height) : undefined;
    // The camera's detail comes from the raw frame: scaled by the tone's gain, as the toned frame around it is.
    const detail = region ? options.detail * toneGain : 0;
    if (region) this.buildDetailRegion(this.context.frameTexture(cameraFrame), region);
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
    gl.activeTexture(gl.TEXTURE3);
    gl.bindTexture(gl.TEXTURE_2D, this.detailTexture);
    gl.bindSampler(3, this.mipmapSampler);
    gl.uniform1i(u['u_detailRegion'] ?? null, 3);
    gl.uniform4f(u['u_detailRect'] ?? null, region?.x ?? 0, region?.y ?? 0, region?.width ?? 1, region?.height ?? 1);
    gl.uniform1f(u['u_detailLevel'] ?? null, level);
    gl.uniform1f(u['u_detail'] ?? null, detail);
    gl.uniform3f(u['u_imageFromCropX'] ?? null, imageFromCrop[0], imageFromCrop[1], imageFromCrop[2]);
    gl.uniform3f(u['u_imageFromCropY'] ?? null, imageFromCrop[3], imageFromCrop[4], imageFromCrop[5]);
    gl.uniform3f(u['u_cropFromImageX'] ?? null, cropFromImage[0], cropFromImage[1], cropFromImage[2]);
    gl.uniform3f(u['u_cropFromImageY'] ?? null, cropFromImage[3], cropFromImage[4], cropFromImage[5]);
    gl.uniform1f(u['u_size'] ?? null, size);
    // Only where the mask can be non-zero (blendCropRect).
    gl.uniform4f(u['u_cropRect'] ?? null, ...cropRect);
    gl.uniform2f(u['u_canvasSize'] ?? null, width, height);
    gl.uniform1f(u['u_feather'] ?? null, options.feather);
    gl.uniform1f(u['u_strength'] ?? null, Math.min(1, options.strength));
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.disable(gl.BLEND);
    gl.bindSampler(3, null);
    gl.activeTexture(gl.TEXTURE0);
  }

  dispose(): void {
    const gl = this.context.gl;
    this.forgetFacesNotIn(new Map());
    gl.deleteTexture(this.maskTexture);
    gl.deleteSampler(this.mipmapSampler);
    gl.deleteTexture(this.detailTexture);
    gl.deleteFramebuffer(this.frameReader);
    gl.deleteProgram(this.copyProgram);
    gl.deleteProgram(this.faceProgram);
    gl.deleteVertexArray(this.vertexArray);
  }

  /**
   * Copies the frame region under a face into detailTexture and builds its mip levels (the
   * camera detail's box pyramid; the region's origin and size are whole cells of its coarsest
   * level, so the levels are the frame's own).
   */
  private buildDetailRegion(frameTexture: WebGLTexture, region: { x: number; y: number; width: number; height: number }): void {
    const gl = this.context.gl;
    gl.bindFramebuffer(gl.READ_FRAMEBUFFER, this.frameReader);
    gl.framebufferTexture2D(gl.READ_FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, frameTexture, 0);
    gl.activeTexture(gl.TEXTURE3);
    gl.bindTexture(gl.TEXTURE_2D, this.detailTexture);
    if (this.detailTextureSize[0] !== region.width || this.detailTextureSize[1] !== region.height) {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, region.width, region.height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
      this.detailTextureSize = [region.width, region.height];
    }
    // The frame texture's row 0 is the image's top row, and so is the region's.
    gl.copyTexSubImage2D(gl.TEXTURE_2D, 0, 0, 0, region.x, region.y, region.width, region.height);
    gl.generateMipmap(gl.TEXTURE_2D);
    gl.bindFramebuffer(gl.READ_FRAMEBUFFER, null);
  }

  /** Uploads a face's crop textures when its stylized result changed. */
  private texturesFor(stylized: StylizedCrop, withGain: boolean): FaceTextures {
    const gl = this.context.gl;
    let textures = this.faceTextures.get(stylized.faceId);
    if (!textures) {
      textures = { image: createTexture(gl, gl.LINEAR), flow: createTexture(gl, gl.LINEAR), version: -1, withGain: false, flowReach: 0 };
      this.faceTextures.set(stylized.faceId, textures);
    }
    if (textures.version !== stylized.version || textures.withGain !== withGain) {
      const { size } = stylized;
      gl.bindTexture(gl.TEXTURE_2D, textures.image);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
      const wide = size * COLOR_TEXELS_PER_CROP_PIXEL;
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, wide, wide, 0, gl.RGBA, gl.UNSIGNED_BYTE, correctedTexels(stylized, this.range, withGain));
      gl.bindTexture(gl.TEXTURE_2D, textures.flow);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RG16F, size, size, 0, gl.RG, gl.FLOAT, planarToInterleaved(stylized.flow, 2, 2, size));
      textures.version = stylized.version;
      textures.withGain = withGain;
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
 * face pass several times cheaper on SwiftShader. Alpha carries the camera-detail gain
 * (detail.ts) as gain / DETAIL_MAX_GAIN; 0 without `withGain` or an input crop to compare with.
 */
export function correctedTexels(
  stylized: Pick<StylizedCrop, 'image' | 'size' | 'color'> & { readonly input?: Float32Array; readonly flow?: Float32Array },
  range: readonly [number, number],
  withGain = true,
): Uint8ClampedArray {
  const { image, size, color } = stylized;
  const plane = size * size;
  const wide = 2 * size;
  const texels = new Uint8ClampedArray(wide * wide * 4); // clamps and rounds on assignment
  const scale = 255 / (range[1] - range[0]);
  const corrected = new Float32Array(3 * plane); // in the model's range
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      corrected[c * plane + i] = applyColor(color, c, image[i] as number, image[plane + i] as number, image[2 * plane + i] as number);
    }
  }
  if (color.field) addSeamField(color.field, corrected, size);
  const rows = new Float32Array(size * wide); // horizontal pass: size rows × 2·size columns
  const channel = new Float32Array(plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) channel[i] = ((corrected[c * plane + i] as number) - range[0]) * scale;
    upsample2x(channel, size, rows, texels, c);
  }
  if (withGain && stylized.input && stylized.flow) {
    const gain = detailGain(stylized.input, corrected, stylized.flow, size, range);
    for (let i = 0; i < plane; i++) channel[i] = ((gain[i] as number) * 255) / DETAIL_MAX_GAIN;
    upsample2x(channel, size, rows, texels, 3);
  }
  return texels;
}

/**
 * A size² plane upsampled 2× (Catmull-Rom) into channel `c` of (2·size)² RGBA texels. Both
 * passes write Float32Arrays (one element type per call site keeps them monomorphic: writing
 * the Uint8ClampedArray from the same function made the whole conversion ~3× slower).
 */
function upsample2x(channel: Float32Array, size: number, rows: Float32Array, texels: Uint8ClampedArray, c: number): void {
  const wide = 2 * size;
  const upsampled = new Float32Array(wide * wide);
  for (let y = 0; y < size; y++) upsampleLine(channel, y * size, 1, size, rows, y * wide, 1);
  for (let x = 0; x < wide; x++) upsampleLine(rows, x, wide, size, upsampled, x, wide);
  for (let i = 0; i < upsampled.length; i++) texels[4 * i + c] = upsampled[i] as number;
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
function upsampleLine(src: Float32Array, from: number, step: number, n: number, dst: Float32Array, to: number, dstStep: number): void {
  // The line with two clamped samples either side, so the taps need no bounds checks.
  const padded = paddedLine.length >= n + 4 ? paddedLine : (paddedLine = new Float32Array(n + 4));
  for (let k = 0; k < n; k++) padded[k + 2] = src[from + k * step] as number;
  padded[0] = padded[1] = padded[2] as number;
  padded[n + 3] = padded[n + 2] = padded[n + 1] as number;
  const [e0, e1, e2, e3] = EVEN_TAPS;
  const [o0, o1, o2, o3] = ODD_TAPS;
  for (let i = 0; i < n; i++) {
    const a = padded[i] as number; // sample i − 2
    const b = padded[i + 1] as number;
    const c = padded[i + 2] as number;
    const d = padded[i + 3] as number;
    const e = padded[i + 4] as number;
    dst[to + 2 * i * dstStep] = e0 * a + e1 * b + e2 * c + e3 * d;
    dst[to + (2 * i + 1) * dstStep] = o0 * b + o1 * c + o2 * d + o3 * e;
  }
}
let paddedLine = new Float32Array(0);

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
