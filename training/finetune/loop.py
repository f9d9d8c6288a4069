"""The fine-tuning loop: one real/style pair -> a style generator (DoesFS recipe on the
STN-StyleGAN base). Trains the generator weights and the warp parameters (TPS + affine)
with separate Adam learning rates, keeps an EMA of both, and a patch discriminator whose
only real example is the style image.

Per step, for a batch of latent samples (w, f) from the real-face pool:
    x_s = G_source(w, f, alpha=0)                      frozen base generator
    x_t = G(StyleMixing(w, w_style), f, alpha=1)       the generator being tuned
    x_p = G(StyleMixing(w_real, w_style), f_real, 1)   the pair's real half
    L = dir * DirectionalDeformationLoss(T(x_t), T(x_s), T(style), T(real))
      + rsc * RelativeStructureLoss(same)
      + rec * PairReconstruction(x_p, style)
      + paired * PairReconstruction(G(StyleMixing(E(A(real)), w_style), .., 1), A(style))
      + texture * StyleTexture(T(x_t), T(style))
      + structure * CoarseStructure(x_t, warp(x_s, flow))
      + colour * ColourMoments(x_t, style)   (with colour_regions: RegionColour(x_t), at the style's landmarks)
      + detail_faces * FaceDetail(G(E(x)), G_source(E(x)))   per region, gradient energy ratio = the pair's, x: a pool face image
      + checker * CheckerboardExcess(x_t, x_s) + checker_views * CheckerboardExcess(G(..views), A(real))
      + checker_faces * CheckerboardExcess(G(E(x)), G_source(E(x)))   face cores, x: a pool face image
      + steady * ShiftConsistency(G(E(shift(x))), shift(G(E(x))))   x: a pool face image
      + adv * non-saturating GAN(D(x_t), D(x_p))
      + smooth * WarpSmoothness(G)
where A is one of `augment_pairs` random geometric augmentations applied to both halves of
the pair alike (scale, rotation, shift, flip; brightness/contrast on the real half only), so
the pair teaches a local appearance and shape mapping rather than one image (few-shot
patch-based training, Texler et al. 2020; JoJoGAN's paired anchor with more than one view).
"""

import copy
import time
from dataclasses import asdict, dataclass, field
from typing import List, Optional

import numpy as np
import torch
import torch.nn.functional as F

import losses as base_losses

from . import losses as L
from .networks import StyleMixing


@dataclass
class FinetuneOptions:
    steps: int = 300
    batch: int = 4              # latent samples per step (plus the pair's real half)
    lr: float = 2e-4            # generator weights (equalized-lr layers; base used 2e-3)
    warp_lr: float = 2e-3       # TPS offsets / affine params (normalised crop units)
    d_lr: float = 2e-4
    dir: float = 1.0            # DirectionalDeformationLoss
    rsc: float = 1.0            # RelativeStructureLoss
    rec: float = 1.0            # PairReconstruction
    adv: float = 0.05           # patch-GAN term (style image = the only real example)
    smooth: float = 1.0         # WarpSmoothness
    paired: float = 0.0         # PairReconstruction on augmented views of the pair (0 = off)
    paired_batch: int = 2       # augmented views per step
    paired_views: int = 48      # augmented views encoded once before training
    texture: float = 0.0        # StyleTexture: guide-token Gram of the samples vs the style image
    structure: float = 0.0      # CoarseStructure: the samples' coarse luminance layout vs the source's
    patches: float = 0.0        # StylePatches: the distribution of the samples' 3 x 3 RGB patches vs the style's
    colour: float = 0.0         # ColourMoments: RGB mean / covariance of the samples' inner face vs the style's
    colour_regions: bool = False    # colour as RegionColour: skin, eyes and lips each take the style's (needs the style half's landmarks)
    colour_oval: bool = False   # RegionColour's skin inside the face's outline (face_regions oval)
    detail_faces: float = 0.0   # FaceDetail on the steady branch's encoded photos: gradient energy over the source's = the pair's
    detail_regions: List[int] = field(default_factory=lambda: [0])   # ... in these face_regions: 0 skin, 1 eyes, 2 lips
    detail_pool: int = 64       # pool faces landmarked for detail_faces (the steady branch draws from those found)
    steady: float = 0.0         # ShiftConsistency: a sub-pixel shift of the input face shifts the output, nothing more
    steady_batch: int = 2       # pool faces per step for ShiftConsistency (each drawn twice: as is and shifted)
    steady_px: float = 1.5      # the largest shift, crop pixels (per axis)
    checker: float = 0.0        # CheckerboardExcess: the samples' period-2 grid above 1.2x the source generator's
    checker_views: float = 0.0  # CheckerboardExcess on the paired views: their outputs' grid above the camera views' own
    checker_views_margin: float = 1.0   # ... as a multiple of the camera view's (eval:display's score, target <= 1.1)
    checker_faces: float = 0.0  # CheckerboardExcess on encoded pool photos (the steady branch's faces): the face core's
    checker_faces_margin: float = 1.2   # grid above this multiple of the source generator's on the same photo
    geometry: float = 0.0       # PairGeometry: the warps move the real half's landmarks onto the style half's (pairs; style-only with projection_geometry)
    projection_geometry: bool = False   # style-only: geometry from the style's projection (its render, landmarked) as the real half
    geometry_faces: int = 0     # PairGeometry also on this many pool faces: each one's landmarks moved by the pair's change
    tps_grid: int = 0           # K x K TPS control points of the pack's warps (0 = the base's); see finer_warps
    mix: bool = True            # StyleMixing of the fine layers (False: ablation only)
    mix_layers: Optional[List[int]] = None   # the latents to mix instead of generator.fine
    disc_ch: int = 16           # patch D width: half the base D's 32 (4x cheaper; one real image)
    r1_gamma: float = 1.0
    r1_every: int = 4
    ema_halflife: float = 10.0  # in steps
    minutes: float = 0.0        # stop early when over this wall-clock budget (0 = no limit)
    seed: int = 0

    def to_dict(self):
        return asdict(self)

    def mixing_layers(self, generator):
        """The latent layers that take the style image's codes."""
        if not self.mix:
            return []
        return list(generator.fine) if self.mix_layers is None else list(self.mix_layers)


def augment_style(style, g, n):
    """The discriminator's 'real' batch: the style image, flipped and shifted a few pixels,
    so D learns texture rather than memorising one placement."""
    out = style.expand(n, -1, -1, -1)
    flip = torch.rand(n, generator=g) < 0.5
    out = torch.where(flip.view(n, 1, 1, 1), out.flip(3), out)
    shift = torch.randint(-4, 5, (n, 2), generator=g)
    return torch.stack([torch.roll(o, (int(s[0]), int(s[1])), dims=(1, 2)) for o, s in zip(out, shift)])


@torch.no_grad()
def augment_pairs(real, style, n, g):
    """n views of the aligned pair under the same random similarity transform (scale 0.9-1.1,
    rotation +-8 degrees, shift +-6 % of the crop, mirror half the time); the real half also
    gets a brightness / contrast jitter, so the mapping does not hinge on one exposure.
    Returns (reals, styles) [n, 3, S, S]."""
    scale = 0.9 + 0.2 * torch.rand(n, generator=g)
    angle = (torch.rand(n, generator=g) * 2 - 1) * (8 * torch.pi / 180)
    shift = (torch.rand(n, 2, generator=g) * 2 - 1) * 0.12
    mirror = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * mirror, -sin, shift[:, 0]], 1),
                         torch.stack([sin * mirror, cos, shift[:, 1]], 1)], 1)       # [n, 2, 3]
    grid = F.affine_grid(theta, [n, 3, *real.shape[-2:]], align_corners=False)
    warp = lambda x: F.grid_sample(x.expand(n, -1, -1, -1), grid, mode="bilinear",  # noqa: E731
                                   padding_mode="reflection", align_corners=False)
    gain = 0.85 + 0.3 * torch.rand(n, 1, 1, 1, generator=g)
    bias = (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * 0.1
    return (warp(real) * gain + bias).clamp(-1, 1), warp(style)


def refit_tps(warp, grid):
    """A TpsWarp of `grid` x `grid` control points whose field is the least-squares fit of
    `warp`'s (zero for a zero field)."""
    import networks as N

    finer = N.TpsWarp(warp.size, grid)
    with torch.no_grad():
        field = warp.displacement().reshape(-1, 2)
        finer.offsets.copy_(torch.linalg.lstsq(finer.basis.double(), field.double()).solution.float())
    return finer


def finer_warps(G, grid):
    """Gives G's warp slots `grid` x `grid` TPS control points. The base's 7 x 7 are 21 crop px
    apart: a caricature's eye (15 px) cannot grow without its surroundings moving along. A pack
    exports its field as a constant (export.frozen_warps), so the grid costs nothing at run time."""
    for slot in G.warps:
        slot.tps = refit_tps(slot.tps, grid)
    G.cfg = dict(G.cfg, tps_grid=grid)


def geometry_points(points):
    """(anchors, targets) [N, 2] crop px of PairGeometry: the pair's real and style landmarks,
    and, with points["faces"] ([M, N, 2]: other real faces' landmarks, geometry_faces), each of
    those faces' own landmarks and the same moved by the pair's change. The warps are one field
    for every face, so the pair's landmarks alone pin it only where this one person's features
    are; the others spread it over where other people's eyes, mouths and jaws are (what the
    scorecard's transfer measures on held-out faces)."""
    real, style = np.asarray(points["real"], np.float64), np.asarray(points["style"], np.float64)
    faces = points.get("faces")
    if faces is None or len(faces) == 0:
        return real, style
    faces = np.asarray(faces, np.float64)
    change = style - real
    return (np.concatenate([real, *faces]), np.concatenate([style, *(faces + change)]))


def finetune(generator_source, guide, pool, pair, opts, discriminator=None, progress=None, encoder=None):
    """pair: dict with 'real', 'style' images [1, 3, S, S] and their codes 'w_real',
    'f_real', 'w_style'. Returns (G_ema, stats). progress(step, total, parts) is called
    after every step. `encoder` (the base encoder) is needed for opts.paired."""
    g = torch.Generator().manual_seed(opts.seed)
    torch.manual_seed(opts.seed)
    G = copy.deepcopy(generator_source).train()
    if opts.tps_grid and opts.tps_grid != G.cfg["tps_grid"]:
        finer_warps(G, opts.tps_grid)
    for p in G.parameters():
        p.requires_grad_(True)
    G_ema = copy.deepcopy(G).eval()
    for p in G_ema.parameters():
        p.requires_grad_(False)
    if discriminator is None:
        import networks as N
        discriminator = N.PatchDiscriminator(dict(generator_source.cfg, disc_ch=opts.disc_ch))
    D = discriminator
    mixing = StyleMixing(opts.mixing_layers(G))

    warp_ids = {id(p) for p in G.warp_parameters()}
    opt = torch.optim.Adam([
        {"params": [p for p in G.parameters() if id(p) not in warp_ids], "lr": opts.lr},
        {"params": G.warp_parameters(), "lr": opts.warp_lr},
    ], betas=(0.0, 0.99))
    d_opt = torch.optim.Adam(D.parameters(), lr=opts.d_lr, betas=(0.0, 0.99))
    directional, structure = L.DirectionalDeformationLoss(), L.RelativeStructureLoss()
    reconstruction, smoothness = L.PairReconstruction(), L.WarpSmoothness()
    one, zero = torch.ones(1), torch.zeros(1)

    with torch.no_grad():
        ref_real, ref_style = guide.tokens(pair["real"]), guide.tokens(pair["style"])
    w_pair = mixing(pair["w_real"], pair["w_style"])
    texture, coarse_structure = L.StyleTexture(), L.CoarseStructure()
    shift_consistency = L.ShiftConsistency()
    checkerboard = L.CheckerboardExcess()
    # the paired views are camera photos: the same ratio eval:display measures (output / input crop)
    checkerboard_views = L.CheckerboardExcess(opts.checker_views_margin)
    if opts.colour_regions and pair.get("points") is not None:   # without the style's landmarks: whole face
        colour_loss = L.RegionColour(pair["style"].shape[-1], pair["style"], pair["points"]["style"], opts.colour_oval)
    else:
        colour_moments = L.ColourMoments(pair["style"].shape[-1])
        colour_loss = lambda fake: colour_moments(fake, pair["style"])   # noqa: E731
    face_detail = None
    if opts.detail_faces > 0:
        if opts.steady <= 0 or (pair.get("points") or {}).get("pool") is None:
            raise ValueError("opts.detail_faces runs on the steady branch's faces: it needs opts.steady and the pool faces' landmarks")
        detail_ids, detail_points = pair["points"]["pool"]
        face_detail = L.FaceDetail(pair["style"].shape[-1], pair["real"], pair["points"]["detail_real"],
                                   pair["style"], pair["points"]["style"], opts.detail_regions)
        detail_masks = {i: face_detail.masks(p) for i, p in zip(detail_ids, detail_points)}
    style_patches = L.StylePatches(pair["style"].shape[-1])
    pair_geometry = None
    if opts.geometry > 0 and (pair.get("points") or {}).get("real") is not None:   # style-only: none unless projection_geometry
        pair_geometry = L.PairGeometry(*geometry_points(pair["points"]), pair["style"].shape[-1])
    if opts.steady > 0 and (encoder is None or getattr(pool, "images", None) is None):
        raise ValueError("opts.steady needs the base encoder and a pool that keeps its images")
    if opts.checker_faces > 0 and opts.steady <= 0:
        raise ValueError("opts.checker_faces runs on the steady branch's faces: it needs opts.steady")
    # encoded photos, as the runtime sees camera crops (the pool's latents are smoother: session 25)
    checkerboard_faces = L.CheckerboardExcess(opts.checker_faces_margin, core=True)
    # pool image index -> what the frozen source generator's render of that photo measures (its
    # checker RMS, its regions' detail energy): rendered once per photo, for both terms
    source_measures = {}
    if opts.paired > 0:
        if encoder is None:
            raise ValueError("opts.paired needs the base encoder")
        with torch.no_grad():
            views_real, views_style = augment_pairs(pair["real"], pair["style"], opts.paired_views, g)
            views_w, views_f = encoder(views_real)
            views_w = mixing(views_w, pair["w_style"])
            views_tok = guide.tokens(views_style)
    beta = 0.5 ** (1 / max(opts.ema_halflife, 1e-8))
    history, start = [], time.time()
    for step in range(opts.steps):
        t0 = time.time()
        w, f = pool.sample(opts.batch, g)
        with torch.no_grad():
            x_s = generator_source(w, f, zero)[0]
            tok_s = guide.tokens(x_s)
        # one forward for the samples, the pair's real half and its augmented views
        ws, fs = [mixing(w, pair["w_style"]), w_pair], [f, pair["f_real"]]
        if opts.paired > 0:
            views = torch.randint(0, opts.paired_views, (opts.paired_batch,), generator=g)
            ws.append(views_w[views])
            fs.append(views_f[views])
        if opts.steady > 0:   # the same faces as is and shifted, after the paired views
            if face_detail is None:
                face_ids = torch.randint(0, len(pool), (opts.steady_batch,), generator=g).tolist()
            else:   # the faces whose skin is known
                face_ids = [detail_ids[k] for k in torch.randint(0, len(detail_ids), (opts.steady_batch,), generator=g).tolist()]
            faces = pool.images[face_ids]
            shift = (torch.rand(opts.steady_batch, 2, generator=g) * 2 - 1) * opts.steady_px
            with torch.no_grad():
                steady_w, steady_f = encoder(torch.cat([faces, L.shift_crops(faces, shift)]))
            ws.append(mixing(steady_w, pair["w_style"]))
            fs.append(steady_f)
            if opts.checker_faces > 0 or face_detail is not None:
                for k, i in enumerate(face_ids):
                    if i not in source_measures:
                        with torch.no_grad():
                            render = generator_source(steady_w[k:k + 1], steady_f[k:k + 1], zero)[0]
                            source_measures[i] = {"rms": checkerboard_faces.rms(render) if opts.checker_faces > 0 else None,
                                                  "detail": face_detail.energy(render, detail_masks[i]) if face_detail is not None else None}
            if opts.checker_faces > 0:
                steady_src_rms = torch.cat([source_measures[i]["rms"] for i in face_ids])
            if face_detail is not None:
                steady_src_detail = torch.cat([source_measures[i]["detail"] for i in face_ids])
                steady_masks = torch.cat([detail_masks[i] for i in face_ids])
        x_all, flow_all = G(torch.cat(ws), torch.cat(fs), one)
        n = opts.batch + 1
        n_paired = opts.paired_batch if opts.paired > 0 else 0
        tok_all = guide.tokens(x_all[:n + n_paired])
        steady_out = x_all[n + n_paired:]
        x, tok = x_all[:n], tok_all[:n]
        x_t, x_p, tok_t, tok_p = x[:-1], x[-1:], tok[:-1], tok[-1:]

        parts = {}
        loss = 0.0
        for name, weight, fn in [
            ("dir", opts.dir, lambda: directional(tok_t, tok_s, ref_style, ref_real)),
            ("rsc", opts.rsc, lambda: structure(tok_t, tok_s, ref_style, ref_real)),
            ("rec", opts.rec, lambda: reconstruction(x_p, pair["style"], tok_p, ref_style)),
            ("smooth", opts.smooth, lambda: smoothness(G)),
            ("paired", opts.paired, lambda: reconstruction(x_all[n:n + n_paired], views_style[views], tok_all[n:], views_tok[views])),
            ("colour", opts.colour, lambda: colour_loss(x_t)),
            ("detail_faces", opts.detail_faces, lambda: face_detail(steady_out[:opts.steady_batch], steady_src_detail, steady_masks,
                                                                     flow_all[n + n_paired:n + n_paired + opts.steady_batch])),
            ("patches", opts.patches, lambda: style_patches(x_t, pair["style"], g)),
            ("steady", opts.steady, lambda: shift_consistency(steady_out[opts.steady_batch:], steady_out[:opts.steady_batch], shift)),
            ("texture", opts.texture, lambda: texture(tok_t, ref_style)),
            ("structure", opts.structure, lambda: coarse_structure(x_t, x_s, flow_all[:opts.batch])),
            ("checker", opts.checker, lambda: checkerboard(x_t, x_s)),
            ("checker_views", opts.checker_views if opts.paired > 0 else 0.0,
             lambda: checkerboard_views(x_all[n:n + n_paired], views_real[views])),
            ("checker_faces", opts.checker_faces, lambda: checkerboard_faces(steady_out[:opts.steady_batch], source_rms=steady_src_rms)),
            ("geometry", opts.geometry if pair_geometry is not None else 0.0,
             lambda: pair_geometry(G.compose_flow([w.displacement(one) for w in G.warps]))),
        ]:
            if weight > 0:
                value = fn()
                parts[name] = value.item()
                loss = loss + weight * value
        if opts.adv > 0:
            for p in D.parameters():
                p.requires_grad_(False)
            g_adv = L.g_adversarial(D(x))
            parts["g_adv"] = g_adv.item()
            loss = loss + opts.adv * g_adv
            for p in D.parameters():
                p.requires_grad_(True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

        if opts.adv > 0:
            real = augment_style(pair["style"], g, x.shape[0])
            d_loss = L.d_adversarial(D(real), D(x.detach()))
            parts["d"] = d_loss.item()
            if step % opts.r1_every == 0:
                real_r1 = real[:1].detach().requires_grad_(True)
                d_loss = d_loss + opts.r1_gamma / 2 * base_losses.r1_penalty(D(real_r1), real_r1) * opts.r1_every
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()

        with torch.no_grad():
            for pe, pm in zip(G_ema.parameters(), G.parameters()):
                pe.lerp_(pm, 1 - beta)
        parts["loss"] = float(loss)
        parts["ms"] = (time.time() - t0) * 1000
        history.append(parts)
        if progress:
            progress(step + 1, opts.steps, parts)
        if opts.minutes and time.time() - start > opts.minutes * 60:
            break
    stats = {"steps": len(history), "seconds": time.time() - start,
             "ms_per_step": sum(h["ms"] for h in history) / max(len(history), 1),
             "first": history[0] if history else {}, "last": history[-1] if history else {}}
    return G_ema, stats


@torch.no_grad()
def render(generator, w_plus, features, alphas):
    """[len(alphas)] list of [B, 3, S, S] images, one per alpha."""
    return [generator(w_plus, features, torch.tensor([float(a)]))[0].clamp(-1, 1) for a in alphas]


def resize(x, size):
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
