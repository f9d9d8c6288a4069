"""Test / demo media made by the base generator itself: a webcam-like 640x480 clip of generated
faces turning their heads, moving and morphing into one another, so a fresh clone (without
../shared) has real-looking faces for the end-to-end tests, the benchmark and the demo.

No photo and no person of the training data appears: every face is a composite, the mean code
(W+ and features) of COMPOSITE held-out people (a turned head and its nearest neighbours in
feature space), rendered by the generator. Head turns come from
the codes of the same people's mirrored crops (the encoder sees the turned-away pose), so the
clip moves from one yaw to the other through frontal; in-plane rotation, scale and position
follow slow sine waves. The path returns to its start, so Chromium's fake camera loops it
seamlessly.

    /usr/bin/python3 training/make_clip.py                 # -> models/media/generated-face.webm
    /usr/bin/python3 training/make_clip.py --checkpoint runs/NAME/compact.pt --seconds 6 --out FILE.webm
Needs the aligned held-out cache (.cache/aligned) and node (the runtime's landmarker picks
turned heads); setup.mjs converts the committed .webm into the fake camera's MJPEG.
"""

import argparse
import math
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import dataset as data  # noqa: E402
import export  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT, FPS = 640, 480, 30
COMPOSITE = 3
NOSE_TIP, EYE_OUTER = 1, (33, 263)   # MediaPipe face-mesh indices


def yaw_proxy(points):
    """(nose tip x - eye-corner midpoint x) / eye distance, per face: the sign says which way
    the head is turned (NaN where no face was found)."""
    mid = (points[:, EYE_OUTER[0], 0] + points[:, EYE_OUTER[1], 0]) / 2
    dist = np.abs(points[:, EYE_OUTER[1], 0] - points[:, EYE_OUTER[0], 0])
    return (points[:, NOSE_TIP, 0] - mid) / np.maximum(dist, 1e-6)


def keyframe_codes(encoder, faces, people):
    """[(w, f)] keyframes: for each of `people` composites, its code and its mirror's. A
    composite blends a strongly turned head with its nearest held-out neighbours in feature
    space (all turned the same way), so the blend stays coherent instead of ghosting."""
    from finetune.networks import composite_groups
    from finetune.landmark_tool import landmarks
    from finetune.build_pack import to_uint8

    yaw = yaw_proxy(landmarks(to_uint8(faces.numpy())))
    found = np.flatnonzero(np.isfinite(yaw))
    # turn every face the same way (mirror those turned the other way)
    turned = torch.stack([faces[i] if yaw[i] > 0 else faces[i].flip(-1) for i in found])
    with torch.no_grad():
        w_all, f_all = encoder(turned)
    keys = []
    for group in composite_groups(f_all, COMPOSITE, people, order=np.argsort(-np.abs(yaw[found]))):
        with torch.no_grad():
            for view in (turned[group], turned[group].flip(-1)):
                w, f = encoder(view)
                keys.append((w.mean(0, keepdim=True), f.mean(0, keepdim=True)))
    return keys


def ease(t):
    return 0.5 - 0.5 * math.cos(math.pi * t)


def code_at(keys, t):
    """Smooth path through the keyframes and back to the first (t in [0, 1))."""
    n = len(keys)
    pos = t * n
    i, frac = int(pos) % n, ease(pos - int(pos))
    (wa, fa), (wb, fb) = keys[i], keys[(i + 1) % n]
    return wa + (wb - wa) * frac, fa + (fb - fa) * frac


def background(seed=0):
    """A soft two-tone wall with faint texture (a flat colour would be unlike a webcam)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, HEIGHT).view(HEIGHT, 1, 1)
    x = torch.linspace(0, 1, WIDTH).view(1, WIDTH, 1)
    top, bottom = torch.tensor([0.55, 0.58, 0.62]), torch.tensor([0.35, 0.33, 0.30])
    img = top + (bottom - top) * y + 0.05 * torch.sin(6 * x + 2 * y)
    noise = F.interpolate(torch.rand(1, 1, HEIGHT // 8, WIDTH // 8, generator=g), size=(HEIGHT, WIDTH), mode="bilinear",
                          align_corners=False)[0, 0, :, :, None]
    return (img + 0.04 * (noise - 0.5)).clamp(0, 1).permute(2, 0, 1)        # [3, H, W]


def place(crop, bg, cx, cy, size, angle):
    """Paste a [3, S, S] crop in [-1, 1] into the frame: centre (cx, cy), side `size` px,
    in-plane rotation `angle` (radians), through a feathered ellipse (the crop's mirrored
    border and corners stay hidden)."""
    c, s = math.cos(angle), math.sin(angle)
    # frame pixel -> crop normalised coords (align_corners=False convention)
    ys, xs = torch.meshgrid(torch.arange(HEIGHT) + 0.5, torch.arange(WIDTH) + 0.5, indexing="ij")
    dx, dy = xs - cx, ys - cy
    u = (c * dx + s * dy) / (size / 2)
    v = (-s * dx + c * dy) / (size / 2)
    grid = torch.stack([u, v], -1)[None]
    rgba = torch.cat([crop[None] * 0.5 + 0.5, torch.ones(1, 1, *crop.shape[1:])], 1)
    warped = F.grid_sample(rgba, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]
    r = torch.sqrt((u / 0.78) ** 2 + ((v - 0.08) / 0.95) ** 2)
    mask = (1 - ((r - 0.85) / 0.15).clamp(0, 1)) * warped[3]
    return bg * (1 - mask) + warped[:3] * mask


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "models" / "base" / "checkpoint-latest.pt"))
    ap.add_argument("--out", type=Path, default=REPO / "models" / "media" / "generated-face.webm")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--people", type=int, default=2, help="composite identities in the clip")
    ap.add_argument("--candidates", type=int, default=96, help="held-out faces searched for turned heads")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    _, encoder, generator = export.load_models(args.checkpoint)
    ds = data.open_dataset("aligned", "eval")
    idx = np.random.default_rng(args.seed).choice(len(ds), size=min(args.candidates, len(ds)), replace=False)
    faces = data.to_tensor(np.stack([ds[int(i)] for i in sorted(idx)]))
    keys = keyframe_codes(encoder, faces, args.people)
    bg = background(args.seed)
    frames = int(round(args.seconds * FPS))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp" + args.out.suffix)
    ffmpeg = subprocess.Popen(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                               "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-", "-c:v", "libvpx", "-b:v", "600k",
                               "-crf", "10", "-deadline", "good", "-pix_fmt", "yuv420p", "-f", "webm", str(tmp)],
                              stdin=subprocess.PIPE)
    with torch.no_grad():
        for k in range(frames):
            t = k / frames
            w, f = code_at(keys, t)
            crop = generator(w, f, torch.zeros(1))[0][0].clamp(-1, 1)
            wave = lambda period, phase=0.0: math.sin(2 * math.pi * (t * args.seconds / period) + phase)  # noqa: E731
            frame = place(crop, bg, cx=320 + 40 * wave(args.seconds / 2), cy=235 + 12 * wave(args.seconds / 3, 1.0),
                          size=300 + 30 * wave(args.seconds, 0.5), angle=0.12 * wave(args.seconds / 2, 2.0))
            ffmpeg.stdin.write((frame.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8).tobytes())
    ffmpeg.stdin.close()
    if ffmpeg.wait() != 0:
        tmp.unlink(missing_ok=True)
        sys.exit("ffmpeg failed")
    tmp.rename(args.out)
    print(f"make_clip: {args.out} ({frames} frames, {args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
