"""Base-model training loop: encoder + generator as one autoencoder.

Reconstruction (L1 + MS-SSIM) from the start; the adversarial term (patch discriminator,
non-saturating loss + lazy R1) is switched on with --adv WEIGHT once reconstructions are
sharp (optionally delayed with --adv-start-kimg). The warps stay at identity here: their
parameters are left out of the optimizer (style fine-tuning trains them).

A run is a folder runs/NAME/ holding
    options.json   every option (a resumed run keeps them)
    log.jsonl      one JSON object per line: kind "train" (losses, images/s) or "eval"
                   (held-out PSNR / SSIM of the EMA models)
    samples-KIMG.png   held-out reals (top row) and EMA reconstructions (bottom row)
    checkpoint.pt  everything needed to continue exactly, written atomically
Examples:
    nice /usr/bin/python3 training/train.py --run base128 --data aligned
    nice /usr/bin/python3 training/train.py --resume runs/base128
"""

import argparse
import copy
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np

# Passive OpenMP waiting: with the 2 cores shared (browsers, builds), spinning threads
# made a training step 3x slower. Must be set before torch starts its thread pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset as data  # noqa: E402
import losses  # noqa: E402
import metrics  # noqa: E402
import networks as N  # noqa: E402
from runs import explicit_options, open_run  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", help="run name: folder <runs-dir>/NAME")
    ap.add_argument("--resume", help="run folder to continue (its options.json is reused)")
    ap.add_argument("--runs-dir", default=str(REPO / "runs"))
    ap.add_argument("--data", default="aligned", help="'aligned' (cache), 'shared-raw' (fallback) or a cache folder")
    ap.add_argument("--raw-limit", type=int, default=0, help="shared-raw: use only this many training images")
    ap.add_argument("--config", default="{}", help="JSON overrides of networks.DEFAULT_CONFIG")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3, help="Adam lr of the generator (equalized lr layers)")
    ap.add_argument("--enc-lr", type=float, default=1e-3, help="Adam lr of the encoder")
    ap.add_argument("--l1", type=float, default=1.0, help="weight of L1")
    ap.add_argument("--ssim", type=float, default=1.0, help="weight of 1 - MS-SSIM")
    ap.add_argument("--delta-reg", type=float, default=1e-3, help="weight of the e4e W+ delta regulariser")
    ap.add_argument("--detail", type=float, default=0.0, help="weight of the high-frequency L1 (losses.detail_loss)")
    ap.add_argument("--warp-aug", type=float, default=0.0,
                    help="fraction of steps rendered through random warps against the equally warped crop (0 = off)")
    ap.add_argument("--warp-aug-scale", type=float, default=1.0, help="size of those warps (1 ~ the default packs' fields)")
    ap.add_argument("--adv", type=float, default=0.0, help="weight of the adversarial term (0 = off)")
    ap.add_argument("--adv-start-kimg", type=float, default=0.0, help="switch the adversarial term on here")
    ap.add_argument("--d-lr", type=float, default=2e-4)
    ap.add_argument("--r1-gamma", type=float, default=1.0)
    ap.add_argument("--r1-every", type=int, default=16, help="lazy R1: penalty every N D steps")
    ap.add_argument("--ema-kimg", type=float, default=10.0, help="EMA half-life in thousands of images")
    ap.add_argument("--ema-rampup", type=float, default=0.05, help="half-life <= this fraction of images seen")
    ap.add_argument("--kimg", type=float, default=0, help="stop after this many thousand images (0 = no limit)")
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps in total (0 = no limit)")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this many minutes of this process")
    ap.add_argument("--log-every", type=int, default=20, help="steps between train log lines")
    ap.add_argument("--eval-every-min", type=float, default=15)
    ap.add_argument("--eval-images", type=int, default=256)
    ap.add_argument("--ckpt-every-min", type=float, default=10)
    ap.add_argument("--init-from", default="", help="new run: start from this checkpoint's EMA weights wherever "
                                                     "names and shapes match (e.g. a narrower top of the generator)")
    ap.add_argument("--compact", default="", help="also write EMA weights + config here at every checkpoint "
                                                   "(e.g. models/base/checkpoint-latest.pt)")
    args = ap.parse_args(argv)
    if not (args.run or args.resume):
        ap.error("give --run NAME or --resume RUN_DIR")
    # options passed explicitly on the command line (they override a resumed run's options)
    explicit = explicit_options(ap, argv)
    return args, explicit


# ----------------------------------------------------------------------------------------


def atomic_save(obj, path):
    """torch.save to path.tmp then rename: a crash never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_grid(rows, path):
    """rows: list of [N, 3, H, W] tensors in [-1, 1] -> one PNG, one row each."""
    from PIL import Image

    grid = torch.cat([torch.cat(list(r.clamp(-1, 1)), dim=2) for r in rows], dim=1)   # [3, R*H, N*W]
    array = ((grid.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
    Image.fromarray(array).save(path)


@torch.no_grad()
def randomize_warps(generator, g, scale=1.0):
    """Random warp fields of the size style packs learn (mean displacement ~4 crop px at
    scale 1, local compression to ~0.6): rotation, anisotropic scale and shift plus a random
    TPS, in every slot. Fine-tuning moves the encoder's features with such fields, and a
    decoder that never saw resampled features renders them as a smear; these steps teach
    it to render them sharp (the target is the crop resampled by the output's flow)."""
    for warp in generator.warps:
        warp.affine.theta.copy_(torch.randn(1, generator=g) * 0.04 * scale)
        warp.affine.log_scale.copy_(torch.randn(2, generator=g) * 0.05 * scale)
        warp.affine.translation.copy_(torch.randn(2, generator=g) * 0.02 * scale)
        warp.tps.offsets.copy_(torch.randn(warp.tps.offsets.shape, generator=g) * 0.03 * scale)


@torch.no_grad()
def reset_warps(generator):
    for p in generator.warp_parameters():
        p.zero_()


@torch.no_grad()
def ema_update(ema, model, beta):
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm, 1 - beta)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)  # BatchNorm running statistics: take the live ones


def init_from_checkpoint(path, encoder, generator):
    """Copy a trained model's (EMA) weights into a new architecture wherever a tensor's name
    and shape match; a layer that is new or changed shape keeps its fresh init, except a
    sub-pixel ToRGB, which starts at zero so the first output is the trained model's image
    one resolution down, upsampled (training then only has to add the detail)."""
    saved = torch.load(path, map_location="cpu")
    fresh = {}   # per network: the tensors left at their fresh init
    for name, module in [("encoder", encoder), ("generator", generator)]:
        weights = saved.get(f"{name}_ema", saved[name])
        own = module.state_dict()
        kept = {k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}
        module.load_state_dict(kept, strict=False)
        fresh[name] = sorted(set(own) - set(kept))
        print(f"init {name} from {path}: {len(kept)} tensors copied, fresh: {', '.join(fresh[name]) or 'none'}")
    # A fresh ToRGB at the top (sub-pixel, or the 1x1 behind a new up-conv at the output
    # resolution) starts at zero: the first output is the trained model's image one resolution
    # down, upsampled by the skip path, and training only has to add the detail.
    top = len(generator.to_rgbs) - 1
    for i, rgb in enumerate(generator.to_rgbs):
        if (rgb.subpixel or i == top) and f"to_rgbs.{i}.conv.weight" in fresh["generator"]:
            with torch.no_grad():
                rgb.conv.weight.zero_()


def compact_state(cfg, encoder_ema, generator_ema, nimg, last_eval):
    """What downstream code (export, style fine-tuning) needs: config + EMA weights."""
    return {"format": "face-stylizer-base-v1", "config": cfg, "nimg": nimg, "eval": last_eval,
            "encoder": encoder_ema.state_dict(), "generator": generator_ema.state_dict()}


class Stop:
    """While active, SIGINT/SIGTERM ask the loop to checkpoint and leave at the end of the
    step (the previous handlers come back afterwards)."""

    def __init__(self):
        self.requested = False
        self.previous = {}

    def __enter__(self):
        for s in (signal.SIGINT, signal.SIGTERM):
            self.previous[s] = signal.signal(s, self._handler)
        return self

    def __exit__(self, *exc):
        for s, h in self.previous.items():
            signal.signal(s, h)

    def _handler(self, *_):
        self.requested = True


# ----------------------------------------------------------------------------------------


def train(argv=None):
    args, explicit = parse_args(argv)
    run_dir, o = open_run(args, explicit)

    torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    device = torch.device(o.device)
    ckpt_path = run_dir / "checkpoint.pt"
    ck = torch.load(ckpt_path, map_location="cpu") if args.resume else None
    # a resumed run keeps the architecture it was started with
    cfg = N.config_from_checkpoint(ck["config"]) if ck else N.make_config(**json.loads(o.config))
    encoder, generator = (m.to(device) for m in N.build(cfg))
    if not ck and o.init_from:   # (a resumed run has its weights; older runs' options lack the key)
        init_from_checkpoint(o.init_from, encoder, generator)
    discriminator = N.PatchDiscriminator(cfg).to(device)
    encoder_ema, generator_ema = copy.deepcopy(encoder).eval(), copy.deepcopy(generator).eval()
    for p in list(encoder_ema.parameters()) + list(generator_ema.parameters()):
        p.requires_grad_(False)

    warp_ids = {id(p) for p in generator.warp_parameters()}
    for p in generator.warp_parameters():   # never trained here (--warp-aug sets them by hand)
        p.requires_grad_(False)
    opt = torch.optim.Adam([
        {"params": list(encoder.parameters()), "lr": o.enc_lr},
        {"params": [p for p in generator.parameters() if id(p) not in warp_ids], "lr": o.lr},
    ], betas=(0.9, 0.99))
    # D: lazy R1 scales betas / lr as in StyleGAN2 so the effective schedule is unchanged
    c = o.r1_every / (o.r1_every + 1)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=o.d_lr * c, betas=(0.0, 0.99 ** c))

    train_set = data.open_dataset(o.data, "train", cfg["size"], limit=o.raw_limit or None, alignment=cfg["alignment"])
    eval_set = data.open_dataset(o.data, "eval", cfg["size"], alignment=cfg["alignment"])
    data_alignment = getattr(train_set, "meta", {}).get("alignment")
    if data_alignment and data_alignment != cfg["alignment"]:
        sys.exit(f"the data's crops are {data_alignment} but the model is configured for {cfg['alignment']} "
                 f"(cut them with training/prepare_data.py --alignment {cfg['alignment']}, or pass --config)")
    eval_images = data.fixed_images(eval_set, o.eval_images).to(device)
    print(f"data: {train_set.name} ({len(train_set)} train), {eval_set.name} ({len(eval_images)} eval)")

    step, nimg, stream_state, last_eval = 0, 0, (0, 0), None
    if ck:
        encoder.load_state_dict(ck["encoder"]), generator.load_state_dict(ck["generator"])
        encoder_ema.load_state_dict(ck["encoder_ema"]), generator_ema.load_state_dict(ck["generator_ema"])
        if "discriminator" in ck:   # (runs.share_resume drops one that never trained: the seed rebuilt it)
            discriminator.load_state_dict(ck["discriminator"])
        opt.load_state_dict(ck["opt"]), d_opt.load_state_dict(ck["d_opt"])
        step, nimg, stream_state, last_eval = ck["step"], ck["nimg"], tuple(ck["stream_state"]), ck.get("last_eval")
        torch.set_rng_state(ck["rng"]["torch"]), np.random.set_state(ck["rng"]["numpy"])
        random.setstate(ck["rng"]["python"])
        print(f"resumed {run_dir} at step {step}, {nimg / 1000:.1f} kimg")
        ck = None   # (the optimiser states are copied; free the loaded tensors)
    n_params = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    print(f"encoder {n_params(encoder) / 1e6:.2f}M, generator {n_params(generator) / 1e6:.2f}M, "
          f"L={generator.n_latent} D={cfg['style_dim']} C={cfg['feature_ch']}+4x{cfg.get('detail_ch', 0)} S={cfg['feature_res']}")

    stream = data.BatchStream(train_set, o.batch, o.seed, stream_state)
    log = open(run_dir / "log.jsonl", "a")
    alpha = torch.ones(1, device=device)  # warps are identity during base training; keep them in the graph

    def write_log(entry):
        entry.update(step=step, kimg=round(nimg / 1000, 3), time=round(time.time(), 1))
        log.write(json.dumps(entry) + "\n")
        log.flush()
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()
                       if k != "time"), flush=True)

    def evaluate():
        nonlocal last_eval
        last_eval = metrics.reconstruction_metrics(encoder_ema, generator_ema, eval_images)
        write_log({"kind": "eval", **last_eval})
        with torch.no_grad():
            real = eval_images[:8]
            fake, _ = generator_ema(*encoder_ema(real), torch.zeros(1, device=device))
        save_grid([real.cpu(), fake.cpu()], run_dir / f"samples-{nimg // 1000:06d}.png")

    def checkpoint():
        atomic_save({
            "step": step, "nimg": nimg, "stream_state": stream.state, "last_eval": last_eval,
            "config": cfg, "options": vars(o),
            "encoder": encoder.state_dict(), "generator": generator.state_dict(),
            "encoder_ema": encoder_ema.state_dict(), "generator_ema": generator_ema.state_dict(),
            "discriminator": discriminator.state_dict(), "opt": opt.state_dict(), "d_opt": d_opt.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
        }, ckpt_path)
        if o.compact:
            atomic_save(compact_state(cfg, encoder_ema, generator_ema, nimg, last_eval), o.compact)

    start = time.time()
    last_eval_t = last_ckpt_t = start
    if last_eval is None:
        evaluate()
    with Stop() as stop:
        sums, busy, n_log = {}, 0.0, 0   # busy: seconds spent in training steps (not eval/ckpt)
        while True:
            done = ((o.kimg and nimg >= o.kimg * 1000) or (o.steps and step >= o.steps)
                    or (o.minutes and time.time() - start >= o.minutes * 60) or stop.requested)
            if done:
                break
            t_step = time.time()
            # the same (seed, step) always gives the same augmentation, resumed or not
            real = data.augment(stream.next(), torch.Generator().manual_seed(o.seed * 1_000_003 + step))
            real = real.to(device)
            adv_on = o.adv > 0 and nimg >= o.adv_start_kimg * 1000

            # --- encoder + generator step
            rng = torch.Generator().manual_seed(o.seed * 1_000_003 + step + 7)
            warped = getattr(o, "warp_aug", 0) > 0 and torch.rand(1, generator=rng).item() < o.warp_aug
            if warped:
                randomize_warps(generator, rng, o.warp_aug_scale)
            w_plus, features = encoder(real)
            fake, flow = generator(w_plus, features, alpha)
            if warped:
                reset_warps(generator)   # base checkpoints (and the EMA) keep identity warps
                real = N.warp_like(real, flow.detach())
            loss, parts = losses.reconstruction_loss(fake, real, o.l1, o.ssim)
            reg = losses.w_delta_regularizer(w_plus)
            loss = loss + o.delta_reg * reg
            parts["delta_reg"] = reg.item()
            if getattr(o, "detail", 0) > 0:   # (runs started before the option have none)
                detail = losses.detail_loss(fake, real)
                loss = loss + o.detail * detail
                parts["detail"] = detail.item()
            if adv_on:
                for p in discriminator.parameters():
                    p.requires_grad_(False)
                g_adv = losses.g_nonsaturating_loss(discriminator(fake))
                loss = loss + o.adv * g_adv
                parts["g_adv"] = g_adv.item()
                for p in discriminator.parameters():
                    p.requires_grad_(True)
            parts["loss"] = loss.item()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

            # --- discriminator step (+ lazy R1)
            if adv_on:
                d_loss = losses.d_logistic_loss(discriminator(real), discriminator(fake.detach()))
                parts["d_loss"] = d_loss.item()
                if step % o.r1_every == 0:
                    real_r1 = real.detach().requires_grad_(True)
                    r1 = losses.r1_penalty(discriminator(real_r1), real_r1)
                    d_loss = d_loss + o.r1_gamma / 2 * r1 * o.r1_every
                    parts["r1"] = r1.item()
                d_opt.zero_grad(set_to_none=True)
                d_loss.backward()
                d_opt.step()

            # --- EMA (StyleGAN2-ADA: half-life in images, ramped up early in training)
            step += 1
            nimg += o.batch
            ema_nimg = min(o.ema_kimg * 1000, nimg * o.ema_rampup) if o.ema_rampup else o.ema_kimg * 1000
            beta = 0.5 ** (o.batch / max(ema_nimg, 1e-8))
            ema_update(encoder_ema, encoder, beta)
            ema_update(generator_ema, generator, beta)

            busy += time.time() - t_step
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            n_log += 1
            if step % o.log_every == 0:
                write_log({"kind": "train", "images_per_s": n_log * o.batch / busy,
                           **{k: v / n_log for k, v in sums.items()}})
                sums, busy, n_log = {}, 0.0, 0
            now = time.time()
            if now - last_eval_t >= o.eval_every_min * 60:
                evaluate()
                last_eval_t = time.time()
            if now - last_ckpt_t >= o.ckpt_every_min * 60:
                checkpoint()
                last_ckpt_t = time.time()

    stream.close()
    evaluate()
    checkpoint()
    log.close()
    print(f"stopped at step {step}, {nimg / 1000:.2f} kimg; checkpoint {ckpt_path}")
    return run_dir


if __name__ == "__main__":
    train()
