"""Shared fixtures: the trainer modules live in training/ (scripts, not a package)."""

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
import torch  # noqa: E402

import networks as N  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))

# A tiny model with the full structure (3 resolutions, 2 warp slots): fast enough for
# overfit / training-loop / export tests on 2 cores.
TINY = {"style_dim": 32, "feature_ch": 16, "channels": {32: 16, 64: 16, 128: 8},
        "tps_grid": 4, "enc_width": 0.25, "disc_ch": 8,
        "detail_ch": 0}   # the detail path has its own tests (test_networks: detail_ch 4)


@pytest.fixture
def tiny_cfg():
    return N.make_config(**TINY)


def randomize_warps(generator, seed=0, scale=0.05):
    """Non-identity warp parameters (small, like a learned caricature)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for w in generator.warps:
            w.tps.offsets.copy_(torch.randn(w.tps.offsets.shape, generator=g) * scale)
            w.affine.theta.fill_(0.05)
            w.affine.log_scale.copy_(torch.tensor([0.05, -0.03]))
            w.affine.translation.copy_(torch.tensor([0.02, -0.01]))
