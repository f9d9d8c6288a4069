import { describe, expect, it } from 'vitest';
import { SyntheticScene, canonicalFaceMesh } from './synthetic-face.mjs';

describe('synthetic face', () => {
  it('reads the canonical face mesh from @mediapipe/face_mesh', () => {
    const mesh = canonicalFaceMesh();
    expect(mesh.positions.length).toBe(468 * 3);
    expect(mesh.uvs.length).toBe(468 * 2);
    expect(mesh.triangles.length).toBe(898 * 3);
    expect(Math.max(...mesh.triangles)).toBe(467);
  });

  it('projects landmarks where the face is drawn, deterministically', () => {
    const face = { x: 320, y: 240, scale: 10, yaw: 0, pitch: 0 };
    const scene = new SyntheticScene({ width: 640, height: 480, supersample: 1, faces: [face] });
    const [landmarks] = scene.landmarks(0);
    expect(landmarks).toHaveLength(468);
    const noseTip = landmarks[1];
    expect(Math.abs(noseTip.x - 320)).toBeLessThan(1);
    // Mesh y is up: the nose tip (y = -1.1 cm, z = 7.5 cm) sits a little below the head centre.
    expect(noseTip.y).toBeGreaterThan(240);
    expect(noseTip.y).toBeLessThan(260);
    // The eyes are on either side of the nose, above it.
    expect(landmarks[33].x).toBeLessThan(noseTip.x);
    expect(landmarks[263].x).toBeGreaterThan(noseTip.x);
    expect(landmarks[33].y).toBeLessThan(noseTip.y);

    const a = scene.render(0);
    const b = new SyntheticScene({ width: 640, height: 480, supersample: 1, faces: [face] }).render(0);
    expect(a.length).toBe(640 * 480 * 3);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    const background = new SyntheticScene({ width: 640, height: 480, supersample: 1, faces: [] }).render(0);
    const at = (img, p) => [0, 1, 2].map((c) => img[3 * (Math.round(p.y) * 640 + Math.round(p.x)) + c]);
    expect(at(a, noseTip)).not.toEqual(at(background, noseTip));
  }, 60_000);
});
