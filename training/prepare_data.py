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

Usage: /usr/bin/python3 training/prepare_data.py [--faces DIR] [--out DIR] [--size 128]
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
    parser.add_argument("--out", type=Path, default=REPO / ".cache" / "aligned")
    parser.add_argument("--landmarks", type=Path, default=None, help="default: <out>/landmarks.jsonl")
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(1)
    landmarks_path = args.landmarks or args.out / "landmarks.jsonl"
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
        elif source_side(row["cropFromImage"], args.size) < MIN_SOURCE_SIDE:
            rejected["face-too-small"] += 1
        else:
            accepted.append(row)
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
        crop, outside = cut_crop(rgb, row["cropFromImage"], args.size)
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
        "alignment": "ffhq-v1",
        "size": args.size,
        "photos": len(rows),
        "kept": {split: w.count for split, w in writers.items()},
        "rejected": dict(rejected),
        "outsideFractionHistogram": {f"{i / 10:.1f}-{(i + 1) / 10:.1f}": n for i, n in enumerate(outside_histogram)},
        "rules": {"minSourceSide": MIN_SOURCE_SIDE, "maxOutsideFraction": MAX_OUTSIDE_FRACTION},
        "evalSplit": f"last {EVAL_COUNT} accepted UTKFace photos by name (distinct people); CelebA only in train",
    }
    (args.out / "index.json").write_text(json.dumps(index, indent=2))
    print(json.dumps(index, indent=2))


if __name__ == "__main__":
    main()
