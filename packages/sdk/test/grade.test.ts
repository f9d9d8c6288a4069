import { describe, expect, it } from 'vitest';

import { gradePixel, scaledGrade, seamGrade, toneFills, toneFilter, toneInRange } from '../src/blend/grade';

const lum = (c: readonly number[]) => 0.3 * (c[0] as number) + 0.59 * (c[1] as number) + 0.11 * (c[2] as number);
const chroma = (c: readonly number[]) => c.map((v) => v - lum(c));

describe('frame grade (the W3C color blend of one colour at an opacity)', () => {
  const grade = { color: [0.3, 0.6, 0.5] as const, opacity: 0.4 };

  it('keeps every pixel’s luminosity and mixes its chroma with the colour’s', () => {
    for (const pixel of [[0.8, 0.5, 0.4], [0.2, 0.25, 0.6], [0.5, 0.5, 0.5]] as const) {
      const out = gradePixel(grade, pixel);
      expect(lum(out)).toBeCloseTo(lum(pixel), 6);
      const expected = chroma(pixel).map((c, i) => 0.6 * c + 0.4 * (chroma(grade.color)[i] as number));
      chroma(out).forEach((c, i) => expect(c).toBeCloseTo(expected[i] as number, 6));
    }
  });

  it('stays inside [0, 1] where the mixed colour would leave it (W3C ClipColor), black and white unchanged', () => {
    const saturated = { color: [1, 0, 0] as const, opacity: 1 };
    for (const pixel of [[0.95, 0.95, 0.95], [0.05, 0.05, 0.05], [0, 0, 1]] as const) {
      for (const v of gradePixel(saturated, pixel)) {
        expect(v).toBeGreaterThanOrEqual(-1e-9);
        expect(v).toBeLessThanOrEqual(1 + 1e-9);
      }
    }
    gradePixel(saturated, [0, 0, 0]).forEach((v) => expect(v).toBeCloseTo(0, 9));
    gradePixel(saturated, [1, 1, 1]).forEach((v) => expect(v).toBeCloseTo(1, 9));
  });

  it('is scaled by the grade option, and absent at 0 or without a pack grade', () => {
    expect(scaledGrade(grade, 0.5)?.opacity).toBeCloseTo(0.2, 9);
    expect(scaledGrade(grade, 2)?.opacity).toBeCloseTo(0.4, 9);
    expect(scaledGrade(grade, 0)).toBeUndefined();
    expect(scaledGrade(undefined, 1)).toBeUndefined();
  });
});

describe('frame tone (the style\'s brightness and contrast, before the colour)', () => {
  const toned = { color: [0.5, 0.5, 0.5] as const, opacity: 0, tone: { gain: 0.9, offset: 0.15 } };

  it('maps each component through gain · c + offset, clamped, then the colour keeps that luminosity', () => {
    expect(gradePixel(toned, [0.5, 0.2, 0.8])).toEqual([0.6, 0.33, 0.87].map((v) => expect.closeTo(v, 9)));
    gradePixel(toned, [1, 1, 1]).forEach((v) => expect(v).toBe(1));
    const both = { ...toned, color: [0.3, 0.6, 0.5] as const, opacity: 0.4 };
    const pixel = [0.4, 0.3, 0.2] as const;
    expect(lum(gradePixel(both, pixel))).toBeCloseTo(lum(pixel.map((c) => 0.9 * c + 0.15)), 6);
  });

  it('is scaled toward the identity by the grade option; a tone alone is a grade', () => {
    expect(scaledGrade(toned, 0.5)?.tone).toEqual({ gain: 0.95, offset: 0.075 });
    expect(scaledGrade(toned, 1)?.opacity).toBe(0);
    expect(scaledGrade(toned, 0)).toBeUndefined();
    expect(scaledGrade({ ...toned, tone: { gain: 1, offset: 0 } }, 1)).toBeUndefined();
  });

  it('is what the 2D canvas filter draws for a harder tone (CSS contrast and brightness, each clamped), in the order without clamping between', () => {
    // CSS Filter Effects: contrast(c): (v − 0.5) · c + 0.5, brightness(b): v · b, each clamped to [0, 1]
    const css = (filter: string, v: number) =>
      [...filter.matchAll(/(contrast|brightness)\(([^)]+)\)/g)].reduce((x, [, name, amount]) => {
        const a = Number(amount);
        return Math.min(1, Math.max(0, name === 'contrast' ? (x - 0.5) * a + 0.5 : x * a));
      }, v);
    for (const tone of [{ gain: 1.25, offset: -0.23 }, { gain: 1.2, offset: 0 }, { gain: 1.1, offset: 0.05 }]) {
      for (let v = 0; v <= 1; v += 1 / 64) expect(css(toneFilter(tone), v), `${JSON.stringify(tone)} at ${v}`).toBeCloseTo(Math.min(1, Math.max(0, tone.gain * v + tone.offset)), 9);
    }
  });

  it('is what the 2D canvas\'s grey fills draw (multiply, lighter, difference; 8-bit at every step), within 1.5 levels', () => {
    const composite = { multiply: (v: number, g: number) => (v * g) / 255, lighter: (v: number, g: number) => Math.min(255, v + g), difference: (v: number, g: number) => Math.abs(v - g) };
    for (const tone of [{ gain: 0.9119, offset: 0.2224 }, { gain: 0.75, offset: 0.1952 }, { gain: 0.9129, offset: -0.105 }, { gain: 1, offset: -0.0976 }, { gain: 0.8, offset: 0 }]) {
      const fills = toneFills(tone);
      expect(fills, JSON.stringify(tone)).toBeDefined();
      for (let v = 0; v <= 255; v += 5) {
        const drawn = (fills ?? []).reduce((x, { operation, grey }) => Math.round(composite[operation](x, grey)), v);
        expect(Math.abs(drawn - 255 * Math.min(1, Math.max(0, tone.gain * (v / 255) + tone.offset))), `${JSON.stringify(tone)} at ${v}`).toBeLessThanOrEqual(1.5);
      }
    }
    expect(toneFills({ gain: 1.2, offset: -0.1 }), 'a harder tone: the canvas filter instead').toBeUndefined();
  });

  it('maps onto the model\'s pixel range for the seam match', () => {
    const tone = { gain: 0.9, offset: 0.15 };
    const inRange = toneInRange(tone, [-1, 1]);
    for (const v of [-1, -0.2, 0.6]) expect(inRange.gain * v + inRange.offset).toBeCloseTo((tone.gain * (v + 1) / 2 + tone.offset) * 2 - 1, 9);
    expect(toneInRange(tone, [0, 1])).toEqual(tone);
  });

  it('gives the seam match the chroma the grade lays over each pixel, in the model\'s pixel range', () => {
    const toned = { color: [0.8, 0.5, 0.3] as const, opacity: 0.5, tone: { gain: 0.9, offset: 0.1 } };
    const seam = seamGrade(toned, [-1, 1]);
    expect(seam.tone).toEqual(toneInRange(toned.tone, [-1, 1]));
    expect(seam.opacity).toBe(0.5);
    // a grey pixel takes opacity × the colour's chroma: in [-1, 1] that is twice the sRGB value
    const graded = gradePixel(toned, [0.5, 0.5, 0.5]);
    chroma(graded).forEach((v, c) => expect(2 * v).toBeCloseTo(0.5 * (seam.chroma[c] as number), 9));
    expect(seamGrade(undefined, [-1, 1])).toEqual({ tone: { gain: 1, offset: 0 }, opacity: 0, chroma: [0, 0, 0] });
  });
});
