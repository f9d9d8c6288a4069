"""Semantic-guide metric: nearest-token correspondence accuracy of facial parts across a
real face and its stylisation (the pairs in ../shared/data/pairs).

For each facial landmark p of the real image (MediaPipe face mesh, run by the runtime's own
landmarker: node scripts/lib/face-landmarks.mjs ../shared/data/pairs/*.jpg > .cache/pairs/landmarks.json),
take the guide token at p (bilinear in the token grid), find the most similar token
(cosine) in the style image, and count a hit when that token's centre is within `radius`
crop px (at 128) of the same landmark in the style image. Both directions (real->style,
style->real) are averaged.

Protocols:
  aligned   the pair as given (both FFHQ-aligned): position alone is already a strong cue,
            so the "same position" baseline is reported next to the guides;
  shifted   the style image is randomly translated (±12..20 px) and scaled (0.85-1.15) each
            trial, landmarks moved with it: position no longer helps, only semantics do.

    /usr/bin/python3 training/guide_metrics.py --guide vit:models/guide/guide-vit.pt
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import guide as G  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PAIRS = REPO.parent / "shared" / "data" / "pairs"
LANDMARKS = REPO / ".cache" / "pairs" / "landmarks.json"
PAIR_NAMES = ["anime", "caricature-bigeyes", "caricature-grin", "cartoon-narrow", "pixar-3d"]
# Face-mesh indices of facial parts: eye corners, iris centres, brows, nose, mouth, chin,
# jaw, forehead (iris 468/473 exist in the 478-point model).
PARTS = {"eye_outer_l": 33, "eye_inner_l": 133, "eye_inner_r": 362, "eye_outer_r": 263, "iris_l": 468,
         "iris_r": 473, "brow_l": 105, "brow_r": 334, "nose_tip": 1, "nose_bridge": 6, "nostril_l": 98,
         "nostril_r": 327, "mouth_l": 61, "mouth_r": 291, "lip_upper": 13, "lip_lower": 14, "chin": 152,
         "jaw_l": 234, "jaw_r": 454, "forehead": 10}
SIZE = 128


def load_pairs(landmarks_path=LANDMARKS, pairs_dir=PAIRS):
    """[(name, real [1,3,128,128], style, real_pts [K,2], style_pts [K,2])] in crop px."""
    from PIL import Image

    marks = {Path(r["file"]).name: r for r in json.loads(Path(landmarks_path).read_text())}
    out = []
    for name in PAIR_NAMES:
        imgs, pts = [], []
        for half in ("real", "style"):
            file = f"{name}.{half}.jpg"
            r = marks.get(file)
            if r is None or len(r["faces"]) != 1:
                break
            im = Image.open(Path(pairs_dir) / file).convert("RGB")
            scale = SIZE / im.width
            imgs.append(torch.from_numpy(np.asarray(im.resize((SIZE, SIZE), Image.LANCZOS)).copy())
                        .permute(2, 0, 1)[None].float() / 127.5 - 1)
            P = r["faces"][0]["points"]
            pts.append(torch.tensor([[P[i]["x"] * scale, P[i]["y"] * scale] for i in PARTS.values()]))
        if len(imgs) == 2:
            out.append((name, imgs[0], imgs[1], pts[0], pts[1]))
    return out


def random_affine(style, pts, g):
    """Translate ±12..20 px and scale 0.85..1.15 about the centre (mirrored border)."""
    s = 0.85 + 0.3 * torch.rand(1, generator=g).item()
    t = (12 + 8 * torch.rand(2, generator=g)) * torch.where(torch.rand(2, generator=g) < 0.5, -1.0, 1.0)
    # output pixel q samples input at (q - c - t) / s + c
    theta = torch.tensor([[1 / s, 0, -t[0].item() * 2 / SIZE / s], [0, 1 / s, -t[1].item() * 2 / SIZE / s]])[None]
    grid = F.affine_grid(theta, (1, 3, SIZE, SIZE), align_corners=False)
    out = F.grid_sample(style, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    c = SIZE / 2
    return out, (pts - c) * s + c + t


def token_map(guide, image):
    with torch.no_grad():
        tok = guide.tokens(image)[0]                       # [N, C]
    h, w = guide.grid if guide.grid else (int(tok.shape[0] ** 0.5),) * 2
    return F.normalize(tok, dim=-1), (h, w)


def match(tok_a, tok_b, grid, pts_a):
    """Predicted positions in b (crop px) of the points pts_a of a."""
    h, w = grid
    fmap = tok_a.t().reshape(1, -1, h, w)
    q = (pts_a / SIZE) * 2 - 1
    f = F.grid_sample(fmap, q.view(1, 1, -1, 2).float(), mode="bilinear", align_corners=False)[0, :, 0].t()  # [K, C]
    best = (F.normalize(f, dim=-1) @ tok_b.t()).argmax(dim=1)                                               # [K]
    ys, xs = best // w, best % w
    return torch.stack([(xs.float() + 0.5) * SIZE / w, (ys.float() + 0.5) * SIZE / h], 1)


def correspondence_accuracy(guide, pairs, protocol="aligned", radius=8.0, trials=8, seed=0):
    """Fraction of landmarks matched within `radius` px, both directions, over pairs (and
    random affine trials for 'shifted'); 'position' as guide gives the same-position baseline."""
    g = torch.Generator().manual_seed(seed)
    hits, total = 0, 0
    for _, real, style, pr, ps in pairs:
        for _ in range(trials if protocol == "shifted" else 1):
            st, pst = (random_affine(style, ps, g) if protocol == "shifted" else (style, ps))
            for a, b, pa, pb in [(real, st, pr, pst), (st, real, pst, pr)]:
                if guide == "position":
                    pred = pa
                else:
                    ta, grid = token_map(guide, a)
                    tb, _ = token_map(guide, b)
                    pred = match(ta, tb, grid, pa)
                hits += int(((pred - pb).norm(dim=1) <= radius).sum())
                total += len(pa)
    return hits / max(total, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guide", action="append", default=[], help="guide spec(s), see guide.load_guide")
    ap.add_argument("--landmarks", default=str(LANDMARKS))
    ap.add_argument("--radius", type=float, nargs="+", default=[8.0, 12.0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    pairs = load_pairs(args.landmarks)
    specs = args.guide or [f"vit:{G.DEFAULT_GUIDE}"]
    rows = []
    for spec in ["position", "random"] + specs:
        guide = spec if spec == "position" else G.load_guide(spec)
        row = {"guide": spec}
        for protocol in ("aligned", "shifted"):
            for r in args.radius:
                row[f"{protocol}@{r:g}px"] = correspondence_accuracy(guide, pairs, protocol, r)
        rows.append(row)
    if args.json:
        print(json.dumps({"pairs": [p[0] for p in pairs], "landmarks": list(PARTS), "rows": rows}, indent=2))
        return
    keys = [k for k in rows[0] if k != "guide"]
    print(f"{len(pairs)} pairs x {len(PARTS)} facial landmarks, both directions")
    print(f"{'guide':50s} " + " ".join(f"{k:>16s}" for k in keys))
    for row in rows:
        print(f"{row['guide'][:50]:50s} " + " ".join(f"{row[k]:16.3f}" for k in keys))


if __name__ == "__main__":
    main()
