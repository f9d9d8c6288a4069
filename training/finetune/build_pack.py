"""Build the Python half of a style pack from one real/style pair (or a style image alone):
fine-tune the base generator, export it to ONNX, render the preview grid.

Two ways in:
  * `--work DIR` (what `face-stylizer pack build` calls, after it has detected and aligned
    both images in headless Chromium with the runtime's own landmarker): writes
        DIR/generator.onnx   fine-tuned generator (model contract v1, alpha input)
        DIR/encoder.onnx     the base encoder it was trained behind (for its SHA-256; not shipped)
        DIR/contract.json    the model I/O contract
        DIR/preview.png      held-out faces x alpha in {0, 0.5, 1, 1.5}
        DIR/build.json       provenance, timings, loss summary
    With `--align FILE` (JSON from the CLI: {"real": {"cropFromImage": [6]}, "style": {...}})
    the crops are cut with the contract's sampling rule (prepare_data.cut_crop); without it the
    images must already be aligned squares (e.g. ../shared/data/pairs, FFHQ-aligned 512^2).
  * `--out DIR`: the whole pack. Runs `npx tsx src/cli.ts pack build ...`, which aligns,
    calls this file with --work, writes the manifest with buildPack and verifies it.

Progress: `--progress json` prints one JSON object per line on stdout
({"event": "progress", "stage", "step", "total", "eta_s", ...}, then {"event": "done"});
errors exit 1 with {"event": "error", "code", "message"}.

    /usr/bin/python3 training/finetune/build_pack.py --real R.jpg --style S.jpg --name NAME --out DIR
    nice -n 10 /usr/bin/python3 training/finetune/build_pack.py --style ../shared/data/pairs/anime.style.jpg \\
        --real ../shared/data/pairs/anime.real.jpg --work /tmp/anime-work --steps 200
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import export  # noqa: E402
import guide as guides  # noqa: E402
from finetune import face_pool, grade, loop, metrics  # noqa: E402
from finetune.networks import LatentPool, MixedGeneratorExport, StyleMixing, composite_groups, load_base  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# The pack recipe on top of loop.FinetuneOptions (docs/ablation.md "Recipe experiments"): the
# pair's augmented views as paired supervision, the style's texture statistics on the samples,
# and a 5x generator learning rate (fourth base model: anime judge top-1 67 %, 33 % on the
# third); since session 11 the style's palette on the inner face (colour: the green / lilac
# casts went) and shift consistency (steady: sub-pixel crop jitter must not redraw the texture);
# since session 12 the pair's own landmark change as direct supervision of the warps (geometry:
# pixar-3d transfer at alpha 1 0.24 -> 0.71); since session 15 the distribution of the style's
# 3 x 3 RGB patches on the inner face (patches: judge top-1 jojo 67 -> 88 %, cartoon-narrow
# 71 -> 83 %, caricature-bigeyes 33 -> 46 % against the same builds without it; anime 38 -> 33 %);
# since session 28 the palette per region, skin, eyes and lips at the style's own landmarks
# (colour_regions: the whole-face term paints a style's dark masses -- ink, outlines, a fringe --
# into every face's eye sockets, lips and nostrils; all nine default packs use it since session 29).
# --options overrides any of these.
RECIPE = {"paired": 2.0, "texture": 1.0, "lr": 1e-3, "colour": 5.0, "colour_regions": True, "steady": 20.0,
          "steady_batch": 1, "geometry": 1.0, "patches": 5.0}
DEFAULT_CHECKPOINTS = [REPO / "models" / "base" / "checkpoint-latest.pt", REPO / "runs" / "base128" / "checkpoint.pt"]
ALPHAS = (0.0, 0.5, 1.0, 1.5)
MAX_PIXELS = 40_000_000   # refuse decompression bombs before decoding
COMPOSITE = 3             # held-out faces whose codes are averaged into one preview face


class BuildError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


# the crop size of the landmark tool's matrices and points (align.json's cropFromImage and
# cropPoints; scripts/lib/face-landmarks.mjs' default): a 144^2 base must scale them, not reuse them
LANDMARK_CROP_SIZE = 128


def load_image(path, crop_from_image=None, size=128, alignment="ffhq-v1"):
    """An aligned [1, 3, size, size] crop in [-1, 1] of the model's crop `alignment`.
    crop_from_image: the ffhq-v1 matrix the CLI's landmarker found, at LANDMARK_CROP_SIZE (its
    crop size, whatever the model's: scaled to `size` and reframed here); without it the image
    must be an ffhq-v1 aligned square (../shared/data/pairs)."""
    from PIL import Image, UnidentifiedImageError

    import prepare_data

    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                raise BuildError("too-large", f"{path}: {im.width}x{im.height} pixels is more than {MAX_PIXELS}")
            rgb = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as e:
        raise BuildError("not-an-image", f"{path}: not a readable image ({e})") from e
    if crop_from_image is not None:
        ffhq = [v * size / LANDMARK_CROP_SIZE for v in crop_from_image]   # the same square at `size` px
        crop, _ = prepare_data.cut_crop(rgb, prepare_data.reframe(ffhq, size, alignment), size)
    else:
        h, w = rgb.shape[:2]
        if abs(h - w) > 2:
            raise BuildError("not-aligned", f"{path}: {w}x{h} is not square; pass --align (or use `face-stylizer pack build`)")
        # the ffhq-v1 square -> the model's framing (a box in it), resized with a proper filter
        core_from_ffhq = prepare_data.reframe([1, 0, 0, 0, 1, 0], w, alignment)   # in this image's pixels
        left, top, side = -core_from_ffhq[2] / core_from_ffhq[0], -core_from_ffhq[5] / core_from_ffhq[4], w / core_from_ffhq[0]
        crop = np.asarray(Image.fromarray(rgb).resize((size, size), Image.LANCZOS, box=(left, top, left + side, top + side)))
    return torch.from_numpy(crop.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1


def pair_points(align, size, alignment):
    """The face-mesh landmarks of both halves in the model's crop px ({"real", "style"}: [N, 2]),
    from the CLI's align.json (cropPoints: ffhq-v1 crop px at LANDMARK_CROP_SIZE); None without
    the style's. A style-only pack has {"real": None, "style": ...}: its regions, no geometry."""
    import prepare_data

    real, style = (align.get(k, {}).get("cropPoints") for k in ("real", "style"))
    if not style or (real and len(real) != len(style)):
        return None
    m = np.array(prepare_data.reframe([1, 0, 0, 0, 1, 0], size, alignment)).reshape(2, 3)   # ffhq crop px -> model crop px

    def to_model(points):
        xy = np.array([[p["x"], p["y"]] for p in points]) * (size / LANDMARK_CROP_SIZE)   # ffhq crop px at `size`
        return xy @ m[:, :2].T + m[:, 2]

    return {"real": to_model(real) if real else None, "style": to_model(style)}


def to_uint8(x):
    """[-1, 1] NCHW tensor/array -> uint8 NHWC."""
    x = np.asarray(x, np.float32)
    return np.clip(np.round((x.transpose(0, 2, 3, 1) + 1) * 127.5), 0, 255).astype(np.uint8)


def landmarks_of(faces):
    """The runtime landmarker's [N, 478, 2] points (crop px, NaN where no face) on [N, 3, S, S]
    crops in [-1, 1]."""
    from finetune.landmark_tool import landmarks

    return landmarks(to_uint8(faces))


def projection_points(projection, emit):
    """The face-mesh landmarks of a style-only pack's real half (the style's projection, as the
    base generator renders it: [1, 3, S, S] in [-1, 1]) in its crop px, from the runtime's
    landmarker; None (no geometry term) when it finds no face there."""
    points = landmarks_of(projection)[0]
    if not np.isfinite(points).all():
        emit({"event": "warning", "message": "no face found in the style's projection: built without the geometry term"})
        return None
    return points.astype(np.float64)


def face_points(faces, count, emit):
    """[M, count, 2] landmarks (crop px) of the faces ([M, 3, S, S] in [-1, 1]) the runtime's
    landmarker finds, for the geometry term on other faces than the pair's (geometry_faces)."""
    points = landmarks_of(faces)
    found = points[np.isfinite(points).all(axis=(1, 2))]
    if found.shape[1] != count:
        emit({"event": "warning", "message": f"the pool faces' landmarks ({found.shape[1]}) are not the pair's ({count}): geometry on the pair only"})
        return None
    return found.astype(np.float64)


def save_grid(rows, path):
    from train import save_grid as grid
    grid(rows, path)


def find_checkpoint(arg):
    if arg:
        return None if arg == "random" else arg
    for c in DEFAULT_CHECKPOINTS:
        if c.exists():
            return str(c)
    raise BuildError("no-base-model", "no base checkpoint: train one (training/train.py --compact "
                     "models/base/checkpoint-latest.pt) or pass --checkpoint")


def random_base_config():
    """--checkpoint random (tests of the plumbing): random weights in the committed base's
    architecture and crop, so that the pack fits the committed face pool and contract."""
    committed = DEFAULT_CHECKPOINTS[0]
    return torch.load(committed, map_location="cpu")["config"] if committed.exists() else None


def reference_blas():
    """True when torch's matrix products run on Debian's reference BLAS (no OpenBLAS installed):
    a fine-tuning step then takes ~1.7x as long (scripts/install-system-deps.sh)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    return "/blas/libblas.so" in maps   # Debian's reference BLAS lives in .../blas/, OpenBLAS elsewhere


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def latent_faces(args, checkpoint, cfg):
    """(pool faces, held-out faces, pool provenance or None): the committed face pool
    (face_pool.py; --data pool, the default) or real aligned faces (--data aligned | shared-raw | DIR)."""
    if args.data == "pool":
        try:
            train, held_out, info = face_pool.load(checkpoint, cfg)
        except face_pool.PoolError as e:
            raise BuildError("no-face-pool", str(e)) from e
        return train[:args.pool], held_out, info
    try:
        pool = LatentPool.real_faces(args.pool, "train", args.seed, args.data, cfg["alignment"], cfg["size"])
        # 4x the faces a preview needs, so each composite finds close neighbours (composite_groups)
        held_out = LatentPool.real_faces(args.preview_faces * COMPOSITE * 4, "eval", args.seed, args.data,
                                         cfg["alignment"], cfg["size"])
    except FileNotFoundError as e:
        raise BuildError("no-data", f"{e}; the default --data pool needs no dataset") from e
    return pool, held_out, None


def build_work(args, emit):
    t_start = time.time()
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    align = json.loads(Path(args.align).read_text()) if args.align else {}

    emit({"event": "progress", "stage": "load", "step": 0, "total": 1})
    if reference_blas():
        emit({"event": "warning", "message": "torch uses the reference BLAS: install libopenblas0-openmp "
              "(scripts/install-system-deps.sh) for a build about 1.7x faster"})
    checkpoint = find_checkpoint(args.checkpoint)
    torch.manual_seed(args.seed)
    cfg, encoder, G_src = load_base(checkpoint, None if checkpoint else random_base_config())
    # default guide: encoder features (guide.DEFAULT_ENCODER_GUIDE says why that one)
    default_guide = guides.DEFAULT_ENCODER_GUIDE if guides.DEFAULT_ENCODER_GUIDE.exists() else checkpoint
    guide_spec = args.guide or (f"encoder:{os.path.relpath(default_guide, REPO)}" if checkpoint else "random")
    guide = guides.load_guide(guide_spec)
    size = cfg["size"]
    style = load_image(args.style, align.get("style", {}).get("cropFromImage"), size, cfg["alignment"])
    real = load_image(args.real, align.get("real", {}).get("cropFromImage"), size, cfg["alignment"]) if args.real else None

    pool_faces, held_out, pool_info = latent_faces(args, checkpoint, cfg)
    pool = LatentPool(encoder, pool_faces)
    with torch.no_grad():
        w_style, f_style = encoder(style)
        if real is not None:
            w_real, f_real = encoder(real)
        else:   # style-only: the real half is the style's projection onto real-face codes
            w_real, f_real = pool.project(w_style, f_style)
            real = G_src(w_real, f_real, torch.zeros(1))[0].clamp(-1, 1)
    opts = loop.FinetuneOptions(steps=args.steps, minutes=args.minutes, seed=args.seed)
    for k, v in {**RECIPE, **json.loads(args.options)}.items():
        default = getattr(opts, k)
        setattr(opts, k, v if default is None else type(default)(v))
    points = pair_points(align, size, cfg["alignment"])
    if not args.real and opts.projection_geometry and opts.geometry > 0 and points:
        points = {**points, "real": projection_points(real, emit)}
    if opts.geometry_faces > 0 and opts.geometry > 0 and points and points["real"] is not None:
        points = {**points, "faces": face_points(pool_faces[:opts.geometry_faces], len(points["real"]), emit)}
    if opts.detail_faces > 0 and points:   # FaceDetail: the real half's and some pool faces' regions
        real_points = points.get("real") if points.get("real") is not None else projection_points(real, emit)
        pool_points = landmarks_of(pool_faces[:opts.detail_pool])
        found = [i for i in range(len(pool_points)) if np.isfinite(pool_points[i]).all()]
        if real_points is None or not found:   # nothing to measure the change on: build without the term
            emit({"event": "warning", "message": "no landmarks for the detail term (real half or pool faces): built without it"})
            opts.detail_faces = 0.0
        else:
            points = {**points, "detail_real": real_points, "pool": (found, pool_points[found].astype(np.float64))}
    pair = {"real": real, "style": style, "w_real": w_real, "f_real": f_real, "w_style": w_style, "points": points}
    t_ft = time.time()

    def progress(step, total, parts):
        if step % max(1, total // 100) == 0 or step == total:
            elapsed = time.time() - t_ft
            emit({"event": "progress", "stage": "finetune", "step": step, "total": total,
                  # whichever ends first: the steps or the --minutes budget
                  "eta_s": min(elapsed / step * (total - step), max(0.0, args.minutes * 60 - elapsed) if args.minutes else float("inf")),
                  **{k: round(v, 4) for k, v in parts.items() if k in ("dir", "rsc", "rec", "checker", "checker_views", "checker_faces", "loss", "ms")}})

    G, stats = loop.finetune(G_src, guide, pool, pair, opts, progress=progress, encoder=encoder)
    if stats["steps"] < opts.steps:   # stopped by the --minutes budget: close the bar
        emit({"event": "progress", "stage": "finetune", "step": stats["steps"], "total": stats["steps"], "eta_s": 0})

    emit({"event": "progress", "stage": "export", "step": 0, "total": 1})
    # the encoder the pack was trained behind: exported here only for its SHA-256 (ONNX
    # export of the same weights is byte-identical to models/base/encoder.onnx)
    e_img = torch.zeros(1, 3, size, size)
    with torch.no_grad():
        w0, f0 = encoder(e_img)
    export.export_onnx(export.EncoderExport(encoder).eval(), (e_img,), ["image"], ["w_plus", "features"], work / "encoder.onnx")
    layers = opts.mixing_layers(G)
    export.export_onnx(MixedGeneratorExport(export.frozen_warps(G), w_style, layers).eval(), (w0, f0, torch.ones(1)),
                       ["w_plus", "features", "alpha"], ["image", "flow"], work / "generator.onnx")
    contract = export.contract(cfg, G.n_latent)
    (work / "contract.json").write_text(json.dumps(contract, indent=2) + "\n")

    emit({"event": "progress", "stage": "preview", "step": 0, "total": 1})
    mixing = StyleMixing(layers)
    with torch.no_grad():
        w_h, f_h = encoder(held_out)
        # the committed preview shows no photo and no person of ../shared/data (its licence
        # forbids copying even crops): each row is a composite of COMPOSITE held-out faces'
        # codes, rendered by the base generator and then by the pack at each alpha
        if pool_info:   # the committed pool's faces are composites already
            w_c, f_c = w_h[:args.preview_faces], f_h[:args.preview_faces]
        else:
            groups = composite_groups(f_h, COMPOSITE, args.preview_faces)
            w_c = torch.stack([w_h[g].mean(0) for g in groups])
            f_c = torch.stack([f_h[g].mean(0) for g in groups])
        base_c = G_src(w_c, f_c, torch.zeros(1))[0].clamp(-1, 1)
        rows_c = loop.render(G, mixing(w_c, w_style), f_c, ALPHAS)
        rows_p = loop.render(G, mixing(w_real, w_style), f_real, ALPHAS)
        # the frame grade: what the pack does to held-out faces' colours, at alpha 0 (pixels correspond)
        frame_grade = grade.fit(held_out.numpy(), loop.render(G, mixing(w_h, w_style), f_h, [0.0])[0].numpy())
    measured = {"warp_px": metrics.warp_magnitude(G),
                "held_out_before": metrics.directional_score(G_src, G_src, guide, w_h, f_h, pair, layers),
                "held_out_after": metrics.directional_score(G, G_src, guide, w_h, f_h, pair, layers)}
    # preview.png (shipped) columns: base render | alpha 0, 0.5, 1, 1.5
    save_grid([torch.cat([base_c[i:i + 1]] + [r[i:i + 1] for r in rows_c]) for i in range(len(base_c))],
              work / "preview.png")
    # pair-preview.png (work folder only, never in the pack): real | style | alpha 0, 0.5, 1, 1.5
    save_grid([torch.cat([real, style] + rows_p)], work / "pair-preview.png")

    shipped = REPO / "models" / "base" / "encoder.onnx"
    if shipped.exists() and sha256(shipped) != sha256(work / "encoder.onnx"):
        emit({"event": "warning", "message": f"{shipped} was not exported from {checkpoint}: the pack will be "
              "refused as incompatible by a runtime using it (export the base from this checkpoint, "
              "or pass --checkpoint with the one that was exported)"})
    build = {
        "name": args.name, "style": str(args.style), "real": str(args.real) if args.real else None,
        "mode": "pair" if args.real else "style-only", "checkpoint": str(checkpoint or "random"),
        "guide": guide_spec, "latentFaces": pool_info or {"data": args.data, "pool": args.pool},
        "options": opts.to_dict(), "stats": stats, "metrics": measured, "grade": frame_grade,
        "encoderSha256": sha256(work / "encoder.onnx"), "seconds": time.time() - t_start,
        "previewLayout": f"rows: composites of {COMPOSITE} held-out faces each; columns: base generator, alpha 0, 0.5, 1, 1.5",
        "torchThreads": args.threads,
        "geometryFaces": 0 if points is None or points.get("faces") is None else len(points["faces"]),   # pool faces the landmarker found
    }
    (work / "build.json").write_text(json.dumps(build, indent=2) + "\n")
    emit({"event": "done", "seconds": build["seconds"], "ms_per_step": stats["ms_per_step"]})
    return build


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--style", required=True, help="style image")
    ap.add_argument("--real", help="real photo of the same person (omit: style-image-only mode)")
    ap.add_argument("--name", default="", help="pack name (for people); the id is derived from it by the CLI")
    ap.add_argument("--out", help="write the whole pack here (runs the TS CLI `pack build`)")
    ap.add_argument("--work", help="write generator.onnx, preview.png, build.json here (the CLI's step)")
    ap.add_argument("--align", help="JSON with cropFromImage of 'real' and 'style' (from the CLI)")
    ap.add_argument("--checkpoint", help="base checkpoint (default models/base/checkpoint-latest.pt), or 'random'")
    ap.add_argument("--guide", help="encoder:CHECKPOINT | vit:PATH | torchscript:PATH | random "
                    "(default: encoder:models/guide/encoder-guide.pt)")
    ap.add_argument("--data", default="pool", help="latent-sample faces: 'pool' (the committed face pool, "
                    "training/finetune/face_pool.py), or real faces: 'aligned' cache, 'shared-raw' or a cache folder")
    # on both cores a step takes ~0.6 s at 144² with OpenBLAS (1.4-1.6 s on Debian's reference
    # BLAS): 600 steps take ~6 min; on a slower machine the time cap ends the build, so that
    # aligning, exporting and the preview fit in the pack budget of 10 min as well
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--minutes", type=float, default=9.25, help="fine-tuning time cap (the pack budget is 10 min in all)")
    ap.add_argument("--options", default="{}", help="JSON overrides of loop.FinetuneOptions")
    ap.add_argument("--pool", type=int, default=256, help="faces encoded as latent samples (at most the pool's)")
    ap.add_argument("--preview-faces", type=int, default=4, help="preview rows (composite faces)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--progress", choices=["text", "json"], default="text")
    args, rest = ap.parse_known_args(argv)

    if args.out:   # one orchestrator (the TS CLI): it aligns, calls --work, writes + verifies the pack
        cmd = ["npx", "tsx", "src/cli.ts", "pack", "build", "--style", args.style, "--out", args.out,
               "--name", args.name or Path(args.style).stem, "--steps", str(args.steps), "--minutes", str(args.minutes)]
        if args.real:
            cmd += ["--real", args.real]
        # options of the --work step travel after "--" (the CLI hands them back to this file)
        passthrough = []
        for flag in ("checkpoint", "guide", "data", "options", "pool", "preview_faces", "threads", "seed"):
            value = getattr(args, flag)
            if value != ap.get_default(flag):
                passthrough += [f"--{flag.replace('_', '-')}", str(value)]
        return subprocess.call(cmd + rest + ["--"] + passthrough, cwd=REPO)
    if not args.work:
        ap.error("give --out DIR (whole pack) or --work DIR")

    def emit(event):
        if args.progress == "json":
            print(json.dumps(event), flush=True)
        elif event["event"] == "warning":
            print(f"warning: {event['message']}", file=sys.stderr, flush=True)
        elif event["event"] == "progress":
            eta = f" ETA {event['eta_s']:.0f}s" if "eta_s" in event else ""
            print(f"{event['stage']} {event['step']}/{event['total']}{eta}", file=sys.stderr, flush=True)
    try:
        build_work(args, emit)
    except Exception as e:   # one line for the user; the traceback only with FACE_STYLIZER_DEBUG=1
        if os.environ.get("FACE_STYLIZER_DEBUG"):
            import traceback
            traceback.print_exc()
        code = e.code if isinstance(e, BuildError) else "internal"
        message = str(e) if isinstance(e, BuildError) else f"{type(e).__name__}: {e} (FACE_STYLIZER_DEBUG=1 shows the traceback)"
        emit({"event": "error", "code": code, "message": " ".join(message.split())})
        if args.progress != "json":
            print(f"error [{code}]: {' '.join(message.split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
