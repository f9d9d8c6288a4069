"""DoesFS objectives (Zhou et al. 2024, "Deformable One-shot Face Stylization via DINO
Semantic Guidance"), written against the `SemanticGuide` interface (training/guide.py).
Tokens are [B, N, C]; images NCHW in [-1, 1].
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import losses as base_losses
import networks as N


class DirectionalDeformationLoss(nn.Module):
    """For latent samples w: the token change from the source generator's image to the
    fine-tuned generator's image must point the same way as (style - real) of the pair.
        L = mean_{b, n} 1 - cos(T(G_t(w_b))_n - T(G_s(w_b))_n,  T(style)_n - T(real)_n)
    Per token n (not one global vector) so the guide says *where* the face deforms; tokens
    where the pair barely changes (background) are down-weighted by |ref change|, since
    their direction is noise."""

    def forward(self, tokens_target, tokens_source, ref_style, ref_real):
        d_samp = tokens_target - tokens_source                     # [B, N, C]
        d_ref = (ref_style - ref_real).expand_as(d_samp)           # [B, N, C]
        cos = F.cosine_similarity(d_samp, d_ref, dim=-1, eps=1e-6)  # [B, N]
        weight = d_ref[0].norm(dim=-1)
        weight = (weight / weight.sum().clamp_min(1e-8)).detach()  # [N], sums to 1
        return ((1 - cos) * weight).sum(dim=1).mean()


def self_similarity(tokens):
    """Token self-similarity map [B, N, N] (cosine), the structure DoesFS compares."""
    t = F.normalize(tokens, dim=-1)
    return t @ t.transpose(1, 2)


class RelativeStructureLoss(nn.Module):
    """Relative structural consistency: how similar each sample's self-similarity map is to
    every other sample's (and to the reference's) must stay the same after fine-tuning, so
    different people stay different and each keeps its own structure.
    Source side: samples from G_s and the real half of the pair; target side: samples from
    G_t and the style half. Softmax over the similarities, then KL(source || target)
    (as in Ojha et al. 2021's cross-domain consistency, on self-similarity maps)."""

    def __init__(self, temperature=0.1):
        super().__init__()
        self.temperature = temperature

    def _relative(self, tokens, ref_tokens):
        s = self_similarity(torch.cat([tokens, ref_tokens], dim=0)).flatten(1)   # [B+1, N*N]
        s = F.normalize(s, dim=-1)
        sim = s[:-1] @ s.t()                                                     # [B, B+1]
        B = sim.shape[0]
        off_diag = ~torch.eye(B, B + 1, dtype=torch.bool)                       # drop self-similarity
        return sim[off_diag].view(B, B) / self.temperature

    def forward(self, tokens_target, tokens_source, ref_style, ref_real):
        log_p_t = F.log_softmax(self._relative(tokens_target, ref_style), dim=-1)
        p_s = F.softmax(self._relative(tokens_source, ref_real), dim=-1).detach()
        return F.kl_div(log_p_t, p_s, reduction="batchmean")


class PairReconstruction(nn.Module):
    """JoJoGAN's one-shot anchor: the fine-tuned generator, fed the real half's codes (with
    style-mixed fine layers) at alpha = 1, must reproduce the style half. L1 + (1 - MS-SSIM)
    plus a guide-token term (the perceptual part; the guide stands in for LPIPS)."""

    def forward(self, fake, style, fake_tokens=None, style_tokens=None):
        loss, _ = base_losses.reconstruction_loss(fake, style)
        if fake_tokens is not None:
            loss = loss + (1 - F.cosine_similarity(fake_tokens, style_tokens, dim=-1)).mean()
        return loss


class StyleTexture(nn.Module):
    """Texture statistics of the style image on the generated faces (Gatys et al.): the Gram
    matrix of each sample's guide tokens against the style image's, so the style's local
    look reaches every face, not only the pair's. Tokens [B, N, C] -> Grams [B, C, C]."""

    def forward(self, tokens, style_tokens):
        def gram(t):
            t = t - t.mean(dim=1, keepdim=True)
            return t.transpose(1, 2) @ t / t.shape[1]
        return (gram(tokens) - gram(style_tokens)).pow(2).mean() / gram(style_tokens).pow(2).mean().clamp_min(1e-8)


class CoarseStructure(nn.Module):
    """Keeps each sample's face layout: the coarse luminance map (the crop averaged down to
    `cells` x `cells`, each image normalised to zero mean and unit spread) of the fine-tuned
    generator's image must match the source generator's image moved by the same warps (its
    flow output). Colour, texture and line work are free to change; where the eyes, brows,
    mouth and hair are dark or light is not, which is what keeps one-shot packs from painting
    the pair's features over another face (doubled eyes, smeared brows)."""

    LUMA = (0.299, 0.587, 0.114)

    def __init__(self, cells=16):
        super().__init__()
        self.cells = cells

    def coarse(self, x):
        y = sum(w * x[:, c:c + 1] for c, w in enumerate(self.LUMA))
        y = F.adaptive_avg_pool2d(y, self.cells)
        return (y - y.mean(dim=(2, 3), keepdim=True)) / y.std(dim=(2, 3), keepdim=True).clamp_min(1e-3)

    def forward(self, fake, source, flow):
        return (self.coarse(fake) - self.coarse(N.warp_like(source, flow)).detach()).abs().mean()


# [[1, -2, 1], [-2, 4, -2], [1, -2, 1]] / 4: responds to a period-2 grid (eval:display's
# checkerboard score, scripts/eval-display/metrics.mjs)
CHECKER_KERNEL = torch.tensor([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]]) / 4


def checker_rms(images):
    """RMS of the checkerboard kernel's response on the luma of images [B, 3, H, W]: [B]."""
    luma = sum(w * images[:, c:c + 1] for c, w in enumerate(CoarseStructure.LUMA))
    response = F.conv2d(luma, CHECKER_KERNEL.to(images).view(1, 1, 3, 3))
    return response.pow(2).mean(dim=(1, 2, 3)).add(1e-12).sqrt()


class CheckerboardExcess(nn.Module):
    """The period-2 grid a fine-tuned generator can paint with its sub-pixel ToRGB (visible as a
    fine mesh when the face is magnified on screen; issue 12's checkerboard score): each sample's
    checker RMS as a multiple of the source generator's on the same latent, penalised above
    `margin`. The source's own output sits at ~0.6 of the camera crop's score on held-out crops,
    and a pack's worst clip on screen at ~1.5x its held-out mean (anime: 0.95 held out, 1.45 on
    talking-1; eval:display), so the default margin aims at ~0.7 of the camera's on average,
    ~1.1 on the worst clip. Sketch's line work sits at 0.9-1.0x the source's: untouched.
    On the face pool's latents (`checker`; smoother than camera crops) it engaged on a few steps
    only and left anime's score where it was (session 25); on encoded pool photos, in the face core
    (`checker_faces`, core=True) it halves anime's and caricature-bigeyes' score on talking-1
    (docs/ablation.md, session 27)."""

    def __init__(self, margin=1.2, core=False):
        super().__init__()
        self.margin = margin
        self.core = core   # only the crop's central half (the face core, where eval:display looks)

    def rms(self, images):
        """[B] checker RMS over the region this term looks at."""
        if self.core:
            h, w = images.shape[-2:]
            images = images[..., h // 4:h - h // 4, w // 4:w - w // 4]
        return checker_rms(images)

    def forward(self, fake, source=None, source_rms=None):
        """`source_rms` ([B], = self.rms(source)) instead of `source` when the caller caches it."""
        reference = self.rms(source) if source_rms is None else source_rms
        return F.relu(self.rms(fake) / reference.detach() - self.margin).mean()


class WarpSmoothness(nn.Module):
    """Smoothness prior on the warp fields: mean squared finite differences of each slot's
    unit displacement (alpha = 1), times the grid size so the prior does not depend on the
    slot's resolution. Affine warps have constant gradient, so this mostly bends TPS back;
    a small L2 on the TPS offsets keeps the field from drifting where nothing pulls it."""

    def __init__(self, offset_l2=0.1):
        super().__init__()
        self.offset_l2 = offset_l2

    def forward(self, generator):
        total = 0.0
        for warp in generator.warps:
            d = warp.tps.displacement()                            # [1, H, W, 2]
            H = d.shape[1]
            dx = (d[:, :, 1:] - d[:, :, :-1]) * H / 2
            dy = (d[:, 1:] - d[:, :-1]) * H / 2
            # second differences: zero for affine-like (uniformly stretching) fields
            dxx = dx[:, :, 1:] - dx[:, :, :-1]
            dyy = dy[:, 1:] - dy[:, :-1]
            total = total + dxx.pow(2).mean() * H + dyy.pow(2).mean() * H
            total = total + self.offset_l2 * warp.tps.offsets.pow(2).mean()
        return total


class PairGeometry(nn.Module):
    """The pair's own change of shape as direct supervision of the warps: where the style
    half has a face-mesh landmark (its crop px), the generator's composed flow at alpha 1
    must sample the real half's same landmark. The warps are one field per pack (not per
    face), so this is the deformation every face gets, scaled by alpha at run time. Mean
    distance in crop px. `weights` [N] (optional) weigh the landmarks (e.g. contour points)."""

    def __init__(self, real_px, style_px, size, weights=None):
        super().__init__()
        to_norm = lambda p: torch.as_tensor(p, dtype=torch.float32) / size * 2 - 1   # continuous px, align_corners=False
        self.size = size
        self.register_buffer("anchors", to_norm(real_px), persistent=False)          # [N, 2]
        self.register_buffer("targets", to_norm(style_px).view(1, 1, -1, 2), persistent=False)
        w = torch.ones(len(real_px)) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        self.register_buffer("weights", w / w.sum(), persistent=False)

    def forward(self, flow):
        """flow: [1, 2, S, S] sampling field (x, y) in [-1, 1]."""
        sampled = F.grid_sample(flow, self.targets, mode="bilinear", padding_mode="border", align_corners=False)
        sampled = sampled[0, :, 0].t()                                        # [N, 2]
        distance = (sampled - self.anchors).norm(dim=1) * self.size / 2
        return (distance * self.weights).sum()


def g_adversarial(d_logits):
    return base_losses.g_nonsaturating_loss(d_logits)


def d_adversarial(real_logits, fake_logits):
    return base_losses.d_logistic_loss(real_logits, fake_logits)


def inner_face_radius_squared(size):
    """[S, S] each pixel's squared elliptic radius in the inner face ellipse of a `face-core-v1`
    crop (<= 1 inside; the oval covers 79 % x 91 % of the crop)."""
    t = (torch.arange(size) + 0.5) / size
    y, x = torch.meshgrid(t, t, indexing="ij")
    return ((x - 0.5) / 0.30) ** 2 + ((y - 0.52) / 0.36) ** 2


def inner_face_mask(size):
    """[1, 1, S, S] ellipse over the inner face: cheeks, eyes, nose and mouth, little hair or
    background."""
    return (inner_face_radius_squared(size) <= 1).float()[None, None]


class ColourMoments(nn.Module):
    """The style's palette on every face: mean and covariance of RGB over the inner face of
    each sample must match the style image's. The guide's tokens barely see colour, so without
    it a style-only pack drifts to whatever tint the other terms tolerate (a grey pencil
    sketch came out green). Full 3 x 3 covariance, so saturation and hue spread match too,
    not only each channel's spread."""

    def __init__(self, size):
        super().__init__()
        self.register_buffer("mask", inner_face_mask(size))

    def moments(self, x, mask=None):
        mask = self.mask if mask is None else mask
        w = mask / mask.sum()
        mean = (x * w).sum(dim=(2, 3))                                   # [B, 3]
        d = (x - mean[:, :, None, None]) * w.sqrt()
        cov = torch.einsum("bihw,bjhw->bij", d, d)                       # [B, 3, 3]
        return mean, cov

    @staticmethod
    def distance(mean, cov, mean_target, cov_target):
        return (mean - mean_target).abs().mean() + (cov - cov_target).abs().mean() * 4

    def forward(self, fake, style):
        return self.distance(*self.moments(fake), *self.moments(style))


# MediaPipe face-mesh contours (indices into its 468/478 landmarks)
LEFT_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
RIGHT_EYE = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]


def polygon_mask(points, size, grow=0):
    """[1, 1, S, S] coverage of the polygon `points` ([N, 2] crop px), anti-aliased (drawn at 4x),
    then grown by `grow` px."""
    from PIL import Image, ImageDraw
    scale = 4
    canvas = Image.new("L", (size * scale, size * scale), 0)
    ImageDraw.Draw(canvas).polygon([(float(x) * scale, float(y) * scale) for x, y in points], fill=255)
    mask = F.avg_pool2d(torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255)[None, None], scale)
    return F.max_pool2d(mask, 2 * grow + 1, stride=1, padding=grow) if grow else mask


def face_regions(points, size, eye_grow=None, oval=False):
    """[3, 1, S, S] masks of a face whose landmarks are `points` ([N, 2] crop px): the eyes with
    their lids and lines (each eye's contour grown by 4 px at 128), the lips, and the skin (the
    inner face from the eyes' top down, without eyes and lips: the forehead is left out, where a
    fringe is hair, not skin). With `oval`, the skin also stays 4 px (at 128) inside the face's
    own outline: the fixed inner-face ellipse takes in the hair and shadow beside a narrow face
    (cartoon-narrow's black hair: its skin's luma spread 56 against 46 for the real half)."""
    points = np.asarray(points, dtype=np.float64)
    grow = round(4 * size / 128) if eye_grow is None else eye_grow
    eyes = torch.maximum(polygon_mask(points[LEFT_EYE], size, grow), polygon_mask(points[RIGHT_EYE], size, grow))
    lips = polygon_mask(points[LIPS], size, max(1, grow // 4))
    top = points[LEFT_EYE + RIGHT_EYE, 1].min() - grow
    below = (torch.arange(size, dtype=torch.float32) + 0.5 >= top).float().view(1, 1, size, 1)
    skin = inner_face_mask(size) * below * (1 - eyes) * (1 - lips)
    if oval:
        inside = 1 - F.max_pool2d(1 - polygon_mask(points[FACE_OVAL], size), 2 * grow + 1, stride=1, padding=grow)
        skin = skin * inside
    return torch.cat([skin, eyes, lips])


class RegionColour(ColourMoments):
    """The style's palette region by region: RGB mean and covariance of the samples' skin, eyes
    and lips (face_regions at the style half's landmarks, where the pack's warps put them) must
    match the style image's same regions. ColourMoments over the whole inner face makes a style
    whose inner face holds dark masses (a black fringe, heavy eye make-up) paint dark masses
    somewhere on every face -- the eye sockets (cartoon-narrow's black eyes); per region, the
    lips take the style's lip colour, the eyes its lids and lines, the skin its skin."""

    def __init__(self, size, style, style_points, oval=False):
        super().__init__(size)
        self.register_buffer("regions", face_regions(style_points, size, oval=oval))   # [3, 1, S, S]
        with torch.no_grad():
            self.targets = [self.moments(style, region) for region in self.regions]

    def forward(self, fake):
        losses = [self.distance(*self.moments(fake, region), mean, cov)
                  for region, (mean, cov) in zip(self.regions, self.targets)]
        return sum(losses) / len(losses)


def detail_masks(points, size, regions=(0,)):
    """[1, R, S, S] the face's `regions` (face_regions: 0 skin, 1 eyes, 2 lips) for FaceDetail;
    the skin inside the face's own outline (the inner-face ellipse also takes in the hair and
    jaw line beside a narrow or turned face: anime's exemplar's skin 8.8 with them, 3.5 without)."""
    return face_regions(points, size, oval=True)[list(regions)].transpose(0, 1)


class FaceDetail(nn.Module):
    """The style's shading detail on camera faces: in a pack's output of an encoded photo, each
    region's (`regions` of face_regions: 0 skin, 1 eyes, 2 lips) mean gradient magnitude (RGB)
    over the source generator's on the same photo must be the pair's (the style half's
    over the real half's, each at its own landmarks and, for the skin, inside its own outline) --
    a squared log ratio. The packs drew camera faces' skin with 1.1-2.2x the camera's gradient
    energy where their styles have 0.5-1.2x a photo's (pixar-3d's smooth render 0.49): blotchy
    shading a person reads as a smear, and a moving face flickers in proportion to it. On encoded
    photos, as the runtime sees camera crops: the pool's latent samples are smoother, and the
    same term on them barely reached the photos. Each photo's regions are moved by the output's
    flow, so the masks follow the warps."""

    def __init__(self, size, real, real_points, style, style_points, regions=(0,), eps=1e-3):
        super().__init__()
        self.size, self.regions, self.eps = size, list(regions), eps
        with torch.no_grad():
            ratio = self.energy(style, self.masks(style_points)) / self.energy(real, self.masks(real_points))
        self.register_buffer("log_target", torch.log(ratio)[0])                 # [R]

    def masks(self, points):
        return detail_masks(points, self.size, self.regions)

    @staticmethod
    def gradient(x):
        """[B, 1, S-1, S-1] |d x / dx| + |d x / dy| averaged over R, G and B. Not luma's: asked for
        more luma detail around the eyes, a pack drew it with green alone (the channel with the
        most luma weight), a green fringe around every eye and brow."""
        return ((x[..., :-1, 1:] - x[..., :-1, :-1]).abs() + (x[..., 1:, :-1] - x[..., :-1, :-1]).abs()).mean(1, keepdim=True)

    @classmethod
    def energy(cls, x, masks):
        """[B, R] mean gradient magnitude (`gradient`) of x ([B, 3, S, S]) under each of masks ([B or 1, R, S, S])."""
        m = masks[..., :-1, :-1]
        return (cls.gradient(x) * m).sum((2, 3)) / m.sum((2, 3)).clamp_min(1e-6)

    def forward(self, out, source_energy, masks, flow):
        """out: [B, 3, S, S] outputs at alpha 1 of photos whose regions are `masks` ([B, R, S, S])
        and whose source generator renders have `source_energy` ([B, R]); flow: the outputs' flow."""
        energy = self.energy(out, N.warp_like(masks, flow))
        return (torch.log(energy + self.eps) - torch.log(source_energy + self.eps) - self.log_target).pow(2).mean()


class StylePatches(nn.Module):
    """The style's local look, pixel by pixel: the distribution of small RGB patches (3 x 3)
    over the inner face of each sample, at 128, 64 and 32 px, must match the style image's --
    the sliced Wasserstein distance (Heitz et al. 2021, "A sliced Wasserstein loss for neural
    texture synthesis"): project every patch on random directions, sort, compare quantile by
    quantile. StyleTexture's Gram of the guide's tokens sees layout more than brush work; flat
    anime skin, pencil hatching and painted strokes live in the pixels. No network; forward +
    backward for a batch of 4 at 128² ~150 ms on one core, ~90 ms on two. Fresh directions
    every call (from `generator`), so no fixed set is gamed."""

    def __init__(self, size, patch=3, scales=3, directions=32):
        super().__init__()
        self.patch, self.scales, self.directions = patch, scales, directions
        masks, m = [], inner_face_mask(size)
        for _ in range(scales):
            masks.append(m.flatten() >= 0.5)
            m = F.avg_pool2d(m, 2)
        self.masks = masks

    def patches(self, x, level):
        """[B, P, 3 * patch^2]: the patches centred inside the inner face at `level`."""
        for _ in range(level):
            x = F.avg_pool2d(x, 2)
        cols = F.unfold(x, self.patch, padding=self.patch // 2)          # [B, D, H * W]
        return cols[:, :, self.masks[level]].transpose(1, 2)

    def forward(self, fake, style, generator=None):
        loss = 0.0
        for level in range(self.scales):
            pf, ps = self.patches(fake, level), self.patches(style, level)
            dirs = torch.randn(pf.shape[-1], self.directions, generator=generator)
            dirs = dirs / dirs.norm(dim=0, keepdim=True)
            qf = (pf @ dirs).sort(dim=1).values                             # [B, P, K]
            qs = (ps @ dirs).sort(dim=1).values                             # [1, P, K]
            loss = loss + (qf - qs).abs().mean()
        return loss / self.scales


def shift_crops(images, shift_px):
    """images [B, 3, S, S] moved by (dx, dy) crop pixels each ([B, 2]), bilinear, border
    padding: the sub-pixel jitter of the runtime's crop between camera frames."""
    B, _, S, _ = images.shape
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, :, 2] = -shift_px * 2 / S
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


class ShiftConsistency(nn.Module):
    """Temporal steadiness: the runtime's crop moves by a fraction of a pixel with every
    landmark estimate, so the same face reaches the encoder shifted a little from frame to
    frame. A pack must then draw the same face shifted, not new ink lines or texture (the
    flicker a person sees). L1 between G(E(shift(x))) and shift(G(E(x))), inside a margin the
    shift cannot reach."""

    def forward(self, out_shifted, out, shift_px, margin=4):
        target = shift_crops(out, shift_px)
        return (out_shifted - target)[..., margin:-margin, margin:-margin].abs().mean()
