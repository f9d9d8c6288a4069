"""Held-out metrics: PSNR and SSIM of reconstructions (encoder -> generator at alpha 0), and
how much fine detail survives the generator's warps (what a pack shows at alpha 1)."""

import torch
import torch.nn.functional as F

import losses


def psnr(fake, real):
    """PSNR in dB per image for [-1, 1] images (peak = 1 in [0, 1] units) -> [B]."""
    mse = (((fake.clamp(-1, 1) - real) / 2) ** 2).mean(dim=[1, 2, 3])
    return -10 * torch.log10(mse.clamp_min(1e-10))


@torch.no_grad()
def reconstruction_metrics(encoder, generator, images, batch=32):
    """Mean PSNR / SSIM over a fixed [N, 3, H, W] batch of held-out images."""
    was_training = encoder.training, generator.training
    encoder.eval(), generator.eval()
    alpha = torch.zeros(1, device=images.device)
    p, s = [], []
    for i in range(0, len(images), batch):
        real = images[i:i + batch]
        fake, _ = generator(*encoder(real), alpha)
        p.append(psnr(fake, real))
        s.append(losses.ssim(fake.clamp(-1, 1), real))
    encoder.train(was_training[0]), generator.train(was_training[1])
    return {"psnr": torch.cat(p).mean().item(), "ssim": torch.cat(s).mean().item()}


def fine_detail(images):
    """RMS of luma minus its Gaussian blur (sigma 1 crop px) per image -> [B]: the fine-detail
    energy that the display-resolution detail ratio (scripts/eval-display) also measures."""
    y = (0.299 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]).unsqueeze(1)
    k = torch.exp(-torch.arange(-3, 4, dtype=y.dtype) ** 2 / 2)
    k = k / k.sum()
    blur = F.conv2d(F.pad(y, (3, 3, 0, 0), mode="replicate"), k.view(1, 1, 1, 7))
    blur = F.conv2d(F.pad(blur, (0, 0, 3, 3), mode="replicate"), k.view(1, 1, 7, 1))
    return (y - blur).pow(2).mean(dim=[1, 2, 3]).sqrt()


@torch.no_grad()
def warped_metrics(encoder, generator, images, batch=32, seed=0, scale=1.0):
    """Reconstructions through random warps of the packs' size (train.randomize_warps, seeded
    per batch) against the crop resampled by the same flow: PSNR and the fine-detail ratio
    output / target, with the detail ratio of the unwarped (alpha 0) reconstructions beside
    them. A decoder that smears resampled features shows it here: detail ratio warped << alpha 0."""
    from networks import warp_like
    from train import randomize_warps

    saved = [p.detach().clone() for p in generator.warp_parameters()]
    psnr_w, detail_w, detail_0 = [], [], []
    try:
        for i in range(0, len(images), batch):
            real = images[i:i + batch]
            w, f = encoder(real)
            plain, _ = generator(w, f, torch.zeros(1))
            detail_0.append(fine_detail(plain.clamp(-1, 1)) / fine_detail(real).clamp_min(1e-6))
            randomize_warps(generator, torch.Generator().manual_seed(seed * 7919 + i), scale)
            fake, flow = generator(w, f, torch.ones(1))
            target = warp_like(real, flow)
            psnr_w.append(psnr(fake, target))
            detail_w.append(fine_detail(fake.clamp(-1, 1)) / fine_detail(target).clamp_min(1e-6))
    finally:
        for p, v in zip(generator.warp_parameters(), saved):
            p.copy_(v)
    return {"warped_psnr": torch.cat(psnr_w).mean().item(), "warped_detail": torch.cat(detail_w).mean().item(),
            "detail": torch.cat(detail_0).mean().item()}
