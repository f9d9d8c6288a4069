import { describe, expect, it } from 'vitest';
import { percentile, StatsRecorder } from '../src/frames/stats';
import { FACE_OVAL_INDICES } from '../src/tracking/face-oval';
import { assignTrackIds } from '../src/tracking/identity';

describe('assignTrackIds (identity by nearest centre)', () => {
  const counter = () => {
    let id = 100;
    return () => ++id;
  };

  it('keeps ids for faces that moved a little, even if detection order swapped', () => {
    const previous = [
      { id: 1, centre: { x: 100, y: 100 } },
      { id: 2, centre: { x: 400, y: 100 } },
    ];
    expect(assignTrackIds(previous, [{ x: 405, y: 98 }, { x: 97, y: 104 }], 150, counter())).toEqual([2, 1]);
  });

  it('gives new ids to faces far from every track and never reuses one id twice', () => {
    const previous = [{ id: 1, centre: { x: 100, y: 100 } }];
    expect(assignTrackIds(previous, [{ x: 110, y: 100 }, { x: 105, y: 100 }, { x: 600, y: 400 }], 150, counter())).toEqual([
      101, 1, 102,
    ]);
  });
});

describe('face oval', () => {
  it('is the 36-point FACEMESH_FACE_OVAL loop without repeats', () => {
    expect(FACE_OVAL_INDICES).toHaveLength(36);
    expect(new Set(FACE_OVAL_INDICES).size).toBe(36);
    expect(Math.max(...FACE_OVAL_INDICES)).toBeLessThan(468);
  });
});

describe('stats', () => {
  it('nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.95)).toBe(95);
    expect(percentile([], 0.5)).toBe(0);
  });

  it('reports timings, rates and drops', () => {
    let now = 0;
    const stats = new StatsRecorder(10, () => now);
    for (let i = 0; i < 31; i++) {
      stats.time('tracking', i % 2 === 0 ? 10 : 20);
      stats.tick('displayed');
      if (i % 2 === 0) stats.tick('stylized');
      now += 1000 / 30;
    }
    now -= 1000 / 30;
    stats.drop('stylize');
    const snapshot = stats.snapshot();
    expect(snapshot.stages.tracking?.samples).toBe(10);
    expect(snapshot.stages.tracking?.p95).toBe(20);
    expect(snapshot.fps.displayed).toBeCloseTo(30, 5);
    expect(snapshot.fps.stylized).toBeCloseTo(15, 5);
    expect(snapshot.dropped).toEqual({ stylize: 1 });
  });
});
