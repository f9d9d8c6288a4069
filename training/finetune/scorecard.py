"""Scorecard of style packs on held-out faces: prints a table (and writes JSON / Markdown).

Everything is measured on what ships: the pack's generator.onnx behind models/base/encoder.onnx,
run by onnxruntime-web (wasm) in node, on held-out aligned crops (people never trained on).

  identity     cosine of the independent face-embedding network (identity.py, FaceRes) between
               each input and its stylisation at alpha = 1 (the base reconstruction's is the
               ceiling: the pack cannot keep more identity than the autoencoder does)
  transfer(a)  deformation transfer: the runtime's MediaPipe landmarks on input and output,
               d_out = L(output at alpha a) - L(input), projected on the pair's own change
               d_ref = L(style) - L(real) (both ffhq-aligned crops):  <d_out, d_ref> / |d_ref|^2,
               median over faces (since session 30; the mean is in the JSON: one face whose
               landmarks the landmarker misplaces on a stylized output, -4.8 against a typical
               0.2-1.0, moved caricature-bigeyes' mean over 44 faces from its median 0.52 to
               0.32). 1 = the pair's deformation, 0 = none; it should grow with alpha
               (`monotonic`: by at least MONOTONIC_STEP per step). For a style-only pack, `real` is the style's projection onto real
               faces that build_pack.py trained with.
  colour       distance of per-channel mean / std (RGB, face region) to the style image's, for
               the outputs vs the inputs (`colour_ratio` < 1: closer to the style)
  gram         the same for Gram matrices of a fixed random-weight conv net (random filters
               capture texture statistics: Ustyuzhaninov et al. 2017), independent of every
               network this project trains (`gram_ratio` < 1: closer to the style's texture),
               over the whole crop, and over the face core only (`face_gram_ratio`: the box
               inscribed in the colour statistics' face ellipse, where the runtime's blend shows
               the pack; the rest of a crop is hair, ears and background, kept from the camera).
               The issue's targets are the ratios, output's distance over the input's (colour
               <= 0.5, Gram <= 0.6); the table prints out/in = ratio (until session 34 it printed
               out/in without the ratio, and the notes read the first number against them)
  diversity    mean pairwise identity cosine among the outputs vs among the inputs (different
               people stay different when the outputs' is not much higher than the inputs')
  judge top-1  the style judge (style_judge.py, a fixed descriptor no training loss uses): the share
               of the outputs at alpha = 1 whose nearest exemplar among ALL packs' style images
               (every pack of models/packs with a style, plus the scored ones) is the pack's own
               (chance = 1 / exemplars); `inputs` = the same share for the unstylised inputs.
               The judge's sanity checks (exemplar and augmented-exemplar self-retrieval, how the
               real inputs spread over the exemplars) are reported with it.

    /usr/bin/python3 training/finetune/scorecard.py                      # every pack in models/packs
    /usr/bin/python3 training/finetune/scorecard.py DIR... --faces 24 --json out.json --markdown out.md
Needs the aligned held-out cache (.cache/aligned), node + npm install, and ../shared/data for the
pairs' real / style images.
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

import export  # noqa: E402
from dataset import to_tensor  # noqa: E402
import identity  # noqa: E402
from finetune.build_pack import find_checkpoint, load_image, sha256, to_uint8  # noqa: E402
from finetune.metrics import ALPHAS  # noqa: E402
from finetune.networks import LatentPool, load_base  # noqa: E402
from finetune import face_pool, style_judge  # noqa: E402
from finetune.landmark_tool import landmarks, run_landmark_tool  # noqa: E402
from finetune import losses as finetune_losses  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "models" / "base"
PACKS = REPO / "models" / "packs"
MONOTONIC_STEP = 0.01   # transfer must grow at least this much per alpha step to count as a response
SHIFT_PX = 1.5          # the shift column's largest input shift (per axis), crop pixels
SOURCES = [REPO.parent / "shared" / "data" / "pairs", REPO.parent / "shared" / "data" / "styles"]


# the face region of a crop: centre x, y and radii x, y of an ellipse, in crop widths
FACE_ELLIPSE = (0.5, 0.55, 0.32, 0.38)


def face_mask(size):
    """Ellipse over the face region of an ffhq-v1 crop (weights for colour statistics)."""
    cx, cy, rx, ry = FACE_ELLIPSE
    t = (np.arange(size) + 0.5) / size
    y, x = np.meshgrid(t, t, indexing="ij")
    return (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1).astype(np.float32)


def colour_stats(images):
    """[N, 6]: per-channel mean and std of RGB in [0, 1] inside the face ellipse."""
    m = face_mask(images.shape[1])[None, :, :, None]
    x = images.astype(np.float32) / 255
    mean = (x * m).sum((1, 2)) / m.sum()
    std = np.sqrt((((x - mean[:, None, None]) ** 2) * m).sum((1, 2)) / m.sum())
    return np.concatenate([mean, std], 1)


def eye_luma_shift(inputs, outputs, points_in, points_out):
    """[N]: how much darker (negative) or lighter each face's eye openings are drawn than the
    rest of its face, relative to the input, in 0-255 luminosity levels: (eyes out - eyes in) -
    (skin out - skin in), each face's eyes and skin (finetune.losses.face_regions) at its own
    landmarks in input and output. About 0 for a pack that keeps the eyes' brightness relative
    to the face; strongly negative for one that paints the eye sockets black. NaN where the
    landmarker found no face."""
    size = inputs.shape[1]
    luma = lambda img: (img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))   # noqa: E731

    def eyes_and_skin(img, points):
        skin = finetune_losses.face_regions(points, size)[0, 0].numpy()
        eyes = finetune_losses.face_regions(points, size, eye_grow=0)[1, 0].numpy()   # the openings, no lids
        y = luma(img)
        return (y * eyes).sum() / max(eyes.sum(), 1e-6), (y * skin).sum() / max(skin.sum(), 1e-6)

    shifts = np.full(len(inputs), np.nan)
    for i, (img_in, img_out, p_in, p_out) in enumerate(zip(inputs, outputs, points_in, points_out)):
        if np.isfinite(p_in).all() and np.isfinite(p_out).all():
            (eyes_in, skin_in), (eyes_out, skin_out) = eyes_and_skin(img_in, p_in), eyes_and_skin(img_out, p_out)
            shifts[i] = (eyes_out - eyes_in) - (skin_out - skin_in)
    return shifts


def skin_detail(images_a, images_b, points_a, points_b):
    """[N]: each face's skin detail in b over a -- the mean gradient magnitude (R, G and B) of the
    skin inside the face's outline (finetune.losses.FaceDetail's), each image at its own
    landmarks. Above 1: b's skin carries more shading and texture than a's (a pack's blotches on
    a camera face; a hatched or painted style); below: smoother (a 3D render, flat anime skin).
    NaN where the landmarker found no face."""
    size = images_a.shape[1]
    ratios = np.full(len(images_a), np.nan)
    for i, (a, b, p_a, p_b) in enumerate(zip(images_a, images_b, points_a, points_b)):
        if np.isfinite(p_a).all() and np.isfinite(p_b).all():
            e_a = finetune_losses.FaceDetail.energy(to_tensor(a[None]), finetune_losses.detail_masks(p_a, size))
            e_b = finetune_losses.FaceDetail.energy(to_tensor(b[None]), finetune_losses.detail_masks(p_b, size))
            ratios[i] = float(e_b / e_a.clamp_min(1e-6))
    return ratios


class RandomTextureNet(torch.nn.Module):
    """Fixed random conv filters (seeded), three scales; Gram matrices of their ReLU
    responses describe texture without any trained network."""

    def __init__(self, seed=0, widths=(32, 64, 128)):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.weights, c = [], 3
        for w in widths:
            self.weights.append(torch.randn(w, c, 3, 3, generator=g) / (3 * c) ** 0.5)
            c = w

    @torch.no_grad()
    def grams(self, images):
        x = to_tensor(images)
        out = []
        for w in self.weights:
            x = F.relu(F.conv2d(x, w, padding=1))
            f = x.flatten(2)
            out.append(f @ f.transpose(1, 2) / f.shape[2])
            x = F.avg_pool2d(x, 2)
        return out


def face_box(images):
    """The box inscribed in face_mask's ellipse (the face core the runtime's blend shows; the
    rest of a crop is hair, ears and background, which a pack keeps from the camera): [N, h, w, 3]."""
    size = images.shape[1]
    cx, cy, rx, ry = FACE_ELLIPSE
    x0, x1 = round((cx - rx / 2 ** 0.5) * size), round((cx + rx / 2 ** 0.5) * size)
    y0, y1 = round((cy - ry / 2 ** 0.5) * size), round((cy + ry / 2 ** 0.5) * size)
    return np.ascontiguousarray(images[:, y0:y1, x0:x1])


def gram_distance(net, images, style):
    """Mean over scales of the relative Frobenius distance of each image's Gram matrices to
    the style image's: [N]."""
    ga, gs = net.grams(images), net.grams(style)
    d = [((a - s).flatten(1).norm(dim=1) / s.flatten(1).norm(dim=1)) for a, s in zip(ga, gs)]
    return torch.stack(d).mean(0).numpy()


def judge_blocks(judge, outputs, own):
    """Per descriptor block, the mean over the outputs of (squared distance to the pack's own
    exemplar - to the nearest other exemplar), JSON only: a positive block pulls the outputs
    away from their style (what a recipe would have to change; the judge stays frozen)."""
    blocks = judge.block_distances(outputs)
    total = sum(blocks.values())
    others = np.delete(np.arange(total.shape[1]), own)
    rival = others[total[:, others].argmin(1)]
    rows = np.arange(len(outputs))
    return {b: round(float((d[rows, own] - d[rows, rival]).mean()), 4) for b, d in blocks.items()}


def mean_pairwise_cosine(e):
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    s = e @ e.T
    n = len(e)
    return float((s.sum() - np.trace(s)) / (n * (n - 1)))


def transfer(points_in, points_out, d_ref):
    """Projection of each face's landmark change on the pair's: [N]."""
    d = (points_out - points_in).reshape(len(points_in), -1)
    ref = d_ref.reshape(-1)
    return d @ ref / (ref @ ref)


def pack_reference(manifest, encoder_onnx, base_generator_onnx, pool_factory, size):
    """(real, style) uint8 crops [2, S, S, 3] of the pair the pack was built from."""
    training = manifest.get("training", {})
    style_path = find_source(training["style"])
    real_path = find_source(training["real"]) if training.get("real") else None
    aligned = align_files([style_path] + ([real_path] if real_path else []))
    alignment, _ = base_crop()
    style = load_image(style_path, aligned[0], size, alignment)
    if real_path:
        real = load_image(real_path, aligned[1], size, alignment)
    else:   # style-only: the projection build_pack.py used (same seed, same pool)
        enc, _ = export.run_ort(encoder_onnx, {"image": style.numpy()}, runs=0)
        w_proj, f_proj = pool_factory().project(torch.from_numpy(enc["w_plus"]), torch.from_numpy(enc["features"]))
        gen, _ = export.run_ort(base_generator_onnx, {"w_plus": w_proj.numpy(), "features": f_proj.numpy(),
                                                      "alpha": np.zeros(1, np.float32)}, runs=0)
        real = torch.from_numpy(gen["image"])
    return to_uint8(torch.cat([real, style]).numpy())


def base_crop():
    """(alignment, size) of models/base's crop (its contract): pair crops and held-out faces are
    cut in that framing, held-out faces read from that size's cache."""
    crop = json.loads((BASE / "contract.json").read_text())["crop"]
    return crop["alignment"], crop["size"]


def row_name(rows, pack_id, folder):
    """A pack's row name: its id, or for a second build of the same pack scored in the same run
    (candidates side by side) "id (folder)", so that no row overwrites another."""
    return f"{pack_id} ({folder})" if pack_id in rows else pack_id


def find_source(name):
    """A pack's training image by file name (manifests keep no local paths)."""
    for folder in SOURCES:
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"{name}: not in {', '.join(map(str, SOURCES))}")


def align_files(paths):
    """cropFromImage of the single face in each file (the runtime's landmarker + ffhq-v1)."""
    out = []
    for path, r in zip(paths, run_landmark_tool([str(p) for p in paths])):
        if len(r.get("faces", [])) != 1:
            raise RuntimeError(f"{path}: {len(r.get('faces', []))} faces found")
        out.append(r["faces"][0]["cropFromImage"])
    return out


def has_style(pack):
    """Whether the pack folder's manifest names a style image in its training info (the base
    reconstruction has none)."""
    manifest = Path(pack) / "manifest.json"
    return manifest.is_file() and bool(json.loads(manifest.read_text()).get("training", {}).get("style"))


def style_packs(folder=PACKS):
    """Every pack folder with a style image in its training info."""
    return sorted(str(p) for p in Path(folder).iterdir() if has_style(p))


def exemplar_set(pack_dirs, size):
    """The judge's exemplars: the aligned style crops of every style pack in models/packs and of
    the scored packs, one per style image (by file name), named by the first pack using it.
    Returns (names, uint8 [K, S, S, 3], {style file: index})."""
    styles = {}
    for pack in [*style_packs(), *map(str, pack_dirs)]:
        m = json.loads((Path(pack) / "manifest.json").read_text())
        styles.setdefault(m["training"]["style"], m["id"])
    files = [find_source(f) for f in styles]
    alignment, _ = base_crop()
    crops = [load_image(f, a, size, alignment) for f, a in zip(files, align_files(files))]
    return list(styles.values()), to_uint8(torch.cat(crops).numpy()), {f: i for i, f in enumerate(styles)}


def score(pack_dirs, faces=24, seed=0, data="aligned", pool_size=256):
    encoder_onnx, base_generator = BASE / "encoder.onnx", BASE / "generator.onnx"
    encoder_sha = sha256(encoder_onnx)
    held_out = LatentPool.real_faces(faces, "eval", seed, data, *base_crop())
    size = held_out.shape[-1]
    inputs = to_uint8(held_out.numpy())
    enc, _ = export.run_ort(encoder_onnx, {"image": held_out.numpy()}, runs=0)
    codes = {"w_plus": enc["w_plus"], "features": enc["features"]}

    def render_float(generator, alpha, inputs=codes):
        out, _ = export.run_ort(generator, {**inputs, "alpha": np.array([alpha], np.float32)}, runs=0)
        return out["image"]

    # steadiness: the same faces moved by a random sub-pixel shift (the runtime's crop jitter
    # between frames) must come out moved, not redrawn (ShiftConsistency, [-1, 1] pixel units)
    shift = (torch.rand(faces, 2, generator=torch.Generator().manual_seed(seed)) * 2 - 1) * SHIFT_PX
    enc_shifted, _ = export.run_ort(encoder_onnx, {"image": finetune_losses.shift_crops(held_out, shift).numpy()}, runs=0)
    codes_shifted = {"w_plus": enc_shifted["w_plus"], "features": enc_shifted["features"]}

    def shift_error(generator, alpha, out):
        """out: the generator's float output on the unmoved faces at `alpha` (already rendered)."""
        moved = render_float(generator, alpha, codes_shifted)
        return float(finetune_losses.ShiftConsistency()(torch.from_numpy(moved), torch.from_numpy(out), shift))

    pool_cache = {}

    def pool_factory():   # the latent pool build_pack.py projects style-only images onto
        if "pool" not in pool_cache:
            checkpoint = find_checkpoint(None)
            cfg, encoder, _ = load_base(checkpoint)
            try:   # build_pack.py's default: the committed face pool
                faces = face_pool.load(checkpoint, cfg)[0][:pool_size]
            except face_pool.PoolError:   # (packs built with --data aligned before the pool existed)
                faces = LatentPool.real_faces(pool_size, "train", seed, data, *base_crop())
            pool_cache["pool"] = LatentPool(encoder, faces)
        return pool_cache["pool"]

    texture = RandomTextureNet()
    e_in = identity.embed(inputs, cache=True)
    reconstruction_float = render_float(base_generator, 0.0)
    reconstruction = to_uint8(reconstruction_float)
    base_identity = identity.cosines(e_in, identity.embed(reconstruction)).mean()
    rows = {"_inputs": {"faces": faces, "base_identity": float(base_identity),
                        "diversity_inputs": mean_pairwise_cosine(e_in), "base_shift_error": shift_error(base_generator, 0.0, reconstruction_float)}}
    lm_in = landmarks(inputs)
    judge_names, exemplars, exemplar_of = exemplar_set(pack_dirs, size)
    judge = style_judge.StyleJudge(exemplars, judge_names)
    nearest_in = judge.nearest(inputs)
    rows["_judge"] = style_judge.sanity(judge, exemplars, inputs)
    for pack in pack_dirs:
        pack = Path(pack)
        manifest = json.loads((pack / "manifest.json").read_text())
        name = row_name(rows, manifest["id"], pack.name)
        if manifest["base"]["encoderSha256"] != encoder_sha:
            rows[name] = {"error": "trained behind another base encoder (rebuild the pack)"}
            continue
        generator = pack / manifest["files"]["generator"]["path"]
        outputs_float = {a: render_float(generator, a) for a in ALPHAS}
        outputs = {a: to_uint8(v) for a, v in outputs_float.items()}
        ref = pack_reference(manifest, encoder_onnx, base_generator, pool_factory, size)
        # one landmarker session for the pair's crops and every output
        lm_all = landmarks(np.concatenate([ref] + [outputs[a] for a in ALPHAS]))
        d_ref = lm_all[1] - lm_all[0]
        lm_out = lm_all[2:]
        found_each = np.isfinite(lm_out[:, 0, 0]).reshape(len(ALPHAS), faces)
        found = found_each.mean(1)
        # the same faces at every alpha (found in the input and in all outputs), so the
        # alpha response is not mixed up with which faces the landmarker happened to find
        both = found_each.all(0) & np.isfinite(lm_in[:, 0, 0])
        transfers, transfer_means, transfer_each = {}, {}, {}
        for k, a in enumerate(ALPHAS):
            t = transfer(lm_in[both], lm_out[k * faces:(k + 1) * faces][both], d_ref)
            transfers[f"{a:g}"] = float(np.median(t)) if both.any() else None
            transfer_means[f"{a:g}"] = float(t.mean()) if both.any() else None
            transfer_each[f"{a:g}"] = [round(float(v), 4) for v in t]   # per face (JSON only): how it spreads
        values = [v for v in transfers.values() if v is not None]
        lm_out_1 = lm_out[ALPHAS.index(1.0) * faces:(ALPHAS.index(1.0) + 1) * faces]
        eyes = eye_luma_shift(inputs, outputs[1.0], lm_in, lm_out_1)
        detail = skin_detail(inputs, outputs[1.0], lm_in, lm_out_1)
        detail_style = skin_detail(ref[:1], ref[1:], lm_all[:1], lm_all[1:2])[0]   # the pair's (style-only: over its projection)
        e_out = identity.embed(outputs[1.0])
        own = exemplar_of[manifest["training"]["style"]]   # the judge's index of this pack's exemplar
        nearest_out = judge.nearest(outputs[1.0])
        style = ref[1:]
        c_style = colour_stats(style)
        colour_out = np.linalg.norm(colour_stats(outputs[1.0]) - c_style, axis=1).mean()
        colour_in = np.linalg.norm(colour_stats(inputs) - c_style, axis=1).mean()
        gram_out, gram_in = gram_distance(texture, outputs[1.0], style).mean(), gram_distance(texture, inputs, style).mean()
        face_gram_out = gram_distance(texture, face_box(outputs[1.0]), face_box(style)).mean()
        face_gram_in = gram_distance(texture, face_box(inputs), face_box(style)).mean()
        rows[name] = {
            "mode": manifest.get("training", {}).get("mode"),
            "identity": float(identity.cosines(e_in, e_out).mean()),
            "transfer": transfers,
            "transfer_mean": transfer_means,
            "transfer_each": transfer_each,
            "monotonic": bool(len(values) == len(ALPHAS)
                              and all(b - a >= MONOTONIC_STEP for a, b in zip(values, values[1:]))),
            "pair_change_px": float(np.linalg.norm(d_ref, axis=1).mean()),
            "faces_found": {f"{a:g}": float(f) for a, f in zip(ALPHAS, found)},
            "transfer_faces": int(both.sum()),
            "colour_out": float(colour_out), "colour_in": float(colour_in), "colour_ratio": float(colour_out / colour_in),
            "gram_out": float(gram_out), "gram_in": float(gram_in), "gram_ratio": float(gram_out / gram_in),
            "face_gram_out": float(face_gram_out), "face_gram_in": float(face_gram_in), "face_gram_ratio": float(face_gram_out / face_gram_in),
            "diversity": mean_pairwise_cosine(e_out),
            "eye_luma_shift": float(np.nanmean(eyes)) if np.isfinite(eyes).any() else None,
            "skin_detail": float(np.nanmedian(detail)) if np.isfinite(detail).any() else None,
            "skin_detail_style": None if np.isnan(detail_style) else float(detail_style),
            "shift_error": shift_error(generator, 1.0, outputs_float[1.0]),
            "judge_exemplar": judge_names[own],
            "judge_top1": float((nearest_out == own).mean()),
            "judge_top1_alpha0": float((judge.nearest(outputs[0.0]) == own).mean()),
            "judge_inputs": float((nearest_in == own).mean()),
            "judge_blocks": judge_blocks(judge, outputs[1.0], own),
            "judge_nearest": {n: int(c) for n, c in zip(judge_names, np.bincount(nearest_out, minlength=len(judge_names)))},
        }
    return rows


EXPLANATION = """Columns (training/finetune/scorecard.py): *identity* — cosine of the independent
FaceRes embedding between each held-out input and its stylisation at α = 1; *transfer* — the
change of MediaPipe landmarks input → output projected on the pair's own change real → style
(1 = the pair's deformation, 0 = none), per α, median over the faces (the mean before session
30); *monotonic* — transfer grows by ≥ 0.01 per α step; *colour* / *Gram* — distance to the
style image of the outputs vs of the inputs and their ratio (per-channel mean/std in the face ellipse; Gram matrices of fixed random conv filters over
the whole crop), lower is closer (targets: ratio ≤ 0.5 / ≤ 0.6); *face Gram* — the same Gram ratio over the face core alone
(the box inside the face ellipse: what the runtime blends; the whole crop also holds the hair, ears and background); *diversity* — mean
pairwise identity cosine among the outputs (compare with the inputs'); *faces found* — the
landmarker's detection rate on the outputs (lowest α); *shift error* — the held-out faces moved
by up to {shift} crop px: mean |G(E(moved)) − moved(G(E(face)))| at α = 1 in [-1, 1] units (what a
pack redraws, rather than moves, when the crop jitters between frames: flicker; the same term is a
training loss since session 11, `steady`); *judge top-1* — the style judge
(`training/finetune/style_judge.py`, descriptor version {version}, frozen): share of the outputs at
α = 1 (and α = 0) whose nearest exemplar among all packs' style images is the pack's own (chance
1/{k}); *inputs* — the same share for the unstylised inputs (what a pack that changes nothing would
score); *nearest* — where the outputs at α = 1 go (exemplar: count) when not to their own style;
*eyes* — the eye openings' luminosity at α = 1 relative to the face's skin, output − input, in
levels of 255 (since session 21: strongly negative = eye sockets painted dark); *skin detail* (since
session 32) — the mean gradient magnitude (R, G and B) of the skin inside the face's outline at α = 1,
output ÷ input, median over the faces, and in brackets the style's own: the style half's over the
real half's (style-only: over the style's projection) — above the style's, the pack draws blotchier
shading than its style has."""


def markdown(rows, title=None, command=None):
    info = rows["_inputs"]
    head = ([f"# {title}", ""] if title else []) + ([f"`{command}`", ""] if command else [])
    judge = rows.get("_judge")
    k = len(judge["exemplars"]) if judge else 0
    lines = head + [EXPLANATION.format(version=style_judge.DESCRIPTOR_VERSION, k=k, shift=SHIFT_PX), "", f"Held-out faces: {info['faces']}. Base reconstruction identity (ceiling): {info['base_identity']:.3f}. "
             f"Pairwise identity cosine among the inputs: {info['diversity_inputs']:.3f}."
             + (f" Shift error of the base reconstruction: {info['base_shift_error']:.4f}." if "base_shift_error" in info else ""), "",
             "| pack | mode | judge top-1 α=1 (α=0) | inputs | nearest (others) | identity | transfer α=0 / 0.5 / 1 / 1.5 | monotonic | colour out/in = ratio | Gram out/in = ratio | face Gram out/in = ratio | diversity | faces found | shift error | eyes | skin detail (style's) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        if name.startswith("_"):
            continue
        if "error" in r:
            lines.append(f"| {name} | {r['error']} | | | | | | | | | | | | | | |")
            continue
        others = ", ".join(f"{n}: {c}" for n, c in sorted(r["judge_nearest"].items(), key=lambda x: -x[1])
                           if c and n != r["judge_exemplar"])
        t = " / ".join("–" if v is None else f"{v:.2f}" for v in r["transfer"].values())
        shift_text = f"{r['shift_error']:.4f}" if "shift_error" in r else "–"   # (rows scored before session 11)
        lines.append(f"| {name} | {r['mode']} | **{r['judge_top1']:.0%}** ({r['judge_top1_alpha0']:.0%}) | "
                     f"{r['judge_inputs']:.0%} | {others or '–'} | {r['identity']:.3f} | {t} | {'yes' if r['monotonic'] else 'no'} | "
                     f"{r['colour_out']:.3f}/{r['colour_in']:.3f} = {r['colour_ratio']:.2f} | "
                     f"{r['gram_out']:.3f}/{r['gram_in']:.3f} = {r['gram_ratio']:.2f} | "
                     f"{r['face_gram_out']:.3f}/{r['face_gram_in']:.3f} = {r['face_gram_ratio']:.2f} | "
                     f"{r['diversity']:.3f} | {min(r['faces_found'].values()):.0%} ({r['transfer_faces']} in all) | "
                     f"{shift_text} | {'–' if r.get('eye_luma_shift') is None else format(r['eye_luma_shift'], '+.1f')} | "
                     f"{'–' if r.get('skin_detail') is None else format(r['skin_detail'], '.2f')}"
                     f"{'' if r.get('skin_detail_style') is None else ' (' + format(r['skin_detail_style'], '.2f') + ')'} |")
    if judge:
        share = ", ".join(f"{n} {v:.0%}" for n, v in judge["real_nearest_share"].items())
        lines += ["", f"Style judge: {k} exemplars ({', '.join(judge['exemplars'])}), chance {1 / k:.0%}. "
                  f"Sanity: the exemplars retrieve themselves {judge['exemplar_self_top1']:.0%}, augmented copies "
                  f"(flip, 85–100 % crop, ±10 % brightness/contrast/saturation; {judge['augmentations']} each) "
                  f"{judge['augmented_self_top1']:.0%}; the {judge['real_faces']} unstylised inputs go to {share} "
                  f"(median margin (d2 − d1)/d1 {judge['real_margin']:.2f} against {judge['augmented_margin']:.2f} for "
                  f"the augmented exemplars; median nearest distance {judge['real_nearest_distance']:.2f}, the "
                  f"exemplars' median spacing {judge['exemplar_spacing']:.2f})."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("packs", nargs="*", help="pack folders (default: every pack in models/packs with training info)")
    ap.add_argument("--faces", type=int, default=24, help="held-out faces")
    ap.add_argument("--data", default="aligned")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    packs = args.packs or style_packs()
    unstyled = [p for p in packs if not has_style(p)]
    if unstyled:   # (the base reconstruction has no style to score against)
        sys.exit(f"scorecard: not a style pack (no manifest.json with training.style): {', '.join(unstyled)}")
    if not packs:
        sys.exit("no style packs to score (models/packs/*/manifest.json with training.style)")
    report(packs, "Style-pack scorecard", "training/finetune/scorecard.py", args.faces, args.json, args.markdown,
           seed=args.seed, data=args.data)


def report(pack_dirs, title, script, faces, json_path=None, markdown_path=None, **kwargs):
    """Scores the packs, prints the Markdown table and writes the JSON / Markdown files."""
    rows = score(pack_dirs, faces, **kwargs)
    table = markdown(rows, title, f"/usr/bin/python3 {script} " + " ".join(sys.argv[1:]))
    print(table)
    if json_path:
        json_path.write_text(json.dumps(rows, indent=2) + "\n")
    if markdown_path:
        markdown_path.write_text(table)
    return rows


if __name__ == "__main__":
    main()
