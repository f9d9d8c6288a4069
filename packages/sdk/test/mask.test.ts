import { describe, expect, it } from 'vitest';
import { IDENTITY_COLOR, addSeamField, applyColor, bakeSeamField, matchRingColor, type ColorTransform } from '../src/blend/color-match';
import { MASK_TEXTURE_SIZE, featherMask, fillMaskTexels, maskInset, signedDistanceToPolygon, smoothstep } from '../src/blend/mask';
import { correctedTexels, flowReach, planarToInterleaved } from '../src/blend/renderer';
import { identityFlow } from './helpers';

// A 40×40 square centred in a 128 crop, and a 36-gon "oval" like the face-oval loop.
const square = [44, 44, 84, 44, 84, 84, 44, 84];
const oval = Array.from({ length: 36 }, (_, i) => {
  const t = (i / 36) * 2 * Math.PI;
  return [64 + 40 * Math.sin(t), 64 - 50 * Math.cos(t)];
}).flat();

describe('signed distance to the mask polygon', () => {
  it('is negative inside, positive outside, the distance to the nearest edge', () => {
    expect(signedDistanceToPolygon(64, 64, square)).toBeCloseTo(-20, 10);
    expect(signedDistanceToPolygon(50, 64, square)).toBeCloseTo(-6, 10);
    expect(signedDistanceToPolygon(94, 64, square)).toBeCloseTo(10, 10);
    expect(signedDistanceToPolygon(87, 88, square)).toBeCloseTo(5, 10); // nearest is the corner
    expect(signedDistanceToPolygon(84, 60, square)).toBeCloseTo(0, 10);
  });

  it('does not depend on the winding direction', () => {
    const reversed = [44, 84, 84, 84, 84, 44, 44, 44];
    for (const [x, y] of [[64, 64], [90, 30], [45, 60]] as const) {
      expect(signedDistanceToPolygon(x, y, reversed)).toBeCloseTo(signedDistanceToPolygon(x, y, square), 10);
    }
  });

  it('changes by at most the distance moved (1-Lipschitz, which the inset relies on)', () => {
    for (let i = 0; i < 500; i++) {
      const x = (i * 37) % 128;
      const y = (i * 91) % 128;
      const dx = ((i * 13) % 7) - 3;
      const dy = ((i * 29) % 5) - 2;
      const change = Math.abs(signedDistanceToPolygon(x + dx, y + dy, oval) - signedDistanceToPolygon(x, y, oval));
      expect(change).toBeLessThanOrEqual(Math.hypot(dx, dy) + 1e-9);
    }
  });
});

describe('feathered mask', () => {
  const feather = 8;
  it('is exactly 0 on and outside the outline, 1 deep inside, monotone across the feather', () => {
    expect(featherMask(100, 64, square, feather)).toBe(0);
    expect(featherMask(84, 64, square, feather)).toBe(0);
    expect(featherMask(64, 64, square, feather)).toBe(1);
    let previous = 0;
    for (let x = 84; x >= 60; x -= 0.5) {
      const m = featherMask(x, 64, square, feather);
      expect(m).toBeGreaterThanOrEqual(previous);
      previous = m;
    }
    expect(featherMask(84 - feather / 2, 64, square, feather)).toBeCloseTo(0.5, 10);
  });

  it('an inset moves the whole ramp inwards', () => {
    expect(featherMask(84 - 3, 64, square, feather, 3)).toBe(0);
    expect(featherMask(84 - 3 - feather / 2, 64, square, feather, 3)).toBeCloseTo(0.5, 10);
  });

  it('sampled bilinearly from the coarse mask texture, stays exactly 0 outside the polygon', () => {
    // Emulates the GPU: mask texels at texel centres, bilinear filtering in between.
    const size = 128;
    const texel = size / MASK_TEXTURE_SIZE;
    const inset = maskInset(size);
    const texture = (i: number, j: number) => featherMask((i + 0.5) * texel, (j + 0.5) * texel, oval, feather, inset);
    for (let y = 0; y < size; y += 0.75) {
      for (let x = 0; x < size; x += 0.75) {
        if (signedDistanceToPolygon(x, y, oval) < 0) continue;
        const u = x / texel - 0.5;
        const v = y / texel - 0.5;
        const i = Math.floor(u);
        const j = Math.floor(v);
        const fx = u - i;
        const fy = v - j;
        const sample =
          texture(i, j) * (1 - fx) * (1 - fy) + texture(i + 1, j) * fx * (1 - fy) + texture(i, j + 1) * (1 - fx) * fy + texture(i + 1, j + 1) * fx * fy;
        expect(sample).toBe(0);
      }
    }
  });

  it('smoothstep matches GLSL at the edges and midpoint', () => {
    expect(smoothstep(0, 1, -1)).toBe(0);
    expect(smoothstep(0, 1, 2)).toBe(1);
    expect(smoothstep(0, 1, 0.5)).toBe(0.5);
  });
});

describe('ring colour matching', () => {
  const size = 128;
  const plane = size * size;
  const identityFlow = new Float32Array(2 * plane);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      identityFlow[y * size + x] = ((x + 0.5) / size) * 2 - 1;
      identityFlow[plane + y * size + x] = ((y + 0.5) / size) * 2 - 1;
    }
  }
  const constant = (rgb: [number, number, number]) => {
    const image = new Float32Array(3 * plane);
    rgb.forEach((v, c) => image.fill(v, c * plane, (c + 1) * plane));
    return image;
  };

  it("'color' maps the stylized ring mean onto the original ring mean", () => {
    const original = constant([0.2, -0.1, 0.5]);
    const stylized = constant([-0.4, 0.3, 0.1]);
    const color = matchRingColor(original, stylized, identityFlow, oval, size, 8, 'color');
    const pixel = [0, 1, 2].map((c) => stylized[c * plane] as number) as [number, number, number];
    for (let c = 0; c < 3; c++) expect(applyColor(color, c, ...pixel)).toBeCloseTo(original[c * plane] as number, 5);
  });

  it('matches the spread within the gain limits', () => {
    // Horizontal ramps: the stylized one has half the contrast of the original.
    const original = new Float32Array(3 * plane);
    const stylized = new Float32Array(3 * plane);
    for (let i = 0; i < 3 * plane; i++) {
      const x = i % size;
      original[i] = (x / size) * 1.0 - 0.5;
      stylized[i] = (x / size) * 0.5 - 0.25;
    }
    const gain = (mode: 'color' | 'luminance', from: Float32Array, to: Float32Array) => {
      const color = matchRingColor(from, to, identityFlow, oval, size, 8, mode);
      return (applyColor(color, 0, 0.2, 0.2, 0.2) - applyColor(color, 0, 0, 0, 0)) / 0.2;
    };
    // 'color' fits each channel's spread: a gain of 2
    expect(gain('color', original, stylized)).toBeCloseTo(2, 1);
    // the luminance match softens a harsher face (the ramp is grey: its matrix acts as a gain)...
    expect(gain('luminance', stylized, original)).toBeCloseTo(0.5, 1);
    // ...but never hardens a flatter one: its drawn shading would come out doubled
    expect(gain('luminance', original, stylized)).toBeCloseTo(1, 5);
  });

  it("'luminance' matches brightness and keeps the style's own colours", () => {
    const luma = (rgb: readonly number[]) => 0.299 * (rgb[0] as number) + 0.587 * (rgb[1] as number) + 0.114 * (rgb[2] as number);
    const camera: [number, number, number] = [0.4, 0.1, -0.1]; // skin
    const grey: [number, number, number] = [-0.2, -0.2, -0.2]; // a pencil drawing's paper
    const color = matchRingColor(constant(camera), constant(grey), identityFlow, oval, size, 8, 'luminance');
    const corrected = [0, 1, 2].map((c) => applyColor(color, c, ...grey));
    expect(luma(corrected)).toBeCloseTo(luma(camera), 5);
    expect(corrected[0]).toBeCloseTo(corrected[1] as number, 6); // still grey
    expect(corrected[1]).toBeCloseTo(corrected[2] as number, 6);
  });

  it("'luminance' aims the face at the frame's tone: the style's brightness is kept where the frame around it has it too", () => {
    const luma = (rgb: readonly number[]) => 0.299 * (rgb[0] as number) + 0.587 * (rgb[1] as number) + 0.114 * (rgb[2] as number);
    const camera: [number, number, number] = [0.4, 0.1, -0.1];
    const pale: [number, number, number] = [0.7, 0.6, 0.65]; // an anime face: paler than the camera's skin
    const tone = { gain: 0.9, offset: 0.3 }; // the pack's frame tone in the [-1, 1] range
    const color = matchRingColor(constant(camera), constant(pale), identityFlow, oval, size, 8, 'luminance', { tone, opacity: 0, chroma: [0, 0, 0] });
    const corrected = [0, 1, 2].map((c) => applyColor(color, c, ...pale));
    expect(luma(corrected)).toBeCloseTo(0.9 * luma(camera) + 0.3, 5);
    const untoned = matchRingColor(constant(camera), constant(pale), identityFlow, oval, size, 8, 'luminance');
    expect(luma([0, 1, 2].map((c) => applyColor(untoned, c, ...pale)))).toBeCloseTo(luma(camera), 5);
  });

  it("'luminance' scales brightness contrast without scaling the style's chroma", () => {
    // a faintly green-grey drawing with twice the camera's contrast: the gain of 1/2 must not
    // halve its green (a per-channel gain scaled the tint with the contrast: a flat green face on
    // screen where the gain was 2)
    const luma = (rgb: readonly number[]) => 0.299 * (rgb[0] as number) + 0.587 * (rgb[1] as number) + 0.114 * (rgb[2] as number);
    const original = new Float32Array(3 * plane);
    const stylized = new Float32Array(3 * plane);
    const tint = [-0.03, 0.03, -0.03];
    for (let i = 0; i < plane; i++) {
      const ramp = (i % size) / size;
      for (let c = 0; c < 3; c++) {
        original[c * plane + i] = 0.5 * ramp - 0.25;
        stylized[c * plane + i] = ramp - 0.5 + (tint[c] as number);
      }
    }
    const color = matchRingColor(original, stylized, identityFlow, oval, size, 8, 'luminance');
    for (const ramp of [0.2, 0.8]) {
      const pixel = [0, 1, 2].map((c) => ramp - 0.5 + (tint[c] as number)) as [number, number, number];
      const corrected = [0, 1, 2].map((c) => applyColor(color, c, ...pixel));
      const chroma = corrected.map((v) => v - luma(corrected));
      const chromaBefore = pixel.map((v) => v - luma(pixel));
      for (let c = 0; c < 3; c++) expect(chroma[c]).toBeCloseTo(chromaBefore[c] as number, 6);
      expect(luma(corrected)).toBeCloseTo(0.5 * ramp - 0.25, 3); // the camera ramp's luma
    }
  });

  it("'lighting' gives the face's seam the graded camera's chroma, with the luminance match's luma", () => {
    const luma = (rgb: readonly number[]) => 0.299 * (rgb[0] as number) + 0.587 * (rgb[1] as number) + 0.114 * (rgb[2] as number);
    const chroma = (rgb: readonly number[]) => rgb.map((v) => v - luma(rgb));
    const warmCamera: [number, number, number] = [0.1, -0.3, -0.55]; // skin under a warm lamp, dim
    const pale: [number, number, number] = [0.75, 0.65, 0.62]; // a pale cartoon skin: low chroma
    const lips: [number, number, number] = [0.6, 0.1, 0.15];
    const grade = { tone: { gain: 0.9, offset: 0 }, opacity: 0.45, chroma: [0.02, -0.01, 0.03] as const };
    const lighting = matchRingColor(constant(warmCamera), constant(pale), identityFlow, oval, size, 8, 'lighting', grade);
    const luminance = matchRingColor(constant(warmCamera), constant(pale), identityFlow, oval, size, 8, 'luminance', grade);
    const skin = [0, 1, 2].map((c) => applyColor(lighting, c, ...pale));
    expect(luma(skin)).toBeCloseTo(luma([0, 1, 2].map((c) => applyColor(luminance, c, ...pale))), 6);
    const graded = chroma(warmCamera).map((v, c) => 0.55 * 0.9 * v + 0.45 * (grade.chroma[c] as number));
    const gradedLuma = luma(graded); // the grade's Lum weights are not Rec. 601's: the match takes out the rest
    chroma(skin).forEach((v, c) => expect(v).toBeCloseTo((graded[c] as number) - gradedLuma, 5));
    // the style's own colours inside the face move by the same shift: lips stay redder than the skin
    const lipsOut = [0, 1, 2].map((c) => applyColor(lighting, c, ...lips));
    expect((chroma(lipsOut)[0] as number) - (chroma(skin)[0] as number)).toBeCloseTo((chroma(lips)[0] as number) - (chroma(pale)[0] as number), 5);
    // without a grade the seam takes the camera's own chroma
    const plain = matchRingColor(constant(warmCamera), constant(pale), identityFlow, oval, size, 8); // the default
    chroma([0, 1, 2].map((c) => applyColor(plain, c, ...pale))).forEach((v, c) => expect(v).toBeCloseTo(chroma(warmCamera)[c] as number, 5));
  });

  /** The seam field of `color` on every crop pixel ([3, size, size]). */
  const fieldOf = (color: ColorTransform) => {
    expect(color.field).toBeDefined();
    const pixels = new Float32Array(3 * plane);
    addSeamField(color.field as NonNullable<ColorTransform['field']>, pixels, size);
    return pixels;
  };

  it("'skin' adds nothing per pixel where the camera's skin has one colour all round; 'lighting' adds no field", () => {
    expect(matchRingColor(constant([0.1, -0.3, -0.55]), constant([0.75, 0.65, 0.62]), identityFlow, oval, size, 8, 'lighting').field).toBeUndefined();
    const field = fieldOf(matchRingColor(constant([0.1, -0.3, -0.55]), constant([0.75, 0.65, 0.62]), identityFlow, oval, size, 8, 'skin'));
    expect(Math.max(...Array.from(field, Math.abs))).toBeLessThan(1e-5);
  });

  it("'skin' gives each side of the face's edge the chroma of the camera's skin there, and leaves the middle alone", () => {
    const luma = (rgb: readonly number[]) => 0.299 * (rgb[0] as number) + 0.587 * (rgb[1] as number) + 0.114 * (rgb[2] as number);
    const chroma = (rgb: readonly number[]) => rgb.map((v) => v - luma(rgb));
    // lamp-lit warm skin on the left of the face, daylight-cool skin on the right; a pale painted face
    const warm: [number, number, number] = [0.3, -0.1, -0.35];
    const cool: [number, number, number] = [-0.05, 0.0, 0.15];
    const pale: [number, number, number] = [0.75, 0.65, 0.62];
    const camera = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) camera[c * plane + i] = ((i % size) < size / 2 ? warm : cool)[c] as number;
    const color = matchRingColor(camera, constant(pale), identityFlow, oval, size, 8, 'skin');
    const field = fieldOf(color);
    const shown = (x: number, y: number) => [0, 1, 2].map((c) => applyColor(color, c, ...pale) + (field[c * plane + y * size + x] as number));
    const stepAt = (x: number, y: number, skin: readonly number[]) => Math.hypot(...chroma(shown(x, y)).map((v, c) => v - (chroma(skin)[c] as number)));
    // just inside the oval's left and right edges (it spans x 24..104 at y 64)
    const left = stepAt(27, 64, warm);
    const right = stepAt(101, 64, cool);
    const meanOnly = Math.hypot(...chroma([0, 1, 2].map((c) => applyColor(color, c, ...pale))).map((v, c) => v - (chroma(warm)[c] as number)));
    expect(meanOnly).toBeGreaterThan(0.15); // one shift for both sides leaves each a step
    expect(left).toBeLessThan(0.3 * meanOnly);
    expect(right).toBeLessThan(0.3 * meanOnly);
    // the middle of the face keeps the style's colour (with the ring's mean shift only)
    expect(Math.hypot(...[0, 1, 2].map((c) => field[c * plane + 64 * size + 64] as number))).toBeLessThan(1e-6);
    // chroma only: the luminance match stays exact
    for (const [x, y] of [[27, 64], [101, 64], [64, 20], [64, 110]] as const) {
      expect(luma([0, 1, 2].map((c) => field[c * plane + y * size + x] as number))).toBeCloseTo(0, 6);
    }
  });

  it('the seam field baked into the image (where the models run) draws exactly what the field drawn on the page does', () => {
    const camera = new Float32Array(3 * plane).map((_, i) => ((i % size) < size / 2 ? [0.3, -0.1, -0.35] : [-0.05, 0.0, 0.15])[Math.floor(i / plane)] as number);
    const stylized = new Float32Array(3 * plane).map((_, i) => 0.5 * Math.sin(i * 0.37)); // every pixel its own colour
    const color = matchRingColor(camera, stylized, identityFlow, oval, size, 8, 'skin');
    expect(color.field).toBeDefined();
    const onPage = correctedTexels({ image: stylized, size, color }, [-1, 1], false);
    const baked = stylized.slice();
    const bakedColor = bakeSeamField(color, baked, size);
    expect(bakedColor.field).toBeUndefined();
    expect(baked).not.toEqual(stylized);
    const fromWorker = correctedTexels({ image: baked, size, color: bakedColor }, [-1, 1], false);
    let largest = 0;
    for (let i = 0; i < onPage.length; i++) largest = Math.max(largest, Math.abs((onPage[i] as number) - (fromWorker[i] as number)));
    expect(largest).toBeLessThanOrEqual(1); // rounding to 8 bits only
    const lit = matchRingColor(camera, stylized, identityFlow, oval, size, 8, 'lighting');
    expect(bakeSeamField(lit, stylized.slice(), size)).toBe(lit); // nothing to bake
  });

  it("'off' leaves the stylized colours alone", () => {
    expect(matchRingColor(constant([0.4, 0.1, -0.1]), constant([0, 0, 0]), identityFlow, oval, size, 8, 'off')).toBe(IDENTITY_COLOR);
  });

  it('falls back to identity when the ring is empty', () => {
    const tiny = [0, 0, 0.5, 0, 0.5, 0.5];
    expect(matchRingColor(constant([0, 0, 0]), constant([1, 1, 1]), identityFlow, tiny, size, 8)).toBe(IDENTITY_COLOR);
  });
});

describe('planarToInterleaved', () => {
  it('turns NCHW planes into texels with opaque padding', () => {
    const planar = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 3 channels of 2×2
    expect(Array.from(planarToInterleaved(planar, 3, 4, 2))).toEqual([1, 5, 9, 1, 2, 6, 10, 1, 3, 7, 11, 1, 4, 8, 12, 1]);
  });
});

describe('correctedTexels', () => {
  it('applies the seam colour transform, maps the pixel range to 0–255, clamps; alpha (detail gain) 0 without an input crop', () => {
    // 3 channels of 2×2 in [-1, 1], each channel constant (so the 2× upsample keeps it exactly)
    const image = Float32Array.from([0.5, 0.5, 0.5, 0.5, -1, -1, -1, -1, 0.2, 0.2, 0.2, 0.2]);
    const color = { matrix: [1, 0, 0, 0, 2, 0, 0, 0, 0.5], offset: [0, 0.5, -0.1] as const };
    const texels = correctedTexels({ image, size: 2, color }, [-1, 1]);
    expect(texels.length).toBe(4 * 4 * 4); // 2× per axis
    const level = (v: number) => Math.min(255, Math.max(0, Math.round(((v + 1) / 2) * 255)));
    for (let i = 0; i < 16; i++) {
      expect(Array.from(texels.subarray(4 * i, 4 * i + 4))).toEqual([level(0.5), 0, level(0.2 * 0.5 - 0.1), 0]); // -1·2 + 0.5 clamps to 0
    }
  });

  it('upsamples 2× with Catmull-Rom: a linear ramp lands exactly between the crop pixels, edges clamp', () => {
    const size = 8;
    const image = new Float32Array(3 * size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) image[y * size + x] = -1 + (x * 2) / (size - 1) / 2; // ramp in [-1, 0]
    const texels = correctedTexels({ image, size, color: IDENTITY_COLOR }, [-1, 1]);
    const wide = 2 * size;
    const red = (x: number, y: number) => texels[(y * wide + x) * 4] as number;
    for (let x = 4; x < wide - 4; x++) {
      const u = x / 2 - 0.25; // the output texel's centre in crop pixels (centres at integers)
      const expected = ((-1 + u / (size - 1) + 1) / 2) * 255;
      expect(Math.abs(red(x, 5) - expected), `x ${x}`).toBeLessThanOrEqual(0.5);
    }
    expect(red(0, 0)).toBe(0); // clamped edge: the first crop pixel's value
    // a step edge overshoots a little (the sharpening) and the clamp keeps it in range
    const step = new Float32Array(3 * size * size).map((_, i) => ((i % size) < size / 2 ? -1 : 1));
    const sharp = correctedTexels({ image: step, size, color: IDENTITY_COLOR }, [-1, 1]);
    expect(sharp[(3 * wide + 6) * 4]).toBe(0);
    expect(sharp[(3 * wide + 9) * 4]).toBe(255);
  });
});

describe('mask texture texels', () => {
  it('equal featherMask at every texel centre, bounding-box culling included', () => {
    const size = 128;
    const feather = 7.68;
    const texelToCrop = size / MASK_TEXTURE_SIZE;
    // An oval off-centre and partly outside the crop, so the box clamps at the border.
    const shifted = oval.map((v, i) => (i % 2 === 0 ? v + 40 : v - 10));
    for (const polygon of [oval, shifted, square]) {
      const texels = fillMaskTexels(new Uint8Array(MASK_TEXTURE_SIZE ** 2).fill(7), polygon, size, feather);
      let inside = 0;
      for (let row = 0; row < MASK_TEXTURE_SIZE; row++) {
        for (let column = 0; column < MASK_TEXTURE_SIZE; column++) {
          const expected = Math.round(featherMask((column + 0.5) * texelToCrop, (row + 0.5) * texelToCrop, polygon, feather, maskInset(size)) * 255);
          expect(texels[row * MASK_TEXTURE_SIZE + column], `texel ${column},${row}`).toBe(expected);
          if (expected === 255) inside++;
        }
      }
      expect(inside, 'texels fully inside the mask').toBeGreaterThan(50);
    }
  });
});

describe('flowReach', () => {
  const size = 16;
  const identity = () => identityFlow(size);

  it('is 0 for the identity flow and the largest per-axis shift otherwise', () => {
    expect(flowReach(identity(), size)).toBeCloseTo(0, 5);
    const warped = identity();
    warped[5 * size + 7] = (warped[5 * size + 7] as number) + (3 / size) * 2; // texel (7, 5) samples 3 px to the right
    warped[size * size + 9 * size + 2] = (warped[size * size + 9 * size + 2] as number) - (4.5 / size) * 2; // (2, 9) 4.5 px up
    expect(flowReach(warped, size)).toBeCloseTo(4.5, 5);
  });
});
