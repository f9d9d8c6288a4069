/**
 * What the blend does to pixels, deterministically: camera frames are captured once, then fed
 * in lockstep through stylize(MediaStreamTrackGenerator) (the insertable-streams path), and the
 * output canvas is compared with the input frame it came from.
 *
 * "Core" = the face oval shrunk to 70 % about its centroid (well inside the feather);
 * "outside" = every pixel more than 1 px outside all face ovals. Exaggeration α = 0, where the
 * contract makes the generator's flow the identity, so the mask outline is the landmark oval.
 */
import { PROJECT_CLIPS, SHARED_CLIPS, attachPng, call, expect, test } from './fixtures';

/** A pixel counts as changed when a channel moved by more than 2 levels. */
const MIN_CORE_CHANGED = 0.5;
/**
 * A pack that changes every face strongly even at α = 0 (colour and texture, not only shape):
 * these tests are about where the blend writes, not about the default pack, which may be subtle
 * (cartoon-narrow, the default pack until session 33, changed 47 % of talking-1's face core at α = 0).
 */
const STRONG_PACK = '/assets/packs/anime/';

for (const clip of [PROJECT_CLIPS.face, SHARED_CLIPS.talking[0]]) {
  test(`output differs inside the face and equals the input outside the mask (${clip})`, async ({ openPage }, testInfo) => {
    const page = await openPage(clip);
    await call(page, 'captureFrames', { count: 1 });
    // grade 0: the pack's colours stay in the face (its frame grade is the next test's)
    const run = await call(page, 'lockstep', { exaggeration: 0, pack: STRONG_PACK, grade: 0 });
    await attachPng(testInfo, 'output', run.png);
    const [result] = run.results;
    testInfo.annotations.push({ type: 'measured', description: JSON.stringify(result) });
    expect(result.faces).toHaveLength(1);
    const [face] = result.faces;
    expect(face.stylized).toBe(true);
    expect(face.corePixels).toBeGreaterThan(2000);
    expect(face.coreChangedFraction, 'share of changed pixels in the face core').toBeGreaterThanOrEqual(MIN_CORE_CHANGED);
    expect(result.outside.pixels).toBeGreaterThan(150_000);
    expect(result.outside.differing, 'pixels outside the mask that differ from the input').toBe(0);

    // Strength 0 (the demo's "before"): the whole frame is the input, bit for bit.
    const before = await call(page, 'lockstep', { exaggeration: 0, strength: 0, pack: STRONG_PACK });
    expect(before.results[0].faces).toHaveLength(1);
    expect(before.results[0].frameMaxDiff, 'largest difference at strength 0').toBe(0);
  });
}

test(`a pack's frame grade lays its tone and colours over the whole frame, and the face keeps the style's brightness (${SHARED_CLIPS.talking[0]})`, async ({ openPage }, testInfo) => {
  const page = await openPage(SHARED_CLIPS.talking[0]);
  await call(page, 'captureFrames', { count: 1 });
  const run = await call(page, 'lockstep', { exaggeration: 0, pack: STRONG_PACK });
  await attachPng(testInfo, 'output', run.png);
  const [result] = run.results;
  testInfo.annotations.push({ type: 'measured', description: JSON.stringify(result) });
  expect(result.faces).toHaveLength(1);
  expect(result.faces[0].coreChangedFraction, 'share of changed pixels in the face core').toBeGreaterThanOrEqual(MIN_CORE_CHANGED);
  expect(result.outside.changed / result.outside.pixels, 'share of pixels outside the face the grade moved by > 2 levels').toBeGreaterThan(0.3);
  // (3 levels: the video frame's RGB as the WebGL texture and as the harness's 2D canvas see it, measured 2.5)
  expect(result.outside.gradeLumaMaxDiff, 'outside the face: largest luminosity difference from sdk.gradePixel of the camera, 8-bit levels').toBeLessThanOrEqual(3);
  // anime draws faces pale (its tone: gain 0.80, offset +0.30): the seam match aims at the toned
  // camera picture, so the face keeps that brightness; without the grade it is matched back to the camera's.
  const ungraded = await call(page, 'lockstep', { exaggeration: 0, pack: STRONG_PACK, grade: 0 });
  testInfo.annotations.push({ type: 'measured', description: JSON.stringify({ graded: result.faces[0].coreLumaShift, ungraded: ungraded.results[0].faces[0].coreLumaShift }) });
  expect(result.faces[0].coreLumaShift - ungraded.results[0].faces[0].coreLumaShift, 'face core brighter with the grade than without, 8-bit levels').toBeGreaterThan(20);
});

for (const clip of [PROJECT_CLIPS.twoFaces, SHARED_CLIPS.twoFaces]) {
  test(`two faces give two stylized regions (${clip})`, async ({ openPage }, testInfo) => {
    const page = await openPage(clip);
    await call(page, 'captureFrames', { count: 1 });
    const run = await call(page, 'lockstep', { numFaces: 2, expectFaces: 2, exaggeration: 0 });
    await attachPng(testInfo, 'output', run.png);
    const [result] = run.results;
    testInfo.annotations.push({ type: 'measured', description: JSON.stringify(result) });
    expect(result.faces).toHaveLength(2);
    const [a, b] = result.faces;
    expect(a.id).not.toBe(b.id);
    expect(Math.hypot(a.centre.x - b.centre.x, a.centre.y - b.centre.y), 'distance between the two faces').toBeGreaterThan(80);
    for (const face of result.faces) {
      expect(face.stylized).toBe(true);
      expect(face.corePixels).toBeGreaterThan(500);
      expect(face.coreChangedFraction).toBeGreaterThanOrEqual(MIN_CORE_CHANGED);
    }
    expect(result.outside.differing, 'pixels outside both masks that differ from the input').toBe(0);
  });
}

for (const clip of [PROJECT_CLIPS.noFace, SHARED_CLIPS.noFace]) {
  test(`the no-face clip passes through unchanged, or only recoloured by a pack's grade (${clip})`, async ({ openPage }) => {
    const page = await openPage(clip);
    await call(page, 'captureFrames', { count: 12, intervalMs: 80 });
    const run = await call(page, 'lockstep', { mode: 'sequence' });
    expect(run.distinctInputs, 'different input frames').toBeGreaterThanOrEqual(6);
    expect(run.results).toHaveLength(12);
    for (const result of run.results) {
      expect(result.faces).toHaveLength(0);
      expect(result.frameMaxDiff, 'largest output/input difference').toBe(0);
    }
    // A pack with a frame grade keeps the style's tone and colours on the room while no face is
    // found (no flash when tracking drops a frame): every pixel is the grade of the camera's.
    const graded = await call(page, 'lockstep', { mode: 'sequence', pack: STRONG_PACK });
    for (const result of graded.results) {
      expect(result.faces).toHaveLength(0);
      // (the shared no-face clip is a phone screenshot, mostly white and black, which the grade keeps)
      expect(result.outside.changed / result.outside.pixels, 'share of pixels the grade moved by > 2 levels').toBeGreaterThan(0.05);
      expect(result.outside.gradeLumaMaxDiff, 'largest luminosity difference from sdk.gradePixel of the camera, 8-bit levels').toBeLessThanOrEqual(3);
    }
    expect(run.events).toEqual(['state:no-face']);
  });
}

// Frame grades (blend/grade.ts): the anime pack's colour with a paler, flatter tone (the 2D
// canvas multiplies, then adds), a darker one (the same on the inverted picture) and a harder one
// than the builder fits (the 2D canvas's filter).
const GRADE = { color: [0.5853, 0.4444, 0.5658], opacity: 0.5, tone: { gain: 0.9, offset: 0.15 } };
const DARK_GRADE = { color: [0.4611, 0.5287, 0.4521], opacity: 0.5, tone: { gain: 0.92, offset: -0.1 } };
const HARD_GRADE = { color: [0.4611, 0.5287, 0.4521], opacity: 0.5, tone: { gain: 1.2, offset: -0.15 } };

for (const [detail, grade] of [[0, undefined], [1, undefined], [1, GRADE], [1, DARK_GRADE], [1, HARD_GRADE]] as const) {
  test(`the 2D-canvas renderer composites what the WebGL renderer does${detail ? ', camera detail included' : ''}${grade ? `, with a frame grade (tone ${grade.tone.gain} / ${grade.tone.offset})` : ''}`, async ({ openPage }) => {
    // Both renderers get the same frame, landmarks, stylized crop and (non-identity) flow: the CPU
    // blend must reproduce the GL face pass up to GL's 8-bit filtering and blending precision
    // (with camera detail: the frame's mip levels, stored in 8 bits, against the CPU's float pyramid).
    const page = await openPage(PROJECT_CLIPS.face);
    await call(page, 'captureFrames', { count: 1 });
    const parity = await call(page, 'rendererParity', { detail, ...(grade ? { grade } : {}) });
    test.info().annotations.push({ type: 'measured', description: JSON.stringify(parity) });
    expect(parity.faces).toBe(1);
    expect(parity.changed, 'pixels the face blend changed').toBeGreaterThan(5000);
    // The 2D canvas draws a tone as grey fills (a harder one through its filter), each rounded to
    // 8 bits: measured 2 / 5 levels apart at most for the fills (0.5 % / 0.07 % of pixels over 1),
    // 6 for the filter (29 % over 1), and both renderers within 1.4 / 2.9 levels of the reference.
    const filtered = (grade?.tone.gain ?? 1) > 1;
    expect(parity.max, 'largest difference between the renderers, 8-bit levels').toBeLessThanOrEqual(!grade ? 3 : filtered ? 6 : 5);
    if (!filtered) expect(parity.overOne / parity.changed, 'share of changed pixels differing by more than 1 level').toBeLessThan(0.01);
    if (detail) expect(parity.detailChanged, 'pixels the camera detail changed by > 2 levels').toBeGreaterThan(500);
    if (grade) {
      // Outside the face every pixel changes (the grade covers the frame); the colour keeps the toned luminosity.
      expect(parity.changed, 'pixels changed with a grade').toBeGreaterThan(0.9 * parity.pixels);
      expect(parity.gradeMax, 'both renderers against sdk.gradePixel, 8-bit levels').toBeLessThanOrEqual(filtered ? 3 : 2);
      expect(parity.lumaMax, 'luminosity change by the grade\'s colour after its tone, 8-bit levels').toBeLessThanOrEqual(filtered ? 3 : 2);
    }
  });
}
