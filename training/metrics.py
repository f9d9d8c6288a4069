"""Held-out metrics: PSNR and SSIM of reconstructions (encoder -> generator at alpha 0)."""

import torch

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
