import { describe, expect, it } from 'vitest';
import { TrackingSchedule } from '../src/tracking';
import { OneEuroFilter, PREDICTION_DAMPING, smoothingFactor } from '../src/tracking/one-euro';

// Deterministic pseudo-random jitter (no Math.random in tests).
function jitter(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return (x - Math.floor(x) - 0.5) * 2;
}

const std = (values: number[]) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
};

describe('OneEuroFilter', () => {
  it('passes the first sample through unchanged', () => {
    const filter = new OneEuroFilter();
    expect(Array.from(filter.filter([3, 4], 0))).toEqual([3, 4]);
  });

  it('smoothing factor follows α = r / (r + 1), r = 2π·fc·dt', () => {
    expect(smoothingFactor(1, 1 / (2 * Math.PI))).toBeCloseTo(0.5, 12);
    expect(smoothingFactor(1000, 1)).toBeGreaterThan(0.999);
  });

  it('removes most jitter from a still point', () => {
    const filter = new OneEuroFilter({ minCutoff: 1, beta: 0.02, derivativeCutoff: 1 });
    const raw: number[] = [];
    const smoothed: number[] = [];
    for (let i = 0; i < 300; i++) {
      const x = 100 + jitter(i);
      raw.push(x);
      smoothed.push(filter.filter([x], i / 30)[0] as number);
    }
    expect(std(smoothed.slice(30))).toBeLessThan(std(raw.slice(30)) * 0.35);
  });

  it('follows fast motion with little lag (speed raises the cutoff)', () => {
    const adaptive = new OneEuroFilter({ minCutoff: 1, beta: 0.02, derivativeCutoff: 1 });
    const fixed = new OneEuroFilter({ minCutoff: 1, beta: 0, derivativeCutoff: 1 });
    let adaptiveLag = 0;
    let fixedLag = 0;
    for (let i = 0; i < 60; i++) {
      const x = i * 20; // 600 px/s at 30 fps
      adaptiveLag = x - (adaptive.filter([x], i / 30)[0] as number);
      fixedLag = x - (fixed.filter([x], i / 30)[0] as number);
    }
    expect(adaptiveLag).toBeLessThan(fixedLag / 4);
    expect(adaptiveLag).toBeLessThan(20); // under one frame of motion
  });

  it('filters each value of the vector independently', () => {
    const filter = new OneEuroFilter();
    filter.filter([0, 0], 0);
    const out = filter.filter([10, 0], 1 / 30);
    expect(out[1]).toBe(0);
    expect(out[0]).toBeGreaterThan(0);
    expect(out[0]).toBeLessThan(10);
  });

  it('restarts when the timestamp does not advance or the size changes', () => {
    const filter = new OneEuroFilter();
    filter.filter([0], 1);
    expect(Array.from(filter.filter([5], 1))).toEqual([5]);
    expect(Array.from(filter.filter([1, 2], 2))).toEqual([1, 2]);
  });

  it('predicts ahead with the damped velocity of its last two samples, without changing its state', () => {
    const filter = new OneEuroFilter({ minCutoff: 1, beta: 0.02, derivativeCutoff: 1 });
    expect(filter.predict(0)).toBeUndefined();
    // A point moving at 300 px/s, sampled at 30 fps for a second.
    let before: Float64Array<ArrayBufferLike> = new Float64Array(1);
    let last: Float64Array<ArrayBufferLike> = new Float64Array(1);
    for (let i = 0; i <= 30; i++) [before, last] = [last, filter.filter([300 * (i / 30)], i / 30)];
    const ahead = filter.predict(31 / 30)?.[0] as number;
    expect(filter.predict(31 / 30)?.[0]).toBe(ahead); // predicting twice gives the same: no state change
    const held = last[0] as number;
    expect(ahead - held).toBeCloseTo(PREDICTION_DAMPING * (held - (before[0] as number)), 9);
    const next = filter.filter([310], 31 / 30)[0] as number; // what tracking that frame gives
    // Ahead in the direction of motion, closer to it than holding the last landmarks still.
    expect(ahead).toBeGreaterThan(held);
    expect(Math.abs(ahead - next)).toBeLessThan(Math.abs(held - next));
  });

  it('stops predicting motion soon after the head stops (no overshoot from a lagging derivative)', () => {
    const filter = new OneEuroFilter({ minCutoff: 1, beta: 0.02, derivativeCutoff: 1 });
    for (let i = 0; i <= 30; i++) filter.filter([300 * (i / 30)], i / 30);
    let still: Float64Array<ArrayBufferLike> = new Float64Array(1);
    for (let i = 31; i <= 36; i++) still = filter.filter([300], i / 30); // stopped at 300 px
    // Three frames ahead (a slow landmarker): extrapolating with the filtered derivative (1 Hz
    // cutoff) still went 16 px past the stopped head here; the last two samples' velocity does not.
    const ahead = filter.predict(39 / 30)?.[0] as number;
    expect(Math.abs((still[0] as number) - 300)).toBeLessThan(0.5);
    expect(Math.abs(ahead - 300)).toBeLessThan(1);
  });
});

describe('TrackingSchedule', () => {
  const at = (timestampMs: number, skipped = 0) => ({ timestampMs, skipped });

  it('tracks every frame while no frame is dropped', () => {
    const schedule = new TrackingSchedule('adaptive');
    for (let i = 0; i < 30; i++) expect(schedule.shouldTrack(at(i * 33), 1)).toBe(true);
  });

  it('alternates while frames are dropped, never predicting twice in a row, and recovers after 2 s', () => {
    const schedule = new TrackingSchedule('adaptive');
    const decisions = [0, 1, 2, 3, 4, 5].map((i) => schedule.shouldTrack(at(i * 66, 1), 1));
    expect(decisions).toEqual([false, true, false, true, false, true]);
    expect(schedule.shouldTrack(at(400), 1)).toBe(false); // within 2 s of the last drop
    expect(schedule.shouldTrack(at(2400), 1)).toBe(true);
    expect(schedule.shouldTrack(at(2433), 1)).toBe(true);
  });

  it('alternates too while a later stage drops work (the models behind the camera)', () => {
    const schedule = new TrackingSchedule('adaptive');
    expect(schedule.shouldTrack(at(0), 1, true)).toBe(false);
    expect([33, 66, 99, 132].map((t) => schedule.shouldTrack(at(t), 1))).toEqual([true, false, true, false]);
    expect(schedule.shouldTrack(at(2100), 1)).toBe(true);
    expect(schedule.shouldTrack(at(2133), 1)).toBe(true);
  });

  it('always tracks without faces (new faces need the landmarker) and in every-frame mode', () => {
    const adaptive = new TrackingSchedule('adaptive');
    for (let i = 0; i < 5; i++) expect(adaptive.shouldTrack(at(i * 66, 1), 0)).toBe(true);
    const everyFrame = new TrackingSchedule('every-frame');
    for (let i = 0; i < 5; i++) expect(everyFrame.shouldTrack(at(i * 66, 1), 1)).toBe(true);
  });
});
