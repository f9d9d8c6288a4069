"""Objectives and metrics."""

import torch

import losses
import metrics


def smooth_images(batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 3, 16, 16, generator=g) * 2 - 1
    return torch.nn.functional.interpolate(x, size=128, mode="bilinear", align_corners=False)


def test_ssim_of_identical_images_is_one():
    x = smooth_images()
    torch.testing.assert_close(losses.ssim(x, x), torch.ones(2))
    torch.testing.assert_close(losses.ms_ssim(x, x), torch.ones(2))


def test_ssim_orders_degradations():
    x = smooth_images()
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    a, b = x + 0.05 * noise, x + 0.3 * noise
    assert (losses.ms_ssim(a, x) > losses.ms_ssim(b, x)).all()
    assert (losses.ssim(a, x) > losses.ssim(b, x)).all()
    assert (metrics.psnr(a, x) > metrics.psnr(b, x)).all()


def test_psnr_value():
    x = torch.zeros(1, 3, 8, 8)
    # error 0.2 in [-1, 1] = 0.1 in [0, 1] -> 20 dB
    torch.testing.assert_close(metrics.psnr(x + 0.2, x), torch.tensor([20.0]))


def test_reconstruction_loss_has_gradient():
    x = smooth_images()
    y = torch.zeros_like(x, requires_grad=True)
    loss, parts = losses.reconstruction_loss(y, x)
    loss.backward()
    assert y.grad.abs().sum() > 0 and set(parts) == {"l1", "ms_ssim"}


def test_adversarial_terms():
    real = smooth_images().requires_grad_(True)
    logits = (real * 3).mean(dim=[1, 2, 3])
    assert losses.r1_penalty(logits, real) > 0
    assert losses.d_logistic_loss(torch.tensor([5.0]), torch.tensor([-5.0])) < 0.02
    assert losses.g_nonsaturating_loss(torch.tensor([-5.0])) > 4


def test_w_delta_regularizer_zero_for_single_w():
    w = torch.randn(2, 1, 8).expand(2, 7, 8)
    assert losses.w_delta_regularizer(w) < 1e-6


def test_detail_loss_sees_only_fine_detail():
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    assert losses.detail_loss(x, x).item() == 0
    assert losses.detail_loss(x + 0.3, x).item() < 1e-6           # a brightness change is not detail
    blurred = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    assert losses.detail_loss(blurred, x).item() > 0.1            # the smear is
