/**
 * A style pack's frame grade: the colour world of the style laid over the whole frame, so the
 * stylized face does not sit in the camera picture as a differently coloured mask (a grey pencil
 * face on pink skin, a green painted face above a pink neck).
 *
 * It is the W3C compositing `color` blend mode (https://www.w3.org/TR/compositing-1/#blendingcolor)
 * of one flat colour over the frame at an opacity: every pixel keeps its luminosity and takes
 * (1 − opacity) of its own chroma plus opacity × the colour's. Luminosity is untouched, so the
 * seam's luminance match, the camera detail and every luma measurement see the camera as it is;
 * only hue and saturation move toward the style. The pack builder fits it to what the pack's
 * generator does to faces' chroma (training/finetune/grade.py): the face and the graded skin
 * around it then have the same colour. A 2D canvas draws it natively (`globalCompositeOperation
 * = 'color'`), the WebGL copy pass computes the same formula.
 */
export interface FrameGrade {
  /** sRGB components in [0, 1]; only its hue and saturation matter. */
  readonly color: readonly [number, number, number];
  /** 0 = the camera's colours, 1 = the colour's chroma everywhere. */
  readonly opacity: number;
}

// W3C compositing Lum() weights.
const LUM = [0.3, 0.59, 0.11] as const;

/**
 * The grade as drawn: `grade`'s opacity scaled by `amount` (clamped to [0, 1]; 0 = none), or
 * undefined. Used for the `grade` option and, in both renderers, for the blend's `strength`.
 */
export function scaledGrade(grade: FrameGrade | undefined, amount: number): FrameGrade | undefined {
  const opacity = (grade?.opacity ?? 0) * Math.min(1, Math.max(0, amount));
  return grade && opacity > 0 ? { color: grade.color, opacity } : undefined;
}

/** The grade's colour as the 8-bit sRGB components both renderers draw. */
export function gradeColorBytes(grade: FrameGrade): [number, number, number] {
  return grade.color.map((c) => Math.round(Math.min(1, Math.max(0, c)) * 255)) as [number, number, number];
}

/**
 * One pixel through the grade (sRGB components in [0, 1]): the W3C `color` blend of the grade's
 * colour over `backdrop`, composited at the grade's opacity. The reference the WebGL shader
 * (renderer.ts GRADE_GLSL) and the 2D canvas implement.
 */
export function gradePixel(grade: FrameGrade, backdrop: readonly [number, number, number]): [number, number, number] {
  const blended = setLum(grade.color, lum(backdrop));
  return [0, 1, 2].map((c) => (1 - grade.opacity) * (backdrop[c] as number) + grade.opacity * (blended[c] as number)) as [number, number, number];
}

function lum(c: readonly number[]): number {
  return LUM[0] * (c[0] as number) + LUM[1] * (c[1] as number) + LUM[2] * (c[2] as number);
}

function setLum(c: readonly number[], l: number): number[] {
  const d = l - lum(c);
  return clipColor(c.map((v) => v + d));
}

function clipColor(c: number[]): number[] {
  const l = lum(c);
  const n = Math.min(...c);
  const x = Math.max(...c);
  if (n < 0) c = c.map((v) => l + ((v - l) * l) / (l - n));
  if (x > 1) c = c.map((v) => l + ((v - l) * (1 - l)) / (x - l));
  return c;
}

/** GLSL of gradePixel, for fragment shaders: `vec3 grade(vec3 backdrop, vec4 colorOpacity)`. */
export const GRADE_GLSL = `
float gradeLum(vec3 c) { return dot(c, vec3(0.3, 0.59, 0.11)); }
vec3 gradeClip(vec3 c) {
  float l = gradeLum(c);
  float n = min(min(c.r, c.g), c.b);
  float x = max(max(c.r, c.g), c.b);
  if (n < 0.0) c = l + (c - l) * l / (l - n);
  if (x > 1.0) c = l + (c - l) * (1.0 - l) / (x - l);
  return c;
}
vec3 grade(vec3 backdrop, vec4 colorOpacity) {
  vec3 blended = gradeClip(colorOpacity.rgb + (gradeLum(backdrop) - gradeLum(colorOpacity.rgb)));
  return mix(backdrop, blended, colorOpacity.a);
}`;
