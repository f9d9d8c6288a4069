import { FaceStylizerError } from '../errors';
import { isScaledVideoFrame, type Frame } from '../frames';

/**
 * The one WebGL2 context shared by alignment (crop warp) and blend (composite): the camera
 * frame is uploaded to a texture once per frame and both stages sample it there, so frame
 * pixels never round-trip through the CPU. The context's canvas is the output canvas.
 */
export class GlContext {
  readonly gl: WebGL2RenderingContext;
  /** Float render targets allow the crop pass to write the model's float tensor directly. */
  readonly floatTargets: boolean;
  private readonly frameTex: WebGLTexture;
  private uploadedFrame: Frame | undefined;
  private scaler: OffscreenCanvasRenderingContext2D | undefined;

  constructor(readonly canvas: HTMLCanvasElement | OffscreenCanvas) {
    const gl = canvas.getContext('webgl2', {
      alpha: false,
      antialias: false,
      depth: false,
      premultipliedAlpha: false,
      // Output frames are read back by captureStream / new VideoFrame(canvas) after the task ends.
      preserveDrawingBuffer: true,
    }) as WebGL2RenderingContext | null;
    if (!gl) throw new FaceStylizerError('webgl2-unavailable', 'WebGL2 is required to composite the stylized face.');
    this.gl = gl;
    this.floatTargets = gl.getExtension('EXT_color_buffer_float') !== null;
    this.frameTex = createTexture(gl, gl.LINEAR, gl.MIRRORED_REPEAT);
  }

  /** The frame as a texture (row 0 = top of the image); uploads at most once per frame. */
  frameTexture(frame: Frame): WebGLTexture {
    const gl = this.gl;
    if (this.uploadedFrame !== frame) {
      gl.bindTexture(gl.TEXTURE_2D, this.frameTex);
      gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
      gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, this.displayed(frame));
      this.uploadedFrame = frame;
    }
    return this.frameTex;
  }

  dispose(): void {
    this.gl.deleteTexture(this.frameTex);
    this.uploadedFrame = undefined;
    this.scaler = undefined;
  }

  /**
   * What to upload: the frame itself, or, for a crop-and-scale VideoFrame (visible rect shown at
   * another size), its picture drawn at the display size. texImage2D uploads the visible rect at
   * its own size, and the passes address the texture in display pixels (texelFetch).
   */
  private displayed(frame: Frame): TexImageSource {
    const { image } = frame;
    if (!(typeof VideoFrame === 'function' && image instanceof VideoFrame && isScaledVideoFrame(image))) return image;
    if (!this.scaler || this.scaler.canvas.width !== frame.width || this.scaler.canvas.height !== frame.height) {
      this.scaler = new OffscreenCanvas(frame.width, frame.height).getContext('2d') ?? undefined;
    }
    if (!this.scaler) return image;
    this.scaler.drawImage(image, 0, 0, frame.width, frame.height);
    return this.scaler.canvas;
  }
}

export function createTexture(gl: WebGL2RenderingContext, filter: number, wrap: number = gl.CLAMP_TO_EDGE): WebGLTexture {
  const texture = gl.createTexture();
  if (!texture) throw new Error('WebGL: createTexture failed');
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, wrap);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, wrap);
  return texture;
}

export function createProgram(gl: WebGL2RenderingContext, vertexSource: string, fragmentSource: string): WebGLProgram {
  const program = gl.createProgram();
  if (!program) throw new Error('WebGL: createProgram failed');
  for (const [type, source] of [
    [gl.VERTEX_SHADER, vertexSource],
    [gl.FRAGMENT_SHADER, fragmentSource],
  ] as const) {
    const shader = gl.createShader(type);
    if (!shader) throw new Error('WebGL: createShader failed');
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
      throw new Error(`WebGL shader: ${gl.getShaderInfoLog(shader) ?? 'compile failed'}`);
    }
    gl.attachShader(program, shader);
    gl.deleteShader(shader);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    throw new Error(`WebGL program: ${gl.getProgramInfoLog(program) ?? 'link failed'}`);
  }
  return program;
}

export function uniforms(gl: WebGL2RenderingContext, program: WebGLProgram, names: readonly string[]) {
  const locations: Record<string, WebGLUniformLocation | null> = {};
  for (const name of names) locations[name] = gl.getUniformLocation(program, name);
  return locations;
}

/** Vertex shader drawing one triangle that covers the viewport (no buffers needed). */
export const FULLSCREEN_VERTEX = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

let softwareWebGl: boolean | undefined;

/**
 * Whether this browser's WebGL runs on a software rasterizer (SwiftShader, llvmpipe, …), i.e.
 * there is no GPU: every GL pass would be CPU work in the GPU process. Probed once, with a
 * throwaway context. No WebGL2 at all counts as software (the caller then needs no GL).
 */
export function webGlIsSoftware(): boolean {
  if (softwareWebGl !== undefined) return softwareWebGl;
  const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
  const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
  if (!gl) return (softwareWebGl = true);
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  softwareWebGl = /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return softwareWebGl;
}
