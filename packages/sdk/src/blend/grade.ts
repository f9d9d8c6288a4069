/**
 * A style pack's frame grade: the colour world of the style laid over the whole frame, so the
 * stylized face does not sit in the camera picture as a differently coloured mask (a grey pencil
 * face on pink skin, a green painted face above a pink neck).
 *
 * First, optionally, the style's tone: each sRGB component c → gain · c + offset (clamped to
 * [0, 1]), the brightness and contrast the pack gives faces (anime's pale high key, arcane's dusk).
 * Without it the seam's luminance match, which gives the face the brightness of the camera around
 * it, took that shift back out of every face; with it the match aims at the toned camera picture
 * (color-match.ts), so the face keeps the style's brightness and the frame around it has it too.
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
  /** The style's tone, applied before the colour; none = the camera's brightness and contrast. */
  readonly tone?: FrameTone;
}

/** Each sRGB component c in [0, 1] → clamp(gain · c + offset, 0, 1). */
export interface FrameTone {
  readonly gain: number;
  readonly offset: number;
}

export const IDENTITY_TONE: FrameTone = { gain: 1, offset: 0 };

// W3C compositing Lum() weights.
const LUM = [0.3, 0.59, 0.11] as const;

/**
 * The grade as drawn: `grade`'s opacity scaled by `amount` (clamped to [0, 1]; 0 = none), or
 * undefined. Used for the `grade` option and, in both renderers, for the blend's `strength`.
 */
export function scaledGrade(grade: FrameGrade | undefined, amount: number): FrameGrade | undefined {
  const share = Math.min(1, Math.max(0, amount));
  if (!grade || share === 0) return undefined;
  const opacity = grade.opacity * share;
  const tone = grade.tone ? { gain: 1 + (grade.tone.gain - 1) * share, offset: grade.tone.offset * share } : undefined;
  if (opacity <= 0 && !(tone && toneChanges(tone))) return undefined;
  return tone ? { color: grade.color, opacity, tone } : { color: grade.color, opacity };
}

/** The grade's tone, or the identity. */
export function toneOf(grade: FrameGrade | undefined): FrameTone {
  return grade?.tone ?? IDENTITY_TONE;
}

/** Whether the tone changes any pixel. */
export function toneChanges(tone: FrameTone): boolean {
  return tone.gain !== 1 || tone.offset !== 0;
}

/**
 * The tone as an affine map of values in `range` (the model's pixel range): what the seam's
 * colour match aims the face at. Ignores the clamp (ring statistics stay well inside).
 */
export function toneInRange(tone: FrameTone, range: readonly [number, number]): FrameTone {
  const [low, high] = range;
  return { gain: tone.gain, offset: (1 - tone.gain) * low + (high - low) * tone.offset };
}

/**
 * The grade as the seam's colour match sees it, in the model's pixel range: the tone (toneInRange),
 * and the colour's chroma (RGB minus Lum) that replaces `opacity` of every pixel's own chroma.
 */
export interface SeamGrade {
  readonly tone: FrameTone;
  readonly opacity: number;
  readonly chroma: readonly [number, number, number];
}

export const IDENTITY_SEAM_GRADE: SeamGrade = { tone: IDENTITY_TONE, opacity: 0, chroma: [0, 0, 0] };

/** `grade` (already scaled, or none) in the model's pixel range `range`. */
export function seamGrade(grade: FrameGrade | undefined, range: readonly [number, number]): SeamGrade {
  if (!grade) return IDENTITY_SEAM_GRADE;
  const scale = range[1] - range[0];
  const colorLum = lum(grade.color);
  const chroma = grade.color.map((c) => scale * (c - colorLum)) as [number, number, number];
  return { tone: toneInRange(toneOf(grade), range), opacity: grade.opacity, chroma };
}

/** One full-frame fill of a 2D canvas with an opaque grey (0–255) in a composite mode. */
export interface ToneFill {
  readonly operation: 'multiply' | 'lighter' | 'difference';
  readonly grey: number;
}

/**
 * The tone as 2D-canvas fills of grey, each a cheap composite pass over the drawn frame (a canvas
 * `filter` redraw cost 7 ms at 640×480 and 18 ms at 1280×720 on a CPU raster; these ~0.5–1.5 ms):
 * offset ≥ 0: multiply by the gain, then add the offset (`lighter`, clamped at 1); offset < 0:
 * the same on the inverted picture (`difference` with white), where subtracting becomes adding,
 * clamped at 1, i.e. at 0 once inverted back. Undefined for a gain above 1, which no fill
 * sequence draws (the pack builder never fits one; the renderer uses toneFilter then).
 */
export function toneFills(tone: FrameTone): ToneFill[] | undefined {
  if (tone.gain > 1) return undefined;
  const grey = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  const scaleThenAdd = (add: number): ToneFill[] => [
    ...(tone.gain < 1 ? [{ operation: 'multiply', grey: grey(tone.gain) } as const] : []),
    ...(add > 0 ? [{ operation: 'lighter', grey: grey(add) } as const] : []),
  ];
  if (tone.offset >= 0) return scaleThenAdd(tone.offset);
  const invert: ToneFill = { operation: 'difference', grey: 255 };
  return [invert, ...scaleThenAdd(1 - tone.gain - tone.offset), invert];
}

/**
 * The tone as a 2D canvas `filter` string (for a gain above 1). CSS `contrast(c)` maps
 * v ↦ (v − 0.5) · c + 0.5 and `brightness(b)` v ↦ b · v, each clamped, so the order is chosen for
 * no clamp in between: for offset ≥ 0 contrast first (its factor is then ≤ 1), otherwise
 * brightness first (exact while gain ≤ 1 − 2 · offset).
 */
export function toneFilter(tone: FrameTone): string {
  if (tone.offset >= 0) {
    const brightness = tone.gain + 2 * tone.offset;
    return `contrast(${tone.gain / brightness}) brightness(${brightness})`;
  }
  const contrast = 1 - 2 * tone.offset;
  return `brightness(${tone.gain / contrast}) contrast(${contrast})`;
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
export function gradePixel(grade: FrameGrade, pixel: readonly [number, number, number]): [number, number, number] {
  const { gain, offset } = toneOf(grade);
  const backdrop = pixel.map((c) => Math.min(1, Math.max(0, gain * c + offset)));
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

/** GLSL of gradePixel, for fragment shaders: `vec3 grade(vec3 pixel, vec4 colorOpacity, vec2 toneGainOffset)`. */
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
vec3 grade(vec3 pixel, vec4 colorOpacity, vec2 tone) {
  vec3 backdrop = clamp(pixel * tone.x + tone.y, 0.0, 1.0);
  vec3 blended = gradeClip(colorOpacity.rgb + (gradeLum(backdrop) - gradeLum(colorOpacity.rgb)));
  return mix(backdrop, blended, colorOpacity.a);
}`;
