import type { Frame } from '../frames';
import { FULLSCREEN_VERTEX, createProgram, uniforms, type GlContext } from '../gpu/gl';
import type { FaceAlignment } from './ffhq';

/**
 * Produces the encoder's input: the aligned crop as an NCHW RGB float tensor in the model's
 * pixel range. `extract` reads the frame synchronously (it is only valid now); the tensor may
 * arrive later (asynchronous GPU readback).
 */
export interface CropRenderer {
  extract(frame: Frame, alignment: FaceAlignment): Promise<Float32Array>;
  dispose(): void;
}

// Each output texel packs 4 horizontally adjacent crop pixels of one channel, rows are
// (channel, y): the render target is laid out exactly like the NCHW tensor, so readPixels
// returns the tensor with no CPU reshuffle. Sampling follows CROP_SAMPLING (ffhq.ts):
// mean of four bilinear taps at (±0.25, ±0.25) px, mirrored edges (MIRRORED_REPEAT).
const CROP_FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D u_frame;
uniform vec2 u_frameSize;
uniform vec3 u_imageFromCropX;
uniform vec3 u_imageFromCropY;
uniform int u_size;
uniform vec2 u_range;
out vec4 outColor;

vec4 sampleCrop(vec2 crop) {
  vec4 sum = vec4(0.0);
  for (int i = 0; i < 4; i++) {
    vec2 c = crop + vec2((i & 1) == 0 ? -0.25 : 0.25, (i & 2) == 0 ? -0.25 : 0.25);
    vec2 image = vec2(dot(u_imageFromCropX, vec3(c, 1.0)), dot(u_imageFromCropY, vec3(c, 1.0)));
    sum += texture(u_frame, image / u_frameSize);
  }
  return sum * 0.25;
}

void main() {
  int row = int(gl_FragCoord.y);
  int channel = row / u_size;
  float y = float(row - channel * u_size) + 0.5;
  float x0 = floor(gl_FragCoord.x) * 4.0 + 0.5;
  vec4 values;
  for (int k = 0; k < 4; k++) values[k] = sampleCrop(vec2(x0 + float(k), y))[channel];
  outColor = u_range.x + values * (u_range.y - u_range.x);
}`;

export class GlCropRenderer implements CropRenderer {
  private readonly program: WebGLProgram;
  private readonly target: WebGLTexture;
  private readonly framebuffer: WebGLFramebuffer;
  private readonly locations;
  private readonly width: number;
  private readonly height: number;

  constructor(
    private readonly context: GlContext,
    private readonly size: number,
    private readonly range: readonly [number, number],
  ) {
    if (size % 4 !== 0) throw new RangeError('crop size must be a multiple of 4');
    const gl = context.gl;
    this.program = createProgram(gl, FULLSCREEN_VERTEX, CROP_FRAGMENT);
    this.locations = uniforms(gl, this.program, [
      'u_frame', 'u_frameSize', 'u_imageFromCropX', 'u_imageFromCropY', 'u_size', 'u_range',
    ]);
    this.width = size / 4;
    this.height = size * 3;
    const target = gl.createTexture();
    const framebuffer = gl.createFramebuffer();
    if (!target || !framebuffer) throw new Error('WebGL: could not create the crop target');
    gl.bindTexture(gl.TEXTURE_2D, target);
    gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA32F, this.width, this.height);
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, target, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.target = target;
    this.framebuffer = framebuffer;
  }

  extract(frame: Frame, alignment: FaceAlignment): Promise<Float32Array> {
    const gl = this.context.gl;
    const imageFromCrop = alignment.imageFromCrop;
    const frameTexture = this.context.frameTexture(frame);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    gl.viewport(0, 0, this.width, this.height);
    gl.disable(gl.BLEND);
    gl.useProgram(this.program);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, frameTexture);
    const u = this.locations;
    gl.uniform1i(u['u_frame'] ?? null, 0);
    gl.uniform2f(u['u_frameSize'] ?? null, frame.width, frame.height);
    gl.uniform3f(u['u_imageFromCropX'] ?? null, imageFromCrop[0], imageFromCrop[1], imageFromCrop[2]);
    gl.uniform3f(u['u_imageFromCropY'] ?? null, imageFromCrop[3], imageFromCrop[4], imageFromCrop[5]);
    gl.uniform1i(u['u_size'] ?? null, this.size);
    gl.uniform2f(u['u_range'] ?? null, this.range[0], this.range[1]);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
    // Read into a pixel-pack buffer and wait on a fence instead of a blocking readPixels, so
    // the main thread does not stall until the GPU has finished everything queued before.
    const byteLength = this.width * this.height * 4 * Float32Array.BYTES_PER_ELEMENT;
    const buffer = gl.createBuffer();
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, buffer);
    gl.bufferData(gl.PIXEL_PACK_BUFFER, byteLength, gl.STREAM_READ);
    gl.readPixels(0, 0, this.width, this.height, gl.RGBA, gl.FLOAT, 0);
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    const fence = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    gl.flush();
    return waitForFence(gl, fence).then(() => {
      const tensor = new Float32Array(byteLength / Float32Array.BYTES_PER_ELEMENT);
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, buffer);
      gl.getBufferSubData(gl.PIXEL_PACK_BUFFER, 0, tensor);
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
      gl.deleteBuffer(buffer);
      return tensor;
    });
  }

  dispose(): void {
    const gl = this.context.gl;
    gl.deleteFramebuffer(this.framebuffer);
    gl.deleteTexture(this.target);
    gl.deleteProgram(this.program);
  }
}

/** Resolves once the GPU passed `fence` (polled: WebGL has no fence callbacks). */
function waitForFence(gl: WebGL2RenderingContext, fence: WebGLSync | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (!fence || gl.isContextLost()) return reject(new Error('WebGL context lost during crop readback'));
      const status = gl.clientWaitSync(fence, 0, 0);
      if (status === gl.WAIT_FAILED) return reject(new Error('WebGL crop readback failed'));
      if (status === gl.TIMEOUT_EXPIRED) return void setTimeout(poll, 1);
      gl.deleteSync(fence);
      resolve();
    };
    poll();
  });
}
