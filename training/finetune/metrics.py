"""Measurements of a fine-tuned style generator, written into build.json by build_pack.py.
(The full scorecard with identity / landmark-geometry / style metrics is separate work.)"""

import torch

from . import losses as L
from .networks import StyleMixing

ALPHAS = (0.0, 0.5, 1.0, 1.5)


@torch.no_grad()
def warp_magnitude(generator, alphas=ALPHAS):
    """Mean |flow - identity| in crop pixels for each alpha: 0 at alpha 0, linear in alpha."""
    size = generator.cfg["size"]
    base = generator.compose_flow([]).clone()
    out = {}
    for a in alphas:
        disps = [w.displacement(torch.tensor([float(a)])) for w in generator.warps]
        flow = generator.compose_flow(disps)
        out[f"{a:g}"] = float((flow - base).norm(dim=1).mean() * size / 2)
    return out


@torch.no_grad()
def directional_score(generator, generator_source, guide, w_plus, features, pair, layers=None):
    """DirectionalDeformationLoss and RelativeStructureLoss of held-out latent samples
    (lower = the samples move the way the pair does / keep their relative structure)."""
    mix = StyleMixing(generator.fine if layers is None else layers)
    tok_s = guide.tokens(generator_source(w_plus, features, torch.zeros(1))[0])
    tok_t = guide.tokens(generator(mix(w_plus, pair["w_style"]), features, torch.ones(1))[0])
    ref_real, ref_style = guide.tokens(pair["real"]), guide.tokens(pair["style"])
    return {"directional": float(L.DirectionalDeformationLoss()(tok_t, tok_s, ref_style, ref_real)),
            "relative_structure": float(L.RelativeStructureLoss()(tok_t, tok_s, ref_style, ref_real))}
