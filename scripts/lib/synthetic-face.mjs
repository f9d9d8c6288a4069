// A synthetic head, rendered in software from MediaPipe's canonical face mesh (the 468-vertex
// model with UVs that ships inside @mediapipe/face_mesh's geometry pipeline metadata), so the
// project can make its own test and demo clips without any photograph: a shaded face with a
// procedural texture (eyes, brows, lips) painted in UV space, plus ellipsoids for the back of the
// head, hair, ears, neck and shoulders, in front of a plain room wall. No data from anywhere else.
// The mesh is Google's (Apache-2.0, see models/mediapipe/NOTICE.md); it is read from the npm
// package at render time, not copied.
//
//   const scene = new SyntheticScene({ width: 640, height: 480, faces: [...] });
//   const rgb = scene.render(tSeconds);   // Uint8Array, width*height*3
import { packedAsset } from '../mediapipe-assets/packed-assets.mjs';

/** @returns {{ positions: Float32Array, uvs: Float32Array, triangles: Uint32Array }} */
export function canonicalFaceMesh() {
  const metadata = protoFields(packedAsset('geometry_pipeline_metadata_landmarks.binarypb'));
  const mesh = protoFields(metadata.find(([field]) => field === 1)[1]); // canonical_mesh (Mesh3d)
  const vertexBuffer = mesh.filter(([field]) => field === 3).map(([, value]) => value); // x y z u v
  const indexBuffer = mesh.filter(([field]) => field === 4).map(([, value]) => value);
  const count = vertexBuffer.length / 5;
  const positions = new Float32Array(count * 3);
  const uvs = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    positions.set(vertexBuffer.slice(5 * i, 5 * i + 3), 3 * i);
    uvs.set(vertexBuffer.slice(5 * i + 3, 5 * i + 5), 2 * i);
  }
  return { positions, uvs, triangles: Uint32Array.from(indexBuffer) };
}

/** Minimal protobuf reader: [fieldNumber, value] pairs (varint, fixed32 float, bytes). */
function protoFields(buffer) {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const out = [];
  let pos = 0;
  const varint = () => {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      byte = buffer[pos++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  while (pos < buffer.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.push([field, varint()]);
    else if (wire === 5) {
      out.push([field, view.getFloat32(pos, true)]);
      pos += 4;
    } else if (wire === 2) {
      const length = varint();
      out.push([field, buffer.subarray(pos, pos + length)]);
      pos += length;
    } else throw new Error(`protobuf wire type ${wire} not supported`);
  }
  return out;
}

// Face-mesh contours (MediaPipe FACEMESH_* connection sets, as ordered loops / polylines).
const RIGHT_EYE = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7];
const LEFT_EYE = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249];
const RIGHT_UPPER_LID = [33, 246, 161, 160, 159, 158, 157, 173, 133];
const LEFT_UPPER_LID = [263, 466, 388, 387, 386, 385, 384, 398, 362];
const RIGHT_BROW = [46, 53, 52, 65, 55, 107, 66, 105, 63, 70];
const LEFT_BROW = [276, 283, 282, 295, 285, 336, 296, 334, 293, 300];
const LIPS_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146];
const LIPS_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95];
const NOSTRILS = [
  [79, 0.012],
  [309, 0.012],
];

const SKIN = [0.86, 0.64, 0.52];
const HAIR = [0.2, 0.13, 0.09];

/** Procedural face texture in the canonical mesh's UV space. */
class FaceTexture {
  constructor(uvs, { skin = SKIN, iris = [0.33, 0.22, 0.12], lips = [0.72, 0.36, 0.36], brows = [0.25, 0.16, 0.1] } = {}) {
    const poly = (indices) => indices.map((i) => [uvs[2 * i], uvs[2 * i + 1]]);
    this.eyes = [poly(RIGHT_EYE), poly(LEFT_EYE)];
    this.lids = [poly(RIGHT_UPPER_LID), poly(LEFT_UPPER_LID)];
    this.brows = [poly(RIGHT_BROW), poly(LEFT_BROW)];
    this.lipsOuter = poly(LIPS_OUTER);
    this.lipsInner = poly(LIPS_INNER);
    this.nostrils = NOSTRILS.map(([i, r]) => [uvs[2 * i], uvs[2 * i + 1] + 0.004, r]);
    this.eyeCentres = this.eyes.map((p) => [p.reduce((a, q) => a + q[0], 0) / p.length, p.reduce((a, q) => a + q[1], 0) / p.length]);
    Object.assign(this, { skin, iris, lips, browColour: brows });
  }

  /** Bakes the texture into a size × size raster, sampled bilinearly by `lookup`. */
  bake(size = 512) {
    const raster = new Float32Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) raster.set(this.sample((x + 0.5) / size, (y + 0.5) / size), 3 * (y * size + x));
    this.raster = raster;
    this.size = size;
    return this;
  }

  lookup(u, v, out) {
    const n = this.size;
    const x = Math.min(n - 1.001, Math.max(0, u * n - 0.5));
    const y = Math.min(n - 1.001, Math.max(0, v * n - 0.5));
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const r = this.raster;
    for (let ch = 0; ch < 3; ch++) {
      const a = r[3 * (y0 * n + x0) + ch];
      const b = r[3 * (y0 * n + x0 + 1) + ch];
      const c = r[3 * ((y0 + 1) * n + x0) + ch];
      const d = r[3 * ((y0 + 1) * n + x0 + 1) + ch];
      out[ch] = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
    }
    return out;
  }

  /** Colour at (u, v). */
  sample(u, v) {
    for (let e = 0; e < 2; e++) {
      if (inside(this.eyes[e], u, v)) {
        const [cu, cv] = this.eyeCentres[e];
        const d = Math.hypot(u - cu, (v - cv) * 1.1);
        if (d < 0.01) return [0.05, 0.04, 0.04];
        if (d < 0.024) return this.iris.map((c) => c * (0.8 + 0.4 * (d / 0.024)));
        return [0.93, 0.9, 0.87];
      }
      if (polylineDistance(this.lids[e], u, v) < 0.0035) return [0.12, 0.08, 0.07];
      if (inside(this.brows[e], u, v) || polylineDistance(this.brows[e], u, v) < 0.003) return this.browColour;
    }
    if (inside(this.lipsInner, u, v)) return [0.3, 0.08, 0.1];
    if (inside(this.lipsOuter, u, v)) return this.lips;
    for (const [nu, nv, r] of this.nostrils) {
      const d = Math.hypot(u - nu, (v - nv) * 1.6);
      if (d < r) return this.skin.map((c) => c * (0.45 + 0.55 * (d / r)));
    }
    // Slightly warmer cheeks.
    const cheek = Math.min(Math.hypot(u - 0.27, v - 0.55), Math.hypot(u - 0.73, v - 0.55));
    const warm = Math.max(0, 1 - cheek / 0.12) * 0.06;
    return [this.skin[0] + warm * 0.3, this.skin[1] - warm * 0.5, this.skin[2] - warm * 0.4];
  }
}

function inside(poly, x, y) {
  let result = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) result = !result;
  }
  return result;
}

function polylineDistance(points, x, y) {
  let best = Infinity;
  for (let i = 0; i + 1 < points.length; i++) {
    const [ax, ay] = points[i];
    const [bx, by] = points[i + 1];
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
    best = Math.min(best, Math.hypot(x - ax - t * dx, y - ay - t * dy));
  }
  return best;
}

/** Rotation matrix (row-major 3×3) from yaw (about y), pitch (about x), roll (about z), radians. */
function rotation(yaw, pitch, roll) {
  const [cy, sy, cp, sp, cr, sr] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch), Math.cos(roll), Math.sin(roll)];
  const Ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const Rx = [1, 0, 0, 0, cp, -sp, 0, sp, cp];
  const Rz = [cr, -sr, 0, sr, cr, 0, 0, 0, 1];
  return mul3(Rz, mul3(Ry, Rx));
}

function mul3(a, b) {
  const out = new Array(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[3 * r + c] += a[3 * r + k] * b[3 * k + c];
  return out;
}

const apply = (m, [x, y, z]) => [m[0] * x + m[1] * y + m[2] * z, m[3] * x + m[4] * y + m[5] * z, m[6] * x + m[7] * y + m[8] * z];
const applyT = (m, [x, y, z]) => [m[0] * x + m[3] * y + m[6] * z, m[1] * x + m[4] * y + m[7] * z, m[2] * x + m[5] * y + m[8] * z];
const normalize = ([x, y, z]) => {
  const n = Math.hypot(x, y, z) || 1;
  return [x / n, y / n, z / n];
};

// Head parts as ellipsoids in canonical-mesh units (cm; y up, z towards the camera).
const HEAD_PARTS = [
  { centre: [0, 0.5, -3.2], radii: [7.4, 9.6, 8.4], colour: SKIN },
  { centre: [-7.3, 0.2, -2.8], radii: [1.0, 2.8, 1.8], colour: SKIN.map((c) => c * 0.95) },
  { centre: [7.3, 0.2, -2.8], radii: [1.0, 2.8, 1.8], colour: SKIN.map((c) => c * 0.95) },
  { centre: [0, -10.5, -3.5], radii: [4.8, 7, 4.8], colour: SKIN.map((c) => c * 0.9) },
  // Hair: a cap over the skull, cut off above the forehead and in front of the ears.
  { centre: [0, 2.2, -3.4], radii: [8.1, 9.4, 9.0], colour: HAIR, keep: ([, y, z]) => y > (z >= 0 ? 6.8 + 0.2 * z : Math.max(-3, 6.8 + 1.2 * z)) },
];
const FOCAL = 900; // px at supersample 1; the camera is DISTANCE cm from the faces
const DISTANCE = 60;
const TORSO = { centre: [0, -27, -6], radii: [19, 11, 9], colour: [0.24, 0.36, 0.55] };

/** Mesh, baked texture and normals: the same for every scene, made once per process. */
let shared;

/**
 * A scene of one or more heads. Each face: { x, y, scale, yaw, pitch, roll, mouth } as
 * functions of time t (seconds) or constants; x, y in output pixels (face centre), scale in
 * pixels per cm at the face plane.
 */
export class SyntheticScene {
  constructor({ width = 640, height = 480, faces = [], supersample = 2, background = 'room' } = {}) {
    Object.assign(this, { width, height, faces, supersample, background });
    shared ??= (() => {
      const mesh = canonicalFaceMesh();
      return { mesh, texture: new FaceTexture(mesh.uvs).bake(), normals: vertexNormals(mesh) };
    })();
    Object.assign(this, shared);
    this.texel = [0, 0, 0];
  }

  /** Renders the frame at time t (seconds): RGB bytes, width × height × 3. */
  render(t) {
    const s = this.supersample;
    const W = this.width * s;
    const H = this.height * s;
    const colour = new Float32Array(W * H * 3);
    const depth = new Float32Array(W * H).fill(Infinity);
    if (this.background === 'moving' || !this.backgroundCache) {
      this.backgroundCache = new Float32Array(W * H * 3);
      this.paintBackground(this.backgroundCache, W, H, t);
    }
    colour.set(this.backgroundCache);
    const camera = { W, H, focal: FOCAL * s, distance: DISTANCE };
    for (const face of this.faces) {
      const pose = this.pose(face, t, s);
      this.drawTorso(colour, depth, camera, pose);
      this.drawHeadParts(colour, depth, camera, pose);
      this.drawFace(colour, depth, camera, pose);
    }
    return downsample(colour, W, H, s);
  }

  /** The 468 face-mesh points of every face at time t, in output pixels (what a perfect tracker would report). */
  landmarks(t) {
    const camera = { W: this.width, H: this.height, focal: FOCAL, distance: DISTANCE };
    return this.faces.map((face) => {
      const screen = this.projectMesh(camera, this.pose(face, t, 1));
      return Array.from({ length: screen.length / 3 }, (_, i) => ({ x: screen[3 * i], y: screen[3 * i + 1] }));
    });
  }

  pose(face, t, s) {
    const value = (v) => (typeof v === 'function' ? v(t) : v ?? 0);
    const focal = FOCAL * s;
    return {
      R: rotation(value(face.yaw), value(face.pitch), value(face.roll)),
      // The head centre in camera space (cm), from its pixel position.
      T: [((value(face.x) * s - (this.width * s) / 2) / focal) * DISTANCE, (-(value(face.y) * s - (this.height * s) / 2) / focal) * DISTANCE, 0],
      size: (value(face.scale) * s * DISTANCE) / focal, // world scale so that 1 mesh cm ≈ `scale` px
      mouth: value(face.mouth),
    };
  }

  paintBackground(colour, W, H, t) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = 3 * (y * W + x);
        const v = y / H;
        const u = x / W;
        let c = [0.78 - 0.18 * v, 0.76 - 0.16 * v, 0.7 - 0.12 * v]; // wall, lit from above
        if (this.background === 'room') {
          // A door frame and a picture on the wall: structure without faces.
          if (u > 0.06 && u < 0.2 && v > 0.18) c = u < 0.075 || u > 0.185 || v < 0.2 ? [0.45, 0.35, 0.28] : [0.62, 0.52, 0.42];
          if (u > 0.72 && u < 0.9 && v > 0.12 && v < 0.34) c = u < 0.73 || u > 0.89 || v < 0.13 || v > 0.33 ? [0.2, 0.2, 0.22] : [0.35 + 0.2 * u, 0.5, 0.45 + 0.1 * Math.sin(12 * v)];
          if (v > 0.88) c = [0.42, 0.32, 0.24]; // floor
        } else if (this.background === 'moving') {
          // Shapes that move, so a no-face clip still changes every frame.
          const cx = 0.5 + 0.3 * Math.sin(t * 2.1);
          const cy = 0.5 + 0.25 * Math.cos(t * 1.7);
          if (Math.hypot(u - cx, (v - cy) * 0.75) < 0.12) c = [0.2, 0.45, 0.7];
          if (Math.abs(u - 0.5 - 0.35 * Math.cos(t)) < 0.05 && v > 0.2 && v < 0.8) c = [0.75, 0.4, 0.2];
        }
        colour[i] = c[0];
        colour[i + 1] = c[1];
        colour[i + 2] = c[2];
      }
    }
  }

  /** World point of a head-space point. */
  toCamera(pose, p, distance) {
    const [x, y, z] = apply(pose.R, p);
    return [pose.T[0] + x * pose.size, pose.T[1] + y * pose.size, pose.T[2] + z * pose.size - distance];
  }

  /** Screen x, y and depth of every mesh vertex. */
  projectMesh({ W, H, focal, distance }, pose) {
    const { positions } = this.mesh;
    const n = positions.length / 3;
    const screen = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const p = openMouth([positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]], pose.mouth);
      const [cx, cy, cz] = this.toCamera(pose, p, distance);
      screen[3 * i] = W / 2 + (focal * cx) / -cz;
      screen[3 * i + 1] = H / 2 - (focal * cy) / -cz;
      screen[3 * i + 2] = -cz;
    }
    return screen;
  }

  drawFace(colour, depth, camera, pose) {
    const { W, H } = camera;
    const { uvs, triangles } = this.mesh;
    const screen = this.projectMesh(camera, pose);
    const n = screen.length / 3;
    const normals = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) normals.set(apply(pose.R, [this.normals[3 * i], this.normals[3 * i + 1], this.normals[3 * i + 2]]), 3 * i);
    for (let t = 0; t < triangles.length; t += 3) {
      const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]];
      const [ax, ay, bx, by, cx, cy] = [screen[3 * a], screen[3 * a + 1], screen[3 * b], screen[3 * b + 1], screen[3 * c], screen[3 * c + 1]];
      const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
      if (area === 0) continue;
      const minX = Math.max(0, Math.floor(Math.min(ax, bx, cx)));
      const maxX = Math.min(W - 1, Math.ceil(Math.max(ax, bx, cx)));
      const minY = Math.max(0, Math.floor(Math.min(ay, by, cy)));
      const maxY = Math.min(H - 1, Math.ceil(Math.max(ay, by, cy)));
      for (let y = minY; y <= maxY; y++) {
        for (let x = minX; x <= maxX; x++) {
          const px = x + 0.5;
          const py = y + 0.5;
          const w0 = ((bx - px) * (cy - py) - (cx - px) * (by - py)) / area;
          const w1 = ((cx - px) * (ay - py) - (ax - px) * (cy - py)) / area;
          const w2 = 1 - w0 - w1;
          if (w0 < 0 || w1 < 0 || w2 < 0) continue;
          // Perspective-correct interpolation.
          const iz = w0 / screen[3 * a + 2] + w1 / screen[3 * b + 2] + w2 / screen[3 * c + 2];
          const z = 1 / iz;
          const k = y * W + x;
          if (z - 0.8 >= depth[k]) continue; // the mesh wins over the head ellipsoid within 8 mm
          const p0 = (w0 / screen[3 * a + 2]) * z;
          const p1 = (w1 / screen[3 * b + 2]) * z;
          const p2 = (w2 / screen[3 * c + 2]) * z;
          const u = p0 * uvs[2 * a] + p1 * uvs[2 * b] + p2 * uvs[2 * c];
          const v = p0 * uvs[2 * a + 1] + p1 * uvs[2 * b + 1] + p2 * uvs[2 * c + 1];
          const normal = normalize([0, 1, 2].map((d) => p0 * normals[3 * a + d] + p1 * normals[3 * b + d] + p2 * normals[3 * c + d]));
          const base = this.texture.lookup(u, v, this.texel);
          depth[k] = z;
          colour.set(shade(base, normal), 3 * k);
        }
      }
    }
  }

  drawHeadParts(colour, depth, camera, pose) {
    for (const part of HEAD_PARTS) this.drawEllipsoid(colour, depth, camera, pose, part);
  }

  drawTorso(colour, depth, camera, pose) {
    // The torso follows the head's position but not its rotation.
    this.drawEllipsoid(colour, depth, camera, { ...pose, R: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, TORSO);
  }

  /** Ray-casts an ellipsoid in head space; `keep(p)` may cut parts of it away. */
  drawEllipsoid(colour, depth, { W, H, focal, distance }, pose, { centre, radii, colour: base, keep }) {
    // Screen bounding box from the bounding sphere.
    const c = this.toCamera(pose, centre, distance);
    const r = Math.max(...radii) * pose.size;
    const sx = W / 2 + (focal * c[0]) / -c[2];
    const sy = H / 2 - (focal * c[1]) / -c[2];
    const sr = (focal * r) / (-c[2] - r) + 2;
    const minX = Math.max(0, Math.floor(sx - sr));
    const maxX = Math.min(W - 1, Math.ceil(sx + sr));
    const minY = Math.max(0, Math.floor(sy - sr));
    const maxY = Math.min(H - 1, Math.ceil(sy + sr));
    // Ray origin (camera at 0) in head space.
    const toHead = (p) => applyT(pose.R, [(p[0] - pose.T[0]) / pose.size, (p[1] - pose.T[1]) / pose.size, (p[2] - pose.T[2] + distance) / pose.size]);
    const origin = toHead([0, 0, 0]);
    const o = [(origin[0] - centre[0]) / radii[0], (origin[1] - centre[1]) / radii[1], (origin[2] - centre[2]) / radii[2]];
    const R = pose.R;
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        // Ray direction (camera z = -1) in head space, then in the unit-sphere space of the ellipsoid.
        const ex = (x + 0.5 - W / 2) / focal;
        const ey = -(y + 0.5 - H / 2) / focal;
        const d0 = (R[0] * ex + R[3] * ey - R[6]) / pose.size / radii[0];
        const d1 = (R[1] * ex + R[4] * ey - R[7]) / pose.size / radii[1];
        const d2 = (R[2] * ex + R[5] * ey - R[8]) / pose.size / radii[2];
        const A = d0 * d0 + d1 * d1 + d2 * d2;
        const B = 2 * (o[0] * d0 + o[1] * d1 + o[2] * d2);
        const C = o[0] * o[0] + o[1] * o[1] + o[2] * o[2] - 1;
        const disc = B * B - 4 * A * C;
        if (disc < 0) continue;
        const k = y * W + x;
        for (const sign of [-1, 1]) {
          const t = (-B + sign * Math.sqrt(disc)) / (2 * A);
          if (t <= 0) continue;
          if (t >= depth[k]) break; // t is the camera-space depth (the ray's z step is -1)
          const l0 = o[0] + t * d0;
          const l1 = o[1] + t * d1;
          const l2 = o[2] + t * d2;
          if (keep && !keep([centre[0] + l0 * radii[0], centre[1] + l1 * radii[1], centre[2] + l2 * radii[2]])) continue; // cut away: try the far side
          if (sign > 0) break; // inside surfaces are not drawn
          const normal = apply(R, normalize([l0 / radii[0], l1 / radii[1], l2 / radii[2]]));
          depth[k] = t;
          colour.set(shade(base, normal), 3 * k);
          break;
        }
      }
    }
  }
}

/** Lambert + ambient + a little specular, light from the upper left front. */
function shade(base, normal) {
  const light = normalize([-0.4, 0.5, 0.8]);
  const ndl = Math.max(0, normal[0] * light[0] + normal[1] * light[1] + normal[2] * light[2]);
  const half = normalize([light[0], light[1], light[2] + 1]);
  const spec = Math.max(0, normal[0] * half[0] + normal[1] * half[1] + normal[2] * half[2]) ** 24 * 0.12;
  const k = 0.35 + 0.7 * ndl;
  return [base[0] * k + spec, base[1] * k + spec, base[2] * k + spec];
}

/** Opens the jaw: vertices below the mouth move down, more towards the chin. */
function openMouth([x, y, z], amount) {
  if (!amount) return [x, y, z];
  const mouthY = -3.6;
  if (y >= mouthY + 0.15) return [x, y, z];
  const jaw = Math.min(1, (mouthY + 0.15 - y) / 0.5) * Math.max(0, 1 - Math.abs(x) / 7.5);
  return [x, y - amount * jaw, z - 0.25 * amount * jaw];
}

function vertexNormals({ positions, triangles }) {
  const normals = new Float32Array(positions.length);
  for (let t = 0; t < triangles.length; t += 3) {
    const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]];
    const p = (i) => [positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]];
    const [pa, pb, pc] = [p(a), p(b), p(c)];
    const e1 = [pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]];
    const e2 = [pc[0] - pa[0], pc[1] - pa[1], pc[2] - pa[2]];
    const n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
    for (const i of [a, b, c]) for (let d = 0; d < 3; d++) normals[3 * i + d] += n[d];
  }
  // Orient outwards (towards +z on the face front).
  let sum = 0;
  for (let i = 0; i < normals.length; i += 3) sum += normals[i + 2];
  const flip = sum < 0 ? -1 : 1;
  for (let i = 0; i < normals.length; i += 3) {
    const n = normalize([normals[i], normals[i + 1], normals[i + 2]]);
    normals[i] = flip * n[0];
    normals[i + 1] = flip * n[1];
    normals[i + 2] = flip * n[2];
  }
  return normals;
}

function downsample(colour, W, H, s) {
  const w = W / s;
  const h = H / s;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let sum = 0;
        for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) sum += colour[3 * ((y * s + dy) * W + x * s + dx) + ch];
        out[3 * (y * w + x) + ch] = Math.max(0, Math.min(255, Math.round((sum / (s * s)) * 255)));
      }
    }
  }
  return out;
}
