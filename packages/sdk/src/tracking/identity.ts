import type { Point } from '../alignment/ffhq';

export interface TrackCentre {
  readonly id: number;
  readonly centre: Point;
}

/**
 * Gives each detected face the id of the nearest previous face (greedy, closest pairs first),
 * or a new id when nothing was within `maxDistance`. Keeps smoothing and stylized results
 * attached to the same person across frames.
 */
export function assignTrackIds(
  previous: readonly TrackCentre[],
  centres: readonly Point[],
  maxDistance: number,
  nextId: () => number,
): number[] {
  const pairs: { distance: number; face: number; track: number }[] = [];
  centres.forEach((c, face) =>
    previous.forEach((p, track) => {
      const distance = Math.hypot(c.x - p.centre.x, c.y - p.centre.y);
      if (distance <= maxDistance) pairs.push({ distance, face, track });
    }),
  );
  pairs.sort((a, b) => a.distance - b.distance);
  const ids = new Array<number | undefined>(centres.length).fill(undefined);
  const usedTracks = new Set<number>();
  for (const { face, track } of pairs) {
    if (ids[face] !== undefined || usedTracks.has(track)) continue;
    ids[face] = (previous[track] as TrackCentre).id;
    usedTracks.add(track);
  }
  return ids.map((id) => id ?? nextId());
}
