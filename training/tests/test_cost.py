"""The default widths stay within the real-time budget (chosen with training/cost.py)."""

import torch

import cost
import networks as N


def test_default_model_within_budget():
    cfg = N.make_config()
    E, G = N.build(cfg)
    E.eval(), G.eval()
    image = torch.zeros(1, 3, 128, 128)
    with torch.no_grad():
        w, f = E(image)
    gmac = (cost.count_macs(E, image) + cost.count_macs(G, w, f, torch.ones(1))) / 1e9
    assert gmac <= 1.05, gmac                                            # ~1 GMAC per frame
    assert sum(p.numel() for p in G.parameters()) * 2 <= 8 * 2 ** 20     # fp16 generator <= 8 MB
    assert 1e6 <= sum(p.numel() for p in E.parameters()) <= 3e6          # MobileNet-class encoder
