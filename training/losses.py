"""Objectives only. Images are NCHW in [-1, 1] unless stated otherwise.

Reconstruction: L1 + (1 - MS-SSIM) (Zhao et al. 2017, "Loss functions for image
restoration": the mix keeps colours right (L1) and edges/contrast sharp (MS-SSIM)).
Adversarial (switched on later): non-saturating logistic GAN loss + R1 penalty on reals
(Mescheder et al. 2018), as in StyleGAN2.
"""

import torch
import torch.nn.functional as F

# MS-SSIM scale weights (Wang et al. 2003); at 128 px with an 11-tap window only the
# first three scales fit (128, 64, 32), so the weights are renormalised.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gaussian_window(size=11, sigma=1.5, channels=3, device=None, dtype=None):
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-t ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    w = (g[:, None] * g[None, :]).to(device=device, dtype=dtype)
    return w.expand(channels, 1, size, size).contiguous()


def _ssim_terms(x, y, window):
    """Per-image SSIM and contrast-structure term (means over pixels and channels), for
    images in [0, 1] (data range 1). 'valid' filtering, as in the reference code."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ch = x.shape[1]
    mu_x = F.conv2d(x, window, groups=ch)
    mu_y = F.conv2d(y, window, groups=ch)
    sxx = F.conv2d(x * x, window, groups=ch) - mu_x ** 2
    syy = F.conv2d(y * y, window, groups=ch) - mu_y ** 2
    sxy = F.conv2d(x * y, window, groups=ch) - mu_x * mu_y
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim_map = (2 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1) * cs
    return ssim_map.mean(dim=[1, 2, 3]), cs.mean(dim=[1, 2, 3])


def ssim(x, y):
    """Mean SSIM of two [-1, 1] image batches -> [B]."""
    window = _gaussian_window(channels=x.shape[1], device=x.device, dtype=x.dtype)
    return _ssim_terms((x + 1) / 2, (y + 1) / 2, window)[0]


def ms_ssim(x, y, scales=3):
    """Multi-scale SSIM of two [-1, 1] image batches -> [B]. Needs size / 2^(scales-1) >= 11."""
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales], device=x.device, dtype=x.dtype)
    weights = weights / weights.sum()
    window = _gaussian_window(channels=x.shape[1], device=x.device, dtype=x.dtype)
    x, y = (x + 1) / 2, (y + 1) / 2
    values = []
    for i in range(scales):
        s, cs = _ssim_terms(x, y, window)
        # relu: negative cs at a coarse scale would make the product meaningless
        values.append(torch.relu(s if i == scales - 1 else cs))
        if i < scales - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    values = torch.stack(values, dim=1)                     # [B, scales]
    return torch.prod(values.clamp_min(1e-6) ** weights, dim=1)


def l1(x, y):
    return (x - y).abs().mean()


def reconstruction_loss(fake, real, l1_weight=1.0, ssim_weight=1.0, scales=3):
    """Returns (total, dict of parts) for logging."""
    l1_term = l1(fake, real)
    ssim_term = 1 - ms_ssim(fake, real, scales).mean()
    return l1_weight * l1_term + ssim_weight * ssim_term, {"l1": l1_term.item(), "ms_ssim": 1 - ssim_term.item()}


def high_frequency(x, sigma=1.0):
    """x minus its Gaussian blur (per channel, reflected edges): the fine detail that L1 and
    MS-SSIM trade away first, and that a face shown 1.5-3x larger than the crop needs."""
    radius = int(3 * sigma)
    window = _gaussian_window(2 * radius + 1, sigma, x.shape[1], x.device, x.dtype)
    return x - F.conv2d(F.pad(x, (radius,) * 4, mode="reflect"), window, groups=x.shape[1])


def detail_loss(fake, real, sigma=1.0):
    """L1 between the high-frequency layers of output and input (a one-level Laplacian
    pyramid term): reproduce the input's edges rather than the mean of plausible ones."""
    return (high_frequency(fake, sigma) - high_frequency(real, sigma)).abs().mean()


def w_delta_regularizer(w_plus):
    """e4e's delta regulariser: keep per-layer codes near their common base, so W+ stays
    close to a single style (editable, mixable). Mean L2 norm of w_i - mean_j w_j."""
    return (w_plus - w_plus.mean(dim=1, keepdim=True)).norm(dim=2).mean()


# --- adversarial -------------------------------------------------------------------------


def g_nonsaturating_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def d_logistic_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def r1_penalty(real_logits, real_images):
    """Squared gradient norm of D at real images (real_images must require grad)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return grad.pow(2).sum(dim=[1, 2, 3]).mean()
