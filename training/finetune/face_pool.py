"""The committed face pool: what `pack build` samples latents from, so a fresh clone needs no
aligned dataset cache.

models/finetune/face-pool.webp holds TRAIN + HELD_OUT composite faces (a 16-column sprite of
crops at the base's size): each is the mean base-encoder code (W+ and features) of COMPOSITE held-out people
who are nearest neighbours in feature space, rendered by the base generator at alpha 0, so no
face in it is a person of ../shared/data (whose licence forbids copying photos or crops; the
same rule as the packs' preview.png). The builder encodes them with the base encoder (a few
seconds): the first TRAIN are the latent samples of fine-tuning (and the style-only
projection), the rest are held out for the preview rows and build.json's metrics.

The pool is a derived artefact of models/base: face-pool.json records the SHA-256 of the base
checkpoint it was rendered with and its crop framing, and the builder refuses a stale pool with
one line saying how to rebuild it. Rebuild after every new base model (needs the aligned crop
cache of the base's framing, training/prepare_data.py):

    nice /usr/bin/python3 training/finetune/face_pool.py                     # models/base/checkpoint-latest.pt, --data aligned
    nice /usr/bin/python3 training/finetune/face_pool.py --data shared-raw   # development only (not aligned faces)
"""

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
POOL_DIR = REPO / "models" / "finetune"
META = POOL_DIR / "face-pool.json"
IMAGE_NAME = "face-pool.webp"
DEFAULT_CHECKPOINT = REPO / "models" / "base" / "checkpoint-latest.pt"
TRAIN, HELD_OUT, COMPOSITE, COLUMNS = 256, 48, 3, 16
REBUILD = "/usr/bin/python3 training/finetune/face_pool.py"
FORMAT = "face-stylizer-face-pool"


class PoolError(Exception):
    """Why the committed pool cannot be used (one line for the user)."""


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rel(path):
    try:
        return os.path.relpath(path, REPO)
    except ValueError:
        return str(path)


def base_alignment(cfg):
    return cfg.get("alignment", "ffhq-v1")


def load(checkpoint, cfg, meta_path=None):
    """(train, held_out, info): [TRAIN | HELD_OUT, 3, S, S] float tensors in [-1, 1] and the
    pool's provenance. `checkpoint` None (a random-init base, tests) skips the base check."""
    from PIL import Image

    meta_path = Path(meta_path or META)
    hint = f"rebuild it with `{REBUILD}` (needs the aligned crop cache), or pass --data aligned"
    if not meta_path.exists():
        raise PoolError(f"no face pool at {rel(meta_path)}: {hint}")
    meta = json.loads(meta_path.read_text())
    image_path = meta_path.parent / meta["image"]["file"]
    if not image_path.exists() or sha256(image_path) != meta["image"]["sha256"]:
        raise PoolError(f"{rel(image_path)} is missing or does not match {rel(meta_path)}: {hint}")
    if checkpoint is not None:
        have = sha256(checkpoint)
        want = meta["base"]["checkpointSha256"]
        if have != want:
            raise PoolError(f"the face pool {rel(meta_path)} is stale: rendered by base checkpoint {want[:12]}, "
                            f"but {rel(checkpoint)} is {have[:12]}; {hint}")
    size = meta["size"]
    if size != cfg["size"] or (checkpoint is not None and meta["base"]["alignment"] != base_alignment(cfg)):
        raise PoolError(f"the face pool {rel(meta_path)} holds {meta['base']['alignment']} {size}² crops, the base "
                        f"model takes {base_alignment(cfg)} {cfg['size']}²; {hint}")
    with Image.open(image_path) as im:
        sprite = np.asarray(im.convert("RGB"))
    n = meta["faces"]["train"] + meta["faces"]["heldOut"]
    cols = meta["image"]["columns"]
    faces = np.stack([sprite[(i // cols) * size:(i // cols + 1) * size, (i % cols) * size:(i % cols + 1) * size]
                      for i in range(n)])
    x = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 127.5 - 1
    k = meta["faces"]["train"]
    return x[:k], x[k:], {"file": rel(image_path), "sha256": meta["image"]["sha256"],
                          "baseCheckpointSha256": meta["base"]["checkpointSha256"]}


def composite_groups(features, size, count, order):
    """networks.composite_groups' rule (each seed in `order` with its size - 1 nearest unused
    faces by feature-map distance) on a distance matrix computed once: seconds, not minutes."""
    x = features.flatten(1)
    sq = (x * x).sum(1)
    dist = (sq[:, None] + sq[None] - 2 * x @ x.t()).numpy()
    used = np.zeros(len(x), bool)
    groups = []
    for seed in order:
        if len(groups) == count:
            break
        if used[seed]:
            continue
        used[seed] = True
        d = np.where(used, np.inf, dist[seed])
        group = [seed] + np.argsort(d, kind="stable")[:size - 1].tolist()
        used[group] = True
        groups.append(group)
    if len(groups) < count:
        raise PoolError(f"{len(x)} faces make only {len(groups)} groups of {size}, need {count}")
    return groups


@torch.no_grad()
def make(checkpoint, data="aligned", source_faces=1200, seed=0, out=META, quality=95, threads=2, log=print, split="eval"):
    """Render the pool from `source_faces` held-out faces of the aligned cache (eval split)."""
    from PIL import Image

    import dataset
    from finetune.networks import load_base

    torch.set_num_threads(threads)
    t0 = time.time()
    cfg, encoder, generator = load_base(str(checkpoint))
    alignment = base_alignment(cfg)
    ds = dataset.open_dataset(data, split, cfg["size"], alignment=alignment)   # 'aligned': the cache of the base's framing and size
    n = TRAIN + HELD_OUT
    if len(ds) < n * COMPOSITE:
        raise PoolError(f"{ds.name if hasattr(ds, 'name') else data}: {len(ds)} held-out faces, need {n * COMPOSITE}")
    idx = np.sort(np.random.default_rng(seed).choice(len(ds), size=min(source_faces, len(ds)), replace=False))
    images = dataset.to_tensor(np.stack([ds[int(i)] for i in idx]))
    log(f"encoding {len(images)} held-out faces ({time.time() - t0:.0f} s)")
    ws, fs = [], []
    for i in range(0, len(images), 64):
        w, f = encoder(images[i:i + 64])
        ws.append(w), fs.append(f)
    w, f = torch.cat(ws), torch.cat(fs)
    order = np.random.default_rng(seed + 1).permutation(len(images)).tolist()
    log(f"grouping {n} composites of {COMPOSITE} ({time.time() - t0:.0f} s)")
    groups = composite_groups(f, COMPOSITE, n, order)
    w_c = torch.stack([w[g].mean(0) for g in groups])
    f_c = torch.stack([f[g].mean(0) for g in groups])
    faces = []
    for i in range(0, n, 64):
        faces.append(generator(w_c[i:i + 64], f_c[i:i + 64], torch.zeros(1))[0].clamp(-1, 1))
    faces = ((torch.cat(faces).permute(0, 2, 3, 1).numpy() + 1) * 127.5).round().astype(np.uint8)
    size = faces.shape[1]
    rows = -(-n // COLUMNS)
    sprite = np.zeros((rows * size, COLUMNS * size, 3), np.uint8)
    for i, face in enumerate(faces):
        sprite[(i // COLUMNS) * size:(i // COLUMNS + 1) * size, (i % COLUMNS) * size:(i % COLUMNS + 1) * size] = face
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image_path = out.parent / IMAGE_NAME
    Image.fromarray(sprite).save(image_path, "WEBP", quality=quality, method=6)
    meta = {
        "format": FORMAT, "formatVersion": 1,
        "what": f"{TRAIN} + {HELD_OUT} composite faces (mean base-encoder codes of {COMPOSITE} held-out people, "
                "nearest neighbours in feature space) rendered by the base generator at alpha 0; row-major "
                f"{COLUMNS}-column sprite. The first {TRAIN} are fine-tuning's latent samples, the rest held out "
                "(preview rows, build metrics). A derived artefact of the base model: rebuild with the command.",
        "command": REBUILD + (f" --data {data}" if data != "aligned" else "") + (f" --split {split}" if split != "eval" else ""),
        "base": {"checkpoint": rel(checkpoint), "checkpointSha256": sha256(checkpoint), "alignment": alignment},
        "size": size,
        "faces": {"train": TRAIN, "heldOut": HELD_OUT, "composite": COMPOSITE},
        "source": {"data": data if data in ("aligned", "shared-raw") else "folder", "split": split,
                   "faces": int(len(images)), "seed": seed},
        "image": {"file": IMAGE_NAME, "sha256": sha256(image_path), "bytes": image_path.stat().st_size,
                  "columns": COLUMNS, "quality": quality},
    }
    out.write_text(json.dumps(meta, indent=2) + "\n")
    log(f"wrote {rel(image_path)} ({meta['image']['bytes'] / 1e6:.2f} MB) and {rel(out)} in {time.time() - t0:.0f} s")
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    ap.add_argument("--data", default="aligned", help="'aligned' (the base's framing), 'shared-raw' (dev only) or a cache folder")
    ap.add_argument("--source-faces", type=int, default=1200, help="held-out faces the composites are drawn from")
    ap.add_argument("--split", default="eval", help="eval: people the base never trained on (train: development only)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=META)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    try:
        make(args.checkpoint, args.data, args.source_faces, args.seed, args.out, threads=args.threads, split=args.split)
    except (PoolError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
