"""Train the semantic guide (guide.VitGuide) with DINO self-distillation (Caron et al. 2021)
on the aligned face crops, under artistic-rendering augmentations (guide_augment.py).

Objective (DINOLoss): student and teacher share the architecture; the teacher is an EMA of
the student. Both see multi-crop views of the same faces; the student's softmax over K
prototypes (temperature 0.1) must match the teacher's centred, sharpened softmax
(temperature 0.04) on the *other* global views. Centering and sharpening together
prevent collapse; centering is DINOv2's Sinkhorn-Knopp by default (--centering center gives
DINO's running mean, which drifted to a uniform teacher within ~100 steps at batch 32).
Dense term (DenseDINOLoss, on by default, --dense 0 turns it off): the same cross-entropy
per patch token between the two global views, pairing each student token with the teacher
token that sees the same point of the face (the crop boxes are known). The guide is used
for *token correspondence*, which the CLS-only objective teaches only indirectly.

A run is a folder runs/NAME/ with options.json, log.jsonl and checkpoint.pt (atomic,
resumable), like train.py. The teacher backbone is the guide; export a compact file with
--export models/guide/guide-vit.pt (done automatically at every checkpoint if given).

    nice -n 10 /usr/bin/python3 training/train_guide.py --run guide --minutes 5 --export models/guide/guide-vit.pt
    nice -n 10 /usr/bin/python3 training/train_guide.py --resume runs/guide --minutes 600
    /usr/bin/python3 training/train_guide.py --cost        # params / GMAC / ms per image
"""

import argparse
import copy
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset as data  # noqa: E402
import guide as G  # noqa: E402
import guide_augment as A  # noqa: E402
from train import Stop, atomic_save  # noqa: E402
from runs import explicit_options, open_run  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


class DINOHead(nn.Module):
    """MLP -> L2-normalised bottleneck -> weight-normalised prototypes (DINO's head)."""

    def __init__(self, dim, out_dim=1024, hidden=512, bottleneck=128):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                 nn.Linear(hidden, bottleneck))
        # weight-normalised prototypes with the norm fixed at 1 (DINO freezes weight_g);
        # written out instead of nn.utils.weight_norm so the teacher can be deep-copied
        self.prototypes = nn.Parameter(torch.randn(out_dim, bottleneck) * 0.02)

    def forward(self, x):
        return F.normalize(self.mlp(x), dim=-1) @ F.normalize(self.prototypes, dim=-1).t()


@torch.no_grad()
def sinkhorn_knopp(logits, temp, iters=3):
    """DINOv2's teacher centering: rows = samples, columns = prototypes; alternately
    normalise so every prototype gets an equal share of the batch and every sample sums to
    1. Enforces equipartition, so neither collapse (one prototype / uniform) can happen."""
    Q = torch.exp((logits - logits.max()) / temp).t()          # [K, B]
    Q /= Q.sum()
    K, B = Q.shape
    for _ in range(iters):
        Q /= Q.sum(dim=1, keepdim=True).clamp_min(1e-12) * K
        Q /= Q.sum(dim=0, keepdim=True).clamp_min(1e-12) * B
    return (Q * B).t()


class DINOLoss(nn.Module):
    """Cross-entropy between teacher (centred, sharpened) and student distributions, over
    all (teacher global view, student view) pairs of different views. Centering is DINO's
    running mean ('center') or DINOv2's Sinkhorn-Knopp ('sinkhorn', the default: with
    batch 32 on CPU the running-mean teacher drifted to uniform within ~100 steps)."""

    def __init__(self, out_dim, student_temp=0.1, center_momentum=0.9, centering="sinkhorn"):
        super().__init__()
        self.student_temp, self.center_momentum, self.centering = student_temp, center_momentum, centering
        self.register_buffer("center", torch.zeros(1, out_dim))

    def teacher_probs(self, t, teacher_temp):
        if self.centering == "sinkhorn":
            return sinkhorn_knopp(t, teacher_temp)
        return F.softmax((t - self.center) / teacher_temp, dim=-1).detach()

    def forward(self, student_out, teacher_out, teacher_temp):
        """student_out: list of [B, K] per view; teacher_out: list of [B, K] (2 global)."""
        teacher_p = [self.teacher_probs(t, teacher_temp) for t in teacher_out]
        total, n = 0.0, 0
        for ti, tp in enumerate(teacher_p):
            for si, s in enumerate(student_out):
                if si == ti:
                    continue
                total = total + torch.sum(-tp * F.log_softmax(s / self.student_temp, dim=-1), dim=-1).mean()
                n += 1
        self.update_center(torch.cat(teacher_out))
        return total / n

    @torch.no_grad()
    def update_center(self, teacher_logits):
        self.center.mul_(self.center_momentum).add_(teacher_logits.mean(0, keepdim=True), alpha=1 - self.center_momentum)


class DenseDINOLoss(DINOLoss):
    """DINO's cross-entropy per patch token, student view a vs teacher view b, tokens paired
    by where they sit in the source image; tokens whose point is outside view b are masked."""

    def forward(self, student_tokens, teacher_tokens, grids, teacher_temp):
        """student_tokens / teacher_tokens: 2 x [B, h*w, K] for the global views;
        grids: 2 x [B, S, S, 2] source coordinates of the global views' pixels."""
        total, n = 0.0, 0
        B, N, K = teacher_tokens[0].shape
        h = int(math.isqrt(N))
        for a, b in [(0, 1), (1, 0)]:
            # source coords of student token centres in view a
            ga = F.interpolate(grids[a].permute(0, 3, 1, 2), size=(h, h), mode="area")      # [B, 2, h, h]
            # where do those source points sit in view b? view b's grid is affine per axis
            gb = grids[b]
            x0, x1 = gb[:, 0, 0, 0], gb[:, 0, -1, 0]
            y0, y1 = gb[:, 0, 0, 1], gb[:, -1, 0, 1]
            S = gb.shape[1]
            # source p = x0 + (x1 - x0) * j / (S - 1) at pixel centre j of view b (flips
            # included); its normalised view coordinate is (2j + 1) / S - 1
            jx = (ga[:, 0] - x0.view(B, 1, 1)) / (x1 - x0).view(B, 1, 1) * (S - 1)
            jy = (ga[:, 1] - y0.view(B, 1, 1)) / (y1 - y0).view(B, 1, 1) * (S - 1)
            u, v = (2 * jx + 1) / S - 1, (2 * jy + 1) / S - 1
            grid_b = torch.stack([u, v], -1)                                                  # [B, h, h, 2]
            inside = (grid_b.abs() <= 1).all(-1).flatten(1).float()                           # [B, h*h]
            tmap = teacher_tokens[b].transpose(1, 2).reshape(B, K, h, h)
            t = F.grid_sample(tmap, grid_b, mode="bilinear", padding_mode="border", align_corners=False)
            t = t.flatten(2).transpose(1, 2)                                                  # [B, h*h, K]
            tp = self.teacher_probs(t.flatten(0, 1), teacher_temp).view(B, N, K)
            ce = torch.sum(-tp * F.log_softmax(student_tokens[a] / self.student_temp, dim=-1), dim=-1)
            total = total + (ce * inside).sum() / inside.sum().clamp_min(1)
            n += 1
        self.update_center(torch.cat(teacher_tokens).flatten(0, 1))
        return total / n


class DINOModel(nn.Module):
    """Backbone + head for CLS (DINOLoss) and a head for patch tokens (DenseDINOLoss)."""

    def __init__(self, cfg, out_dim):
        super().__init__()
        self.backbone = G.VisionTransformer(**cfg)
        self.head = DINOHead(cfg["dim"], out_dim)
        self.patch_head = DINOHead(cfg["dim"], out_dim)

    def forward(self, views, dense_views=0):
        cls, patches = [], []
        # views of equal size go through the backbone together
        sizes = sorted({v.shape[-1] for v in views}, reverse=True)
        out = {}
        for s in sizes:
            idx = [i for i, v in enumerate(views) if v.shape[-1] == s]
            tok = self.backbone(torch.cat([views[i] for i in idx]))
            for j, i in enumerate(tok.chunk(len(idx))):
                out[idx[j]] = i
        for i in range(len(views)):
            cls.append(self.head(out[i][:, 0]))
            if i < dense_views:
                patches.append(self.patch_head(out[i][:, 1:]))
        return cls, patches


class FirstN:
    """The first n items of a dataset."""

    def __init__(self, dataset, n):
        self.dataset, self.n = dataset, min(n, len(dataset))
        self.name = f"{dataset.name}[:{self.n}]"

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.dataset[i]


def cosine(step, total, start, end):
    if step >= total:
        return end
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * step / total))


def guide_cost(cfg=None, runs=5):
    """(params M, GMAC, ms per 128^2 image at batch 8 with the current thread count)."""
    g = G.VitGuide(cfg).eval()
    c = g.cfg
    n, d, L = (c["img_size"] // c["patch"]) ** 2 + 1, c["dim"], c["depth"]
    macs = L * (4 * n * d * d + 2 * n * n * d + 2 * c["mlp_ratio"] * n * d * d) + (n - 1) * 3 * c["patch"] ** 2 * d
    x = torch.zeros(8, 3, c["img_size"], c["img_size"])
    with torch.no_grad():
        g.tokens(x)
        t = time.time()
        for _ in range(runs):
            g.tokens(x)
    ms = (time.time() - t) / runs / 8 * 1000
    return sum(p.numel() for p in g.parameters()) / 1e6, macs / 1e9, ms


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", help="run name: folder <runs-dir>/NAME")
    ap.add_argument("--resume", help="run folder to continue")
    ap.add_argument("--runs-dir", default=str(REPO / "runs"))
    ap.add_argument("--data", default="aligned")
    ap.add_argument("--config", default="{}", help="JSON overrides of guide.VIT_CONFIG")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--local-crops", type=int, default=4)
    ap.add_argument("--global-size", type=int, default=128, help="side of the 2 global views")
    ap.add_argument("--local-size", type=int, default=64, help="side of the local views")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training faces (overfit checks)")
    ap.add_argument("--out-dim", type=int, default=1024, help="DINO prototypes K")
    ap.add_argument("--lr", type=float, default=5e-4, help="peak AdamW lr (scaled by batch/256 as in DINO)")
    ap.add_argument("--weight-decay", type=float, default=0.04)
    ap.add_argument("--warmup-steps", type=int, default=200)
    ap.add_argument("--total-steps", type=int, default=50000, help="length of the cosine schedules")
    ap.add_argument("--momentum", type=float, default=0.996, help="teacher EMA start (-> 1 by cosine)")
    ap.add_argument("--teacher-temp", type=float, default=0.04)
    ap.add_argument("--centering", choices=["sinkhorn", "center"], default="sinkhorn")
    ap.add_argument("--dense", type=float, default=1.0, help="weight of DenseDINOLoss (0 = CLS-only DINO)")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=0)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--ckpt-every-min", type=float, default=5)
    ap.add_argument("--export", default="", help="also write the teacher backbone here (compact guide file)")
    ap.add_argument("--cost", action="store_true", help="print the guide's cost and exit")
    args = ap.parse_args(argv)
    if not (args.run or args.resume or args.cost):
        ap.error("give --run NAME, --resume RUN_DIR or --cost")
    explicit = explicit_options(ap, argv)
    return args, explicit


def train(argv=None):
    args, explicit = parse_args(argv)
    if args.cost:
        torch.set_num_threads(args.threads)
        for cfg in [{}, {"dim": 192, "depth": 6, "heads": 3}]:
            p, gmac, ms = guide_cost(cfg)
            print(f"guide {json.dumps(dict(G.VIT_CONFIG, **cfg))}: {p:.2f} M params, {gmac:.3f} GMAC, {ms:.1f} ms/image")
        return None
    run_dir, o = open_run(args, explicit)
    torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)

    cfg = dict(G.VIT_CONFIG, **json.loads(o.config))
    student = DINOModel(cfg, o.out_dim)
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad_(False)
    centering = getattr(o, "centering", "center")   # runs from before the option: DINO's
    dino_loss, dense_loss = DINOLoss(o.out_dim, centering=centering), DenseDINOLoss(o.out_dim, centering=centering)
    # no weight decay on biases, norms, tokens (DINO's param groups)
    decay = [p for n, p in student.named_parameters() if p.requires_grad and p.ndim > 1 and "token" not in n and "pos_embed" not in n]
    no_decay = [p for n, p in student.named_parameters() if p.requires_grad and not (p.ndim > 1 and "token" not in n and "pos_embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": o.weight_decay}, {"params": no_decay, "weight_decay": 0}])
    peak_lr = o.lr * o.batch / 256

    train_set = data.open_dataset(o.data, "train")
    if getattr(o, "limit", 0):
        train_set = FirstN(train_set, o.limit)
    step, stream_state = 0, (0, 0)
    ckpt_path = run_dir / "checkpoint.pt"
    if o.resume:
        ck = torch.load(ckpt_path, map_location="cpu")
        student.load_state_dict(ck["student"]), teacher.load_state_dict(ck["teacher"])
        opt.load_state_dict(ck["opt"])
        dino_loss.center.copy_(ck["center"]), dense_loss.center.copy_(ck["dense_center"])
        step, stream_state = ck["step"], tuple(ck["stream_state"])
        print(f"resumed {run_dir} at step {step}")
    p_m, gmac, _ = guide_cost(cfg, runs=1)
    print(f"guide {json.dumps(cfg)}: {p_m:.2f} M params, {gmac:.3f} GMAC; data {train_set.name} ({len(train_set)})")
    stream = data.BatchStream(train_set, o.batch, o.seed, stream_state)
    log = open(run_dir / "log.jsonl", "a")

    def checkpoint():
        atomic_save({"step": step, "stream_state": stream.state, "config": cfg, "options": vars(o),
                     "student": student.state_dict(), "teacher": teacher.state_dict(), "opt": opt.state_dict(),
                     "center": dino_loss.center, "dense_center": dense_loss.center,
                     "teacher_backbone": teacher.backbone.state_dict()}, ckpt_path)
        if o.export:
            atomic_save({"format": "face-stylizer-guide-v1", "config": cfg, "step": step,
                         "guide": teacher.backbone.state_dict()}, o.export)

    start = last_ckpt = time.time()
    sums, n_log, busy = {}, 0, 0.0
    with Stop() as stop:
        while not ((o.steps and step >= o.steps) or (o.minutes and time.time() - start >= o.minutes * 60) or stop.requested):
            t0 = time.time()
            g = torch.Generator().manual_seed(o.seed * 1_000_003 + step)
            views, grids = A.multicrop(stream.next(), g, o.local_crops, getattr(o, "global_size", 128),
                                       getattr(o, "local_size", 64))
            lr = peak_lr * min(1.0, (step + 1) / o.warmup_steps) * cosine(step, o.total_steps, 1.0, 0.01)
            for group in opt.param_groups:
                group["lr"] = lr
            momentum = cosine(step, o.total_steps, o.momentum, 1.0)
            dense_on = o.dense > 0
            s_cls, s_patch = student(views, dense_views=2 if dense_on else 0)
            with torch.no_grad():
                t_cls, t_patch = teacher(views[:2], dense_views=2 if dense_on else 0)
            loss_cls = dino_loss(s_cls, t_cls, o.teacher_temp)
            loss = loss_cls
            parts = {"dino": loss_cls.item()}
            if dense_on:
                loss_dense = dense_loss(s_patch, t_patch, grids[:2], o.teacher_temp)
                loss = loss + o.dense * loss_dense
                parts["dense"] = loss_dense.item()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 3.0)
            opt.step()
            with torch.no_grad():
                for pt, ps in zip(teacher.parameters(), student.parameters()):
                    pt.mul_(momentum).add_(ps.detach(), alpha=1 - momentum)
                # teacher entropy: collapse shows as 0 (one prototype) or log K (uniform)
                tp = dino_loss.teacher_probs(torch.cat(t_cls), o.teacher_temp)
                parts["teacher_entropy"] = float(-(tp * tp.clamp_min(1e-12).log()).sum(-1).mean())
                # entropy of the batch-mean distribution: near 0 = one prototype for everything
                mp = tp.mean(0)
                parts["teacher_marginal_entropy"] = float(-(mp * mp.clamp_min(1e-12).log()).sum())
            step += 1
            busy += time.time() - t0
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            n_log += 1
            if step % o.log_every == 0:
                entry = {"kind": "train", "step": step, "lr": lr, "momentum": momentum,
                         "images_per_s": n_log * o.batch / busy, **{k: v / n_log for k, v in sums.items()},
                         "time": round(time.time(), 1)}
                log.write(json.dumps(entry) + "\n")
                log.flush()
                print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items() if k != "time"), flush=True)
                sums, n_log, busy = {}, 0, 0.0
            if time.time() - last_ckpt >= o.ckpt_every_min * 60:
                checkpoint()
                last_ckpt = time.time()
    stream.close()
    checkpoint()
    log.close()
    print(f"stopped at step {step}; checkpoint {ckpt_path}" + (f", guide {o.export}" if o.export else ""))
    return run_dir


if __name__ == "__main__":
    train()
