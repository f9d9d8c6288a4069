"""Held-out evaluation of base-model checkpoints: reconstruction PSNR / SSIM (metrics.py) and
identity similarity between each held-out input and its reconstruction, measured by an
independent face-recognition network (identity.py), next to that network's baselines
(different people, same person in a video, photo vs its mirror image).

    /usr/bin/python3 training/evaluate.py runs/base128/checkpoint.pt [--limit 500]
    /usr/bin/python3 training/evaluate.py runs/base128 models/base/checkpoint-latest.pt --json out.json
    # a curve over training: run it whenever the run has written a new checkpoint
    /usr/bin/python3 training/evaluate.py runs/base128 --append runs/base128/identity.jsonl
    # image grids: composites (committable) and held-out photos (local only)
    /usr/bin/python3 training/evaluate.py models/base/checkpoint-latest.pt --limit 48 --no-identity \
        --grid docs/base-reconstructions.png --held-out-grid .cache/held-out-reconstructions.png

A checkpoint is a training checkpoint (runs/NAME/checkpoint.pt: its EMA weights are used, as
in export.py) or a compact one (train.py --compact); a folder stands for every *.pt in it.
Reconstructions use alpha = 0 (the undeformed output), as in training's own eval; the
*warped* columns render through random warps of the packs' size against the crop moved by the
same flow (metrics.warped_metrics: what a style pack shows at alpha 1). Prints a
table and the JSON; embeddings of the inputs and the baselines are cached in
.cache/identity/, so later runs pay only for the reconstructions.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset  # noqa: E402
import networks  # noqa: E402
import identity  # noqa: E402
import losses  # noqa: E402
import metrics  # noqa: E402
from export import load_models  # noqa: E402


def checkpoint_files(paths):
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.pt"))
            if not found:
                raise FileNotFoundError(f"no *.pt checkpoint in {p}")
            files += found
        elif p.exists():
            files.append(p)
        else:
            raise FileNotFoundError(p)
    return files


@torch.no_grad()
def reconstruct(encoder, generator, images, batch=32):
    """uint8 [N, S, S, 3] held-out crops -> (uint8 reconstructions, PSNR [N], SSIM [N])."""
    alpha = torch.zeros(1)
    fakes, psnr, ssim = [], [], []
    for i in range(0, len(images), batch):
        real = dataset.to_tensor(images[i:i + batch])
        fake, _ = generator(*encoder(real), alpha)
        fake = fake.clamp(-1, 1)
        psnr.append(metrics.psnr(fake, real))
        ssim.append(losses.ssim(fake, real))
        fakes.append(((fake + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy())
    return np.concatenate(fakes), torch.cat(psnr).numpy(), torch.cat(ssim).numpy()


def evaluate_checkpoint(path, images, input_embeddings, network, batch=32):
    ck = torch.load(path, map_location="cpu")
    nimg = ck.get("nimg")
    del ck
    cfg, encoder, generator = load_models(path)
    started = time.time()
    fakes, psnr, ssim = reconstruct(encoder, generator, images, batch)
    seconds_reconstruct = time.time() - started
    row = {"checkpoint": str(path), "kimg": None if nimg is None else round(nimg / 1000, 3),
           "images": len(images), "psnr": float(psnr.mean()), "ssim": float(ssim.mean()), "identity": None,
           **metrics.warped_metrics(encoder, generator, dataset.to_tensor(images), batch)}
    if input_embeddings is not None:
        started = time.time()
        cos = identity.cosines(input_embeddings, identity.embed(fakes, network))
        row["identity"] = identity.summary(cos)
        row["identity_at_least_0.7"] = float((cos >= 0.7).mean())
        print(f"  {path}: reconstruct {seconds_reconstruct:.0f} s, embed {time.time() - started:.0f} s", file=sys.stderr)
    return row


def table(rows, baselines):
    fmt = lambda v, spec: format("-", f">{spec.split('.')[0]}") if v is None else format(v, spec)  # noqa: E731
    lines = [f"{'checkpoint':<44} {'kimg':>8} {'PSNR':>6} {'SSIM':>6} {'id mean':>8} {'id med':>7} {'id p10':>7} "
             f"{'detail':>7} {'warped: PSNR':>12} {'detail':>7}"]
    for r in rows:
        i = r["identity"] or {}
        lines.append(f"{r['checkpoint'][-44:]:<44} {fmt(r['kimg'], '8.1f')} {r['psnr']:6.2f} {r['ssim']:6.3f} "
                     f"{fmt(i.get('mean'), '8.3f')} {fmt(i.get('median'), '7.3f')} {fmt(i.get('p10'), '7.3f')} "
                     f"{fmt(r.get('detail'), '7.3f')} {fmt(r.get('warped_psnr'), '12.2f')} {fmt(r.get('warped_detail'), '7.3f')}")
    if baselines:
        title = f"identity baselines ({baselines['network']}):"
        lines.append(f"{title:<67} {'mean':>8} {'median':>7} {'p10':>7} {'pairs':>7}")
        for name in ("different_person", "same_person", "flip"):
            s = baselines.get(name)
            label = name.replace("_", "-")
            if s is None:
                lines.append(f"  {label:<65} (skipped: no ../shared/data/videos or .cache/media clips)")
            else:
                lines.append(f"  {label:<65} {s['mean']:8.3f} {s['median']:7.3f} {s['p10']:7.3f} {s['n']:7d}")
    return "\n".join(lines)


def write_grids(checkpoint, images, composite_path=None, held_out_path=None, columns=8):
    """Rows of inputs over rows of their reconstructions (alpha = 0). Composite inputs are the
    generator's own renderings of mean codes of 3 held-out people (finetune.networks), so the
    committed grid shows no one from the data; they are easier than photos (already in the
    generator's range), which the held-out grid and the metrics cover."""
    from finetune.networks import composite_groups
    from train import save_grid

    _, encoder, generator = load_models(checkpoint)
    x = dataset.to_tensor(images[:columns * 6])
    zero = torch.zeros(1)
    with torch.no_grad():
        if held_out_path:
            save_grid([x[:columns], generator(*encoder(x[:columns]), zero)[0].clamp(-1, 1)], held_out_path)
        if composite_path:
            w, f = encoder(x)
            groups = composite_groups(f, 3, columns)
            composite = generator(torch.stack([w[g].mean(0) for g in groups]),
                                  torch.stack([f[g].mean(0) for g in groups]), zero)[0].clamp(-1, 1)
            save_grid([composite, generator(*encoder(composite), zero)[0].clamp(-1, 1)], composite_path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+", help="checkpoint files or run folders")
    ap.add_argument("--data", default="aligned", help="aligned cache: 'aligned' or a folder (dataset.py)")
    ap.add_argument("--limit", type=int, default=None, help="first N held-out crops (default: all)")
    ap.add_argument("--network", default=identity.DEFAULT_NETWORK, help="faceres (default) or mobileface")
    ap.add_argument("--no-identity", action="store_true", help="PSNR / SSIM only (no node, fast)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the cores are shared with training)")
    ap.add_argument("--json", type=Path, help="write the result here")
    ap.add_argument("--append", type=Path, help="append one JSON line per checkpoint here (a curve over time)")
    ap.add_argument("--grid", type=Path, help="write a grid of composite faces and their reconstructions here "
                    "(no photo of the data: committable, e.g. docs/base-reconstructions.png)")
    ap.add_argument("--held-out-grid", type=Path, help="write held-out inputs vs reconstructions here (local only: "
                    "the data's licence forbids committing crops)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    files = checkpoint_files(args.checkpoints)
    # the held-out crops of the framing and size the (first) checkpoint was trained on
    config = networks.config_from_checkpoint(torch.load(files[0], map_location="cpu").get("config", {}))
    data = dataset.open_dataset(args.data, "eval", size=config["size"], alignment=config["alignment"])
    count = min(args.limit or len(data), len(data))
    images = np.stack([data[i] for i in range(count)])
    baselines, input_embeddings = None, None
    if not args.no_identity:
        started = time.time()
        input_embeddings = identity.embed(images, args.network, cache=True)
        baselines = identity.baselines(images, args.network, eval_embeddings=input_embeddings)
        print(f"  inputs + baselines: {time.time() - started:.0f} s", file=sys.stderr)
    rows = [evaluate_checkpoint(f, images, input_embeddings, args.network, args.batch) for f in files]
    if args.grid or args.held_out_grid:
        write_grids(files[-1], images, args.grid, args.held_out_grid)
    result = {"data": data.name, "images": count, "network": None if args.no_identity else args.network,
              "checkpoints": rows, "baselines": baselines}
    print(table(rows, baselines))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.append:
        with open(args.append, "a") as f:
            for r in rows:
                f.write(json.dumps({**r, "time": round(time.time(), 1), "network": result["network"],
                                    "baselines": {k: (baselines or {}).get(k) for k in ("different_person", "same_person", "flip")}}) + "\n")


if __name__ == "__main__":
    main()
