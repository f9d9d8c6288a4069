import { describe, expect, it } from 'vitest';

import { gradePixel, scaledGrade } from '../src/blend/grade';

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
