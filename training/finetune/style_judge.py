"""The style judge: does a pack's output look like its own style image, among all the packs'?

A fixed, hand-made image descriptor that no training loss uses (nothing in training/ may
import this module; a test checks), so the fine-tuning cannot optimise it directly. For each
pack's stylised held-out faces the judge finds the nearest exemplar among ALL packs' style
images (Euclidean distance of normalised descriptors); top-1 retrieval accuracy per pack is
the fraction of its outputs whose nearest exemplar is its own style image (chance = 1 / the
number of exemplars).

Descriptor (DESCRIPTOR_VERSION 1, FROZEN on 2026-12-04 before any recipe change; changing
anything here means bumping the version, saying so, and re-scoring every pack). Images are
uint8 RGB [N, H, W, 3], resized to 128² (bilinear) if needed; statistics are taken inside the
face ellipse of the crop (FACE_ELLIPSE, centre (0.5, 0.55), radii 0.32 × 0.38 of the side) so
the background counts little.

  colour  (21 dims)  CIE Lab (sRGB, D65): per channel L, a, b the mean, the standard deviation
                     and the 10/25/50/75/90 % quantiles of the pixels in the ellipse.
  edges   (24 dims)  Sobel gradient of L/100 at 128² and at 64² (2×2 mean): per scale the edge
                     density (share of ellipse pixels with |∇| > 0.05, 0.1, 0.2 per pixel at
                     128², the same thresholds at 64²), the mean |∇|, and an 8-bin orientation
                     histogram (angle mod 180°, |∇|-weighted, sums to 1).
  texture (308 dims) Gram matrices of a fixed random ReLU conv net (3×3 filters, widths 8, 16,
                     16, He-scaled normal weights from numpy seed 1204, zero bias, never
                     trained), one per level at 128², 64², 32² (2×2 mean pooling between levels),
                     ellipse-weighted, element-wise square root, upper triangle.

Normalisation (StyleJudge): each dimension is z-scored with the mean and standard deviation
over the exemplar set (std floored at 10 % of its block's median std, so a near-constant
dimension cannot blow up), then each block is scaled by 1/sqrt(its dimension count), so each
of the three blocks weighs the same in the distance whatever its size.

Sanity checks (`sanity()`, reported by scorecard.py): the exemplars and augmented copies of
them (flip, 85–100 % crop, ±10 % brightness / contrast / saturation) retrieve themselves;
real unstylised faces are spread over the exemplars, not all given confidently to one.
"""

import numpy as np
import torch
import torch.nn.functional as F

DESCRIPTOR_VERSION = 1
SIZE = 128
FACE_ELLIPSE = {"cx": 0.5, "cy": 0.55, "rx": 0.32, "ry": 0.38}
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
EDGE_THRESHOLDS = (0.05, 0.1, 0.2)
ORIENTATION_BINS = 8
GRAM_WIDTHS = (8, 16, 16)
GRAM_SEED = 1204
STD_FLOOR = 0.1            # of the block's median std over the exemplars
BLOCKS = ("colour", "edges", "texture")


def face_ellipse(size=SIZE):
    t = (np.arange(size) + 0.5) / size
    y, x = np.meshgrid(t, t, indexing="ij")
    e = FACE_ELLIPSE
    return ((x - e["cx"]) / e["rx"]) ** 2 + ((y - e["cy"]) / e["ry"]) ** 2 <= 1


def _resize(images):
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.dtype != np.uint8 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 RGB images [N, H, W, 3], got {images.dtype} {images.shape}")
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).double() / 255
    if x.shape[-2:] != (SIZE, SIZE):
        x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return x   # [N, 3, S, S] in [0, 1], float64


def rgb_to_lab(rgb):
    """sRGB in [0, 1], [N, 3, H, W] -> CIE Lab (D65) [N, 3, H, W]: L in [0, 100]."""
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                      [0.2126729, 0.7151522, 0.0721750],
                      [0.0193339, 0.1191920, 0.9503041]], dtype=rgb.dtype)
    xyz = torch.einsum("ij,njhw->nihw", m, lin)
    white = torch.tensor([0.95047, 1.0, 1.08883], dtype=rgb.dtype).view(1, 3, 1, 1)
    t = xyz / white
    d = 6 / 29
    f = torch.where(t > d ** 3, t.clamp_min(1e-12) ** (1 / 3), t / (3 * d * d) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def _colour(lab, mask):
    px = lab.flatten(2)[:, :, torch.from_numpy(mask.reshape(-1))]          # [N, 3, P]
    q = torch.quantile(px, torch.tensor(QUANTILES, dtype=px.dtype), dim=2)   # [Q, N, 3]
    return torch.cat([px.mean(2), px.std(2, unbiased=False), q.permute(1, 2, 0).flatten(1)], 1)


def _filter3x3(padded, kernel):
    """The 3 x 3 correlation of padded [N, 1, H + 2, W + 2] images as a sum of shifted copies, not
    conv2d: a float64 conv2d is a BLAS product whose rounding differs with each CPU's kernel, and
    the edge thresholds turn a last-bit difference into a different count
    (test_descriptor_is_frozen failed on an AMD EPYC's OpenBLAS kernel, session 29)."""
    h, w = padded.shape[-2] - 2, padded.shape[-1] - 2
    out = torch.zeros_like(padded[..., 1:-1, 1:-1])
    for a in range(3):
        for b in range(3):
            if kernel[a, b] != 0:
                out = out + kernel[a, b] * padded[..., a:a + h, b:b + w]
    return out


def _edges(lum, mask):
    kx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=lum.dtype) / 8
    out = []
    for scale in (1, 2):
        x = lum if scale == 1 else F.avg_pool2d(lum, 2)
        m = torch.from_numpy(mask) if scale == 1 else F.avg_pool2d(torch.from_numpy(mask).double()[None, None], 2)[0, 0] >= 0.5
        xp = F.pad(x, (1, 1, 1, 1), mode="replicate")
        gx, gy = _filter3x3(xp, kx)[:, 0], _filter3x3(xp, kx.t())[:, 0]
        mag = torch.sqrt(gx ** 2 + gy ** 2)[:, m]                             # [N, P]
        ang = torch.remainder(torch.atan2(gy, gx)[:, m], np.pi)
        density = torch.stack([(mag > t).double().mean(1) for t in EDGE_THRESHOLDS], 1)
        bins = torch.clamp((ang / np.pi * ORIENTATION_BINS).long(), max=ORIENTATION_BINS - 1)
        hist = torch.zeros(len(mag), ORIENTATION_BINS, dtype=mag.dtype).scatter_add_(1, bins, mag)
        hist = hist / hist.sum(1, keepdim=True).clamp_min(1e-12)
        out += [density, mag.mean(1, keepdim=True), hist]
    return torch.cat(out, 1)


def _gram_filters():
    rng = np.random.default_rng(GRAM_SEED)
    weights, c = [], 3
    for w in GRAM_WIDTHS:
        weights.append(torch.from_numpy(rng.standard_normal((w, c, 3, 3)) * np.sqrt(2 / (9 * c))).float())
        c = w
    return weights


_FILTERS = _gram_filters()


def _texture(rgb, mask):
    x = (rgb * 2 - 1).float()                        # float32 convs (float64 ones are 10x slower)
    m = torch.from_numpy(mask).float()[None, None]
    out = []
    for k, w in enumerate(_FILTERS):
        if k:
            x, m = F.avg_pool2d(x, 2), F.avg_pool2d(m, 2)
        x = F.relu(F.conv2d(x, w, padding=1))
        f = x.flatten(2)                                                      # [N, C, P]
        g = (f * m.flatten(2)) @ f.transpose(1, 2) / m.sum()                  # ellipse-weighted Gram
        iu = torch.triu_indices(g.shape[1], g.shape[1])
        out.append(torch.sqrt(g[:, iu[0], iu[1]].clamp_min(0)))
    return torch.cat(out, 1).double()


@torch.no_grad()
def describe(images):
    """Raw descriptor blocks of uint8 RGB images: {block: float64 array [N, dims]}."""
    rgb = _resize(images)
    mask = face_ellipse()
    lab = rgb_to_lab(rgb)
    return {"colour": _colour(lab, mask).numpy(),
            "edges": _edges(lab[:, :1] / 100, mask).numpy(),
            "texture": _texture(rgb, mask).numpy()}


class StyleJudge:
    """Nearest exemplar by the normalised descriptor. exemplars: uint8 [K, H, W, 3]."""

    def __init__(self, exemplars, names):
        if len(exemplars) != len(names) or len(names) < 2:
            raise ValueError("need two or more exemplars, one name each")
        self.names = list(names)
        raw = describe(exemplars)
        self.stats = {}
        for b in BLOCKS:
            mean, std = raw[b].mean(0), raw[b].std(0)
            floor = STD_FLOOR * max(float(np.median(std)), 1e-12)
            self.stats[b] = (mean, np.maximum(std, floor), 1 / np.sqrt(raw[b].shape[1]))
        self.exemplar_blocks = self.normalise(raw)
        self.exemplars = np.concatenate(list(self.exemplar_blocks.values()), 1)

    def normalise(self, raw):
        """{block: z-scored, 1/sqrt(dims)-weighted descriptor} of raw descriptor blocks."""
        return {b: (raw[b] - m) / s * k for b, (m, s, k) in self.stats.items()}

    def embed_raw(self, raw):
        return np.concatenate(list(self.normalise(raw).values()), 1)

    def embed(self, images):
        return self.embed_raw(describe(images))

    def distances(self, images):
        """[N, K] distances of the images to each exemplar."""
        e = self.embed(images)
        return np.sqrt(((e[:, None] - self.exemplars[None]) ** 2).sum(2))

    def block_distances(self, images):
        """{block: [N, K] squared distance of the images to each exemplar in that block alone}
        (their sum is distances() squared): which of colour, edges, texture decides a retrieval."""
        blocks = self.normalise(describe(images))
        return {b: ((e[:, None] - self.exemplar_blocks[b][None]) ** 2).sum(2) for b, e in blocks.items()}

    def nearest(self, images):
        return self.distances(images).argmin(1)

    def top1(self, images, name):
        """Share of the images whose nearest exemplar is `name`'s."""
        return float((self.nearest(images) == self.names.index(name)).mean())


def augment(images, count, seed=0):
    """`count` augmented copies of each uint8 image (horizontal flip p = 0.5, a random
    85–100 % square crop resized back, brightness / contrast / saturation × U[0.9, 1.1]):
    [N * count, H, W, 3], image-major."""
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255
    n, _, h, w = x.shape
    out = []
    for i in range(n):
        for _ in range(count):
            y = x[i:i + 1]
            if rng.random() < 0.5:
                y = y.flip(3)
            side = int(round(min(h, w) * rng.uniform(0.85, 1.0)))
            top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            y = F.interpolate(y[:, :, top:top + side, left:left + side], size=(h, w), mode="bilinear", align_corners=False)
            b, c, s = rng.uniform(0.9, 1.1, 3)
            y = y * b
            y = (y - y.mean()) * c + y.mean()
            grey = (y * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            y = (y - grey) * s + grey
            out.append(y.clamp(0, 1))
    return (torch.cat(out).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)


def sanity(judge, exemplars, real_faces, augmentations=8, seed=0):
    """The judge's own checks: exemplar self-retrieval (as is and augmented), and how real
    unstylised faces spread over the exemplars (share per exemplar, the largest share, and the
    relative margin (d2 - d1) / d1 between the nearest and second-nearest exemplar: near 0 =
    undecided; compare with the augmented exemplars' margin)."""
    k = len(judge.names)
    own = np.arange(k)
    aug = augment(exemplars, augmentations, seed)
    d_aug = judge.distances(aug)
    s_aug = np.sort(d_aug, 1)
    d_real = judge.distances(real_faces)
    s_real = np.sort(d_real, 1)
    nearest_real = d_real.argmin(1)
    share = {n: float((nearest_real == i).mean()) for i, n in enumerate(judge.names)}
    return {
        "descriptor_version": DESCRIPTOR_VERSION,
        "exemplars": judge.names,
        "augmentations": augmentations,
        "exemplar_self_top1": float((judge.nearest(exemplars) == own).mean()),
        "augmented_self_top1": float((d_aug.argmin(1) == np.repeat(own, augmentations)).mean()),
        "augmented_per_exemplar": {n: float((d_aug.argmin(1)[i * augmentations:(i + 1) * augmentations] == i).mean())
                                   for i, n in enumerate(judge.names)},
        "augmented_margin": float(np.median((s_aug[:, 1] - s_aug[:, 0]) / s_aug[:, 0].clip(1e-12))),
        "real_faces": int(len(real_faces)),
        "real_nearest_share": share,
        "real_largest_share": max(share.values()),
        "real_margin": float(np.median((s_real[:, 1] - s_real[:, 0]) / s_real[:, 0].clip(1e-12))),
        "real_nearest_distance": float(np.median(s_real[:, 0])),
        "exemplar_spacing": float(np.median(np.sort(np.sqrt(((judge.exemplars[:, None] - judge.exemplars[None]) ** 2)
                                                             .sum(2)), 1)[:, 1])),
    }
