"""Augmentations for the semantic guide: make a photo look drawn, painted or rendered, so
DINO's "two views of one image must agree" teaches the guide that an eye is an eye in a
photo, a cartoon or a sketch. All batch-wise torch ops on [-1, 1] NCHW (CPU-friendly),
driven by an explicit torch.Generator so a run is reproducible from (seed, step).

Multi-crop (DINO): 2 global views (random resized crop, scale 0.5-1, at 128) and several
local views (scale 0.15-0.4, at 64). `multicrop` also returns each view's box in the
source image, which the dense term of train_guide.py uses to pair up tokens.
"""

import torch
import torch.nn.functional as F

GRAY = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def _u(g, n, lo, hi):
    return lo + (hi - lo) * torch.rand(n, generator=g)


def _where(mask, a, b):
    return torch.where(mask.view(-1, 1, 1, 1), a, b)


def gaussian_blur(x, sigma):
    """Separable Gaussian blur, one sigma per image (sigma [B], pixels)."""
    B, C, H, W = x.shape
    r = int(torch.ceil(sigma.max() * 2.5).clamp_min(1))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-t[None] ** 2 / (2 * sigma[:, None].clamp_min(1e-3) ** 2))
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(C, 0)           # [B*C, 2r+1]
    y = F.pad(x, (r, r, r, r), mode="reflect").reshape(1, B * C, H + 2 * r, W + 2 * r)
    y = F.conv2d(y, k.view(B * C, 1, 1, -1), groups=B * C)             # per-image kernels via groups
    y = F.conv2d(y, k.view(B * C, 1, -1, 1), groups=B * C)
    return y.view(B, C, H, W)


def colour_jitter(x, g, strength=0.6):
    """Strong brightness / contrast / saturation jitter plus a hue rotation."""
    B = x.shape[0]
    b = _u(g, B, 1 - strength, 1 + strength).view(B, 1, 1, 1)
    c = _u(g, B, 1 - strength, 1 + strength).view(B, 1, 1, 1)
    s = _u(g, B, 0, 1 + strength).view(B, 1, 1, 1)
    x = (x + 1) * b - 1
    m = x.mean(dim=[1, 2, 3], keepdim=True)
    x = (x - m) * c + m
    gray = (x * GRAY).sum(1, keepdim=True)
    x = (x - gray) * s + gray
    # hue: rotate chroma about the gray axis (Rodrigues rotation in RGB space)
    theta = _u(g, B, -3.1416, 3.1416) * 0.5
    cos, sin = torch.cos(theta).view(B, 1, 1), torch.sin(theta).view(B, 1, 1)
    k = torch.full((3,), 3 ** -0.5)
    K = torch.tensor([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    R = torch.eye(3) + sin * K + (1 - cos) * (K @ K)                   # [B, 3, 3]
    x = torch.einsum("bij,bjhw->bihw", R, x)
    return x.clamp(-1, 1)


def posterize(x, g):
    """Quantise each channel to 2-6 levels (screen print / flat cel look)."""
    B = x.shape[0]
    levels = torch.randint(2, 7, (B,), generator=g).float().view(B, 1, 1, 1)
    return (torch.round((x + 1) / 2 * (levels - 1)) / (levels - 1)) * 2 - 1


def palette_quantize(x, g, k=6):
    """Colour quantisation to k colours picked from the image itself (a one-step k-means)."""
    B, C, H, W = x.shape
    flat = x.flatten(2).transpose(1, 2)                                # [B, HW, 3]
    idx = torch.randint(0, H * W, (B, k), generator=g)
    palette = torch.gather(flat, 1, idx[..., None].expand(B, k, 3))    # [B, k, 3]
    assign = torch.cdist(flat, palette).argmin(-1)                     # [B, HW]
    # one Lloyd step: palette = mean of its members, so colours stay representative
    onehot = F.one_hot(assign, k).float()                              # [B, HW, k]
    palette = (onehot.transpose(1, 2) @ flat) / onehot.sum(1)[..., None].clamp_min(1)
    palette = torch.where(onehot.sum(1)[..., None] > 0, palette, palette.detach())
    out = torch.gather(palette, 1, torch.cdist(flat, palette).argmin(-1)[..., None].expand(B, H * W, 3))
    return out.transpose(1, 2).view(B, C, H, W)


def sobel_edges(x):
    gray = (x * GRAY).sum(1, keepdim=True)
    kx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype).view(1, 1, 3, 3) / 4
    gx = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), kx)
    gy = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), kx.transpose(2, 3))
    return (gx ** 2 + gy ** 2).sqrt()                                  # [B, 1, H, W], ~[0, 1]


def sketch(x, g):
    """Pencil sketch: colour-dodge of gray over its blurred inverse, or inverted Sobel edges."""
    B = x.shape[0]
    gray = ((x * GRAY).sum(1, keepdim=True) + 1) / 2                   # [0, 1]
    blurred = gaussian_blur((1 - gray).expand(B, 3, *x.shape[2:]), _u(g, B, 1.5, 4))[:, :1]
    dodge = (gray / (1 - blurred).clamp_min(0.05)).clamp(0, 1)
    edges = 1 - (sobel_edges(x) * _u(g, B, 2, 5).view(B, 1, 1, 1)).clamp(0, 1)
    use_dodge = torch.rand(B, generator=g) < 0.5
    out = _where(use_dodge, dodge, edges)
    return (out * 2 - 1).expand(B, 3, *x.shape[2:])


def bilateral(x, sigma_s=2.0, sigma_r=0.2, radius=2):
    """5x5 bilateral filter via unfold: smooths flat regions, keeps edges (cartoon look)."""
    B, C, H, W = x.shape
    k = 2 * radius + 1
    patches = F.unfold(F.pad(x, (radius,) * 4, mode="reflect"), k).view(B, C, k * k, H, W)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    spatial = torch.exp(-(t[:, None] ** 2 + t[None] ** 2) / (2 * sigma_s ** 2)).view(1, 1, k * k, 1, 1)
    rng = torch.exp(-((patches - x[:, :, None]) ** 2).sum(1, keepdim=True) / (2 * sigma_r ** 2))
    w = spatial * rng
    return (patches * w).sum(2) / w.sum(2)


def cartoon(x, g):
    """Repeated bilateral smoothing + posterised colours + dark edges (classic cartoon filter)."""
    B = x.shape[0]
    for _ in range(2):
        x = bilateral(x)
    x = posterize(x, g)
    edges = (sobel_edges(x) * 3).clamp(0, 1)
    draw = (torch.rand(B, generator=g) < 0.7).float().view(B, 1, 1, 1)
    return x * (1 - edges * draw) - edges * draw


def artistic(x, g, p_render=0.8):
    """One random 'rendering' per image (or none, with p 1 - p_render), then colour jitter
    and blur. Each transform is computed on the whole batch and selected per image: simple,
    and on 2 CPU cores cheaper than python loops over images."""
    B = x.shape[0]
    choice = torch.randint(0, 5, (B,), generator=g)
    render = torch.rand(B, generator=g) < p_render
    out = x
    for i, fn in enumerate([posterize, palette_quantize, sketch, cartoon, None]):
        sel = render & (choice == i)
        if not sel.any():
            continue
        if fn is None:   # painterly: heavy blur then posterise
            y = posterize(gaussian_blur(x[sel], _u(g, int(sel.sum()), 1.0, 2.5)), g)
        else:
            y = fn(x[sel], g)
        out = out.clone()
        out[sel] = y
    out = colour_jitter(out, g, 0.5)
    blur = torch.rand(B, generator=g) < 0.3
    if blur.any():
        out = out.clone()
        out[blur] = gaussian_blur(out[blur], _u(g, int(blur.sum()), 0.5, 2.0))
    return out.clamp(-1, 1)


def random_boxes(B, g, scale, ratio=(3 / 4, 4 / 3)):
    """Random resized crop boxes (x0, y0, x1, y1) in normalised [-1, 1] coords, [B, 4]."""
    area = _u(g, B, *scale)
    logr = _u(g, B, torch.log(torch.tensor(ratio[0])).item(), torch.log(torch.tensor(ratio[1])).item())
    r = torch.exp(logr)
    w = (area * r).sqrt().clamp(max=1.0) * 2
    h = (area / r).sqrt().clamp(max=1.0) * 2
    x0 = -1 + (2 - w) * torch.rand(B, generator=g)
    y0 = -1 + (2 - h) * torch.rand(B, generator=g)
    return torch.stack([x0, y0, x0 + w, y0 + h], 1)


def crop_resize(x, boxes, size, flip):
    """Crop boxes out of x and resize to size (grid_sample); flip [B] bool mirrors the view."""
    B = x.shape[0]
    t = (torch.arange(size, dtype=x.dtype) * 2 + 1) / size - 1         # pixel centres in [-1, 1]
    u = (t[None] + 1) / 2                                              # [1, S] in [0, 1]
    gx = boxes[:, 0:1] + u * (boxes[:, 2:3] - boxes[:, 0:1])           # [B, S]
    gx = torch.where(flip[:, None], gx.flip(1), gx)
    gy = boxes[:, 1:2] + u * (boxes[:, 3:4] - boxes[:, 1:2])
    grid = torch.stack([gx[:, None, :].expand(B, size, size), gy[:, :, None].expand(B, size, size)], -1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False), grid


def multicrop(x, g, n_local=4, global_size=128, local_size=64):
    """-> (views, grids): 2 global + n_local local views, each [B, 3, s, s], and for each
    view the source coordinates [B, s, s, 2] of its pixels (for the dense DINO term)."""
    B = x.shape[0]
    views, grids = [], []
    for i in range(2 + n_local):
        glob = i < 2
        boxes = random_boxes(B, g, (0.5, 1.0) if glob else (0.15, 0.4))
        flip = torch.rand(B, generator=g) < 0.5
        v, grid = crop_resize(x, boxes, global_size if glob else local_size, flip)
        views.append(artistic(v, g))
        grids.append(grid)
    return views, grids
