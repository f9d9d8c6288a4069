"""Dataset tool: cuts aligned training crops from ../shared/data/faces.

Input: the photos (tar shards of WebP) and `landmarks.jsonl` written by
`scripts/dataset/landmark-faces.mjs`, which runs the SDK's own FaceLandmarker and ffhq-v1
alignment in Chromium. This tool applies that crop matrix with the sampling rule of the model
contract (mean of four bilinear taps at (±0.25, ±0.25) crop px, mirrored edges — the same rule
as the runtime's GPU warp) and writes uint8 shards:

    <out>/train/shard-NNN.npy, <out>/eval/shard-NNN.npy   uint8 [N, S, S, 3] RGB
    <out>/train/shard-NNN.keys.json                        the photo of each row
    <out>/index.json                                       counts, rejections by reason, split rule

Evaluation split: UTKFace photos are (almost all) of different people, while CelebA repeats each
identity ~20 times without labels here; so the held-out people are the last EVAL_COUNT accepted
UTKFace photos (by name), and no CelebA photo is used for evaluation.

Usage: /usr/bin/python3 training/prepare_data.py [--alignment face-core-v1|ffhq-v1] [--faces DIR] [--out DIR] [--size 128]
"""
import argparse
import io
import json
import tarfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
# Crop framings by the contract's crop.alignment id. landmark-faces.mjs writes ffhq-v1 matrices
# (at --crop-size 128); face-core-v1 (contract v2) reframes them on the face oval: the ffhq-v1
# square shrunk to `scale` of its side and moved down by `shift` of it. The same numbers as
# FACE_CORE_FRAMING in packages/sdk/src/alignment/ffhq.ts (the crop fixture checks they agree).
ALIGNMENTS = ("ffhq-v1", "face-core-v1")
FACE_CORE_FRAMING = {"scale": 0.77, "shift": 0.1}
LANDMARK_CROP_SIZE = 128  # the size landmark-faces.mjs computes its ffhq-v1 matrices for
SHARD_SIZE = 4096
EVAL_COUNT = 1500
MIN_SOURCE_SIDE = 96  # below this the crop is mostly upsampling blur
MAX_OUTSIDE_FRACTION = 0.75  # beyond this the crop is mostly mirrored border (UTKFace chips are tight: ~0.5 is typical)


def crop_grid(image_from_crop: np.ndarray, size: int, width: int, height: int) -> torch.Tensor:
    """grid_sample grid for the 2x supersampled crop: [1, 2S, 2S, 2] in normalised image coords."""
    sub = (np.arange(2 * size) + 0.5) / 2.0  # crop-pixel centres of the 2x2 taps: i + 0.25, i + 0.75
    xs, ys = np.meshgrid(sub, sub)
    a, b, c, d, e, f = image_from_crop
    ix = a * xs + b * ys + c
    iy = d * xs + e * ys + f
    # align_corners=False: -1 and 1 are the outer edges of the border pixels, as in our continuous coords.
    grid = np.stack([ix / width * 2 - 1, iy / height * 2 - 1], axis=-1)
    return torch.from_numpy(grid[None].astype(np.float32))


def compose(outer, inner):
    """outer ∘ inner for row-major 2x3 affines [a, b, c, d, e, f]."""
    a, b, c, d, e, f = outer
    A, B, C, D, E, F_ = inner
    return [a * A + b * D, a * B + b * E, a * C + b * F_ + c, d * A + e * D, d * B + e * E, d * C + e * F_ + f]


def reframe(ffhq_crop_from_image, size: int, alignment: str = "face-core-v1"):
    """The crop matrix of `alignment` at `size` from an ffhq-v1 matrix at the same size
    (reframe() of packages/sdk/src/alignment/ffhq.ts)."""
    if alignment not in ALIGNMENTS:
        raise ValueError(f"unknown alignment {alignment!r} (known: {', '.join(ALIGNMENTS)})")
    m = [float(v) for v in ffhq_crop_from_image]
    if alignment == "ffhq-v1":
        return m
    scale, shift = FACE_CORE_FRAMING["scale"], FACE_CORE_FRAMING["shift"]
    origin = size * (1 - scale) / 2
    core_from_ffhq = [1 / scale, 0.0, -origin / scale, 0.0, 1 / scale, -(origin + shift * size) / scale]
    return compose(core_from_ffhq, m)


def crop_from_landmark_row(row, size: int, alignment: str):
    """A landmarks.jsonl row's crop matrix for `alignment` at `size` (its matrix is ffhq-v1 at 128)."""
    k = size / LANDMARK_CROP_SIZE
    ffhq = [v * k for v in row["cropFromImage"]]
    return reframe(ffhq, size, alignment)


def invert(m):
    a, b, c, d, e, f = m
    det = a * e - b * d
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return np.array([ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f)])


def sample_crop(rgb: np.ndarray, crop_from_image, size: int) -> tuple[torch.Tensor, float]:
    """The aligned crop before rounding (float [S, S, 3], 0..255) and the fraction of it outside the photo."""
    height, width = rgb.shape[:2]
    grid = crop_grid(invert(np.asarray(crop_from_image, dtype=np.float64)), size, width, height)
    image = torch.from_numpy(np.array(rgb, copy=True)).permute(2, 0, 1)[None].float()  # (PIL arrays are read-only)
    sampled = F.grid_sample(image, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    outside = ((grid.abs() > 1).any(dim=-1)).float().mean().item()
    return F.avg_pool2d(sampled, 2)[0].permute(1, 2, 0), outside


def cut_crop(rgb: np.ndarray, crop_from_image, size: int) -> tuple[np.ndarray, float]:
    """Returns the aligned crop (uint8 [S, S, 3]) and the fraction of it that lies outside the photo."""
    crop, outside = sample_crop(rgb, crop_from_image, size)
    return crop.round().clamp(0, 255).byte().numpy(), outside


def source_side(crop_from_image, size: int) -> float:
    a, b = crop_from_image[0], crop_from_image[1]
    return size / float(np.hypot(a, b))


class ShardWriter:
    def __init__(self, folder: Path, size: int):
        self.folder, self.size = folder, size
        folder.mkdir(parents=True, exist_ok=True)
        self.rows, self.keys, self.count, self.shards = [], [], 0, 0

    def add(self, crop: np.ndarray, key: str):
        self.rows.append(crop)
        self.keys.append(key)
        if len(self.rows) == SHARD_SIZE:
            self.flush()

    def flush(self):
        if not self.rows:
            return
        name = f"shard-{self.shards:03d}"
        np.save(self.folder / f"{name}.npy.tmp.npy", np.stack(self.rows))
        (self.folder / f"{name}.npy.tmp.npy").rename(self.folder / f"{name}.npy")
        (self.folder / f"{name}.keys.json").write_text(json.dumps(self.keys))
        self.count += len(self.rows)
        self.shards += 1
        self.rows, self.keys = [], []


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=Path, default=REPO.parent / "shared" / "data" / "faces")
    parser.add_argument("--out", type=Path, default=None, help="default: the alignment's cache (dataset.aligned_cache)")
    parser.add_argument("--landmarks", type=Path, default=None, help="default: .cache/aligned/landmarks.jsonl")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--alignment", default="face-core-v1", choices=ALIGNMENTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from dataset import DEFAULT_ALIGNED, aligned_cache

    args.out = args.out or aligned_cache(args.alignment, args.size)
    landmarks_path = args.landmarks or DEFAULT_ALIGNED / "landmarks.jsonl"
    rows = [json.loads(line) for line in landmarks_path.read_text().splitlines() if line.strip()]
    rows.sort(key=lambda r: r["key"])

    rejected = Counter()
    accepted = []
    for row in rows:
        if row.get("error"):
            rejected["unreadable"] += 1
        elif row["faces"] == 0:
            rejected["no-face"] += 1
        elif row["faces"] > 1:
            rejected["several-faces"] += 1
        elif source_side(crop_from_landmark_row(row, args.size, args.alignment), args.size) < MIN_SOURCE_SIDE:
            rejected["face-too-small"] += 1
        else:
            accepted.append(row)
    # How many source pixels each crop is cut from (128 or more: no upsampling at all).
    sides = np.array([source_side(crop_from_landmark_row(r, args.size, args.alignment), args.size) for r in accepted])
    side_quantiles = {f"p{q}": round(float(np.percentile(sides, q)), 1) for q in (5, 10, 25, 50, 75, 90)} if len(sides) else {}
    side_quantiles["atLeastCropSize"] = round(float((sides >= args.size).mean()), 3) if len(sides) else 0.0
    utk = [r for r in accepted if r["key"].startswith("utkface")]
    eval_keys = {r["key"] for r in utk[-EVAL_COUNT:]}

    writers = {"train": ShardWriter(args.out / "train", args.size), "eval": ShardWriter(args.out / "eval", args.size)}
    started = time.time()
    open_tars = {}
    outside_histogram = [0] * 10
    for n, row in enumerate(accepted):
        shard, name = row["key"].split("/", 1)
        if shard not in open_tars:
            open_tars[shard] = tarfile.open(args.faces / shard)
        data = open_tars[shard].extractfile(name).read()
        rgb = np.array(Image.open(io.BytesIO(data)).convert("RGB"))
        crop, outside = cut_crop(rgb, crop_from_landmark_row(row, args.size, args.alignment), args.size)
        outside_histogram[min(int(outside * 10), 9)] += 1
        if outside > MAX_OUTSIDE_FRACTION:
            rejected["crop-outside-photo"] += 1
            continue
        writers["eval" if row["key"] in eval_keys else "train"].add(crop, row["key"])
        if n % 2000 == 0:
            print(f"{n}/{len(accepted)} crops, {n / max(time.time() - started, 1e-6):.0f}/s", flush=True)
    for writer in writers.values():
        writer.flush()

    index = {
        "alignment": args.alignment,
        "size": args.size,
        "photos": len(rows),
        "kept": {split: w.count for split, w in writers.items()},
        "rejected": dict(rejected),
        "outsideFractionHistogram": {f"{i / 10:.1f}-{(i + 1) / 10:.1f}": n for i, n in enumerate(outside_histogram)},
        "sourceSide": side_quantiles,
        "rules": {"minSourceSide": MIN_SOURCE_SIDE, "maxOutsideFraction": MAX_OUTSIDE_FRACTION},
        "evalSplit": f"last {EVAL_COUNT} accepted UTKFace photos by name (distinct people); CelebA only in train",
    }
    (args.out / "index.json").write_text(json.dumps(index, indent=2))
    print(json.dumps(index, indent=2))


if __name__ == "__main__":
    main()
