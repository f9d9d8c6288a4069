"""What fine-tuning adds around the base networks: style mixing, the latent-sample pool,
and loading the base model / guide. Architecture of G itself: training/networks.py."""

import numpy as np
import torch
import torch.nn as nn

import dataset as data
import export


class StyleMixing(nn.Module):
    """Fine layers of each sample take the inverted style image's codes (colour / texture
    from the style, structure and identity from the sample): w_mix[:, fine] = w_style[fine].
    `layers` defaults to G.fine; DoesFS mixes the fine half of StyleGAN's 18 layers."""

    def __init__(self, layers):
        super().__init__()
        self.layers = list(layers)

    @staticmethod
    def mask(layers, n_latent):
        """[1, n_latent, 1]: 1 on the mixed layers."""
        return torch.tensor([float(i in layers) for i in range(n_latent)]).view(1, n_latent, 1)

    def forward(self, w_plus, w_style):
        if not self.layers:   # no mixing (ablation)
            return w_plus
        return self.mix(w_plus, w_style, self.mask(self.layers, w_plus.shape[1]).to(w_plus.dtype))

    @staticmethod
    def mix(w_plus, w_style, mask):
        """w_plus with w_style on the layers where mask ([1, n_latent, 1]) is 1."""
        return w_plus * (1 - mask) + w_style.expand_as(w_plus) * mask


class MixedGeneratorExport(nn.Module):
    """What a style pack's generator.onnx computes: the tuned generator behind StyleMixing
    with the inverted style image's codes baked in as a constant, so the runtime feeds the
    encoder's W+ unchanged and gets the colours the preview shows. Same I/O contract as
    the base generator (export.GeneratorExport)."""

    def __init__(self, generator, w_style, layers=None):
        super().__init__()
        self.generator = export.GeneratorExport(generator)
        layers = generator.fine if layers is None else layers
        self.register_buffer("w_style", w_style.detach().clone())
        # a constant mask, so the graph holds one Mul/Add and no index ops (an indexed write
        # exported as ScatterND, which onnxruntime-web's WebGPU EP runs on the CPU)
        self.register_buffer("mask", StyleMixing.mask(layers, w_style.shape[1]))

    def forward(self, w_plus, features, alpha):
        return self.generator(StyleMixing.mix(w_plus, self.w_style, self.mask), features, alpha)


def composite_groups(features, size, count, order=None):
    """`count` disjoint groups of `size` indices for composite faces (mean codes of several
    people, so a shown face is no one in the data): each group is a seed face (taken in
    `order`, default 0, 1, ...) and its nearest unused neighbours by feature-map distance,
    so the blend stays coherent instead of ghosting."""
    order = list(range(len(features))) if order is None else list(order)
    used, groups = set(), []
    for _ in range(count):
        seed = next(i for i in order if i not in used)
        free = [i for i in range(len(features)) if i not in used and i != seed]
        dist = (features[free] - features[seed]).flatten(1).pow(2).mean(1)
        group = [seed] + [free[j] for j in dist.argsort()[:size - 1].tolist()]
        used.update(group)
        groups.append(group)
    return groups


def load_base(checkpoint, config=None):
    """(cfg, encoder, generator) with EMA weights, eval mode, frozen (random init of `config`
    when checkpoint is None)."""
    cfg, encoder, generator = export.load_models(checkpoint, config)
    for p in list(encoder.parameters()) + list(generator.parameters()):
        p.requires_grad_(False)
    return cfg, encoder, generator


class LatentPool:
    """Latent samples = base-encoder codes (w_plus AND features) of real training faces, so
    fine-tuning sees exactly the distribution the runtime feeds the generator. Encoded
    once up front (the encoder is frozen), then sampled with a seeded generator."""

    def __init__(self, encoder, images, batch=32):
        self.images = images   # kept for terms that re-encode moved faces (loop's ShiftConsistency)
        ws, fs = [], []
        with torch.no_grad():
            for i in range(0, len(images), batch):
                w, f = encoder(images[i:i + batch])
                ws.append(w), fs.append(f)
        self.w_plus, self.features = torch.cat(ws), torch.cat(fs)

    def __len__(self):
        return len(self.w_plus)

    def sample(self, n, g):
        idx = torch.randint(0, len(self), (n,), generator=g)
        return self.w_plus[idx], self.features[idx]

    @staticmethod
    def real_faces(count, split="train", seed=0, data_spec="aligned", alignment=None, size=128):
        """`count` aligned real faces ([-1, 1] tensor), spread over the split; 'aligned' reads the
        crop cache of `alignment` at `size` (the base model's crop framing and size)."""
        ds = data.open_dataset(data_spec, split, size, alignment=alignment)
        idx = np.random.default_rng(seed).choice(len(ds), size=min(count, len(ds)), replace=False)
        return data.to_tensor(np.stack([ds[int(i)] for i in sorted(idx)]))

    def project(self, w_plus, features, k=8):
        """Style-image-only mode: the 'real half' of a pair. The base autoencoder reconstructs
        a stylised face faithfully (deformation included), so a plain inversion would give
        (style - real) = 0. Instead project the style's codes onto the real-face codes: a
        softmin-weighted mean of its k nearest pool codes (by feature-map distance), with
        the style's own coarse w kept for pose/identity cues."""
        d = (self.features - features).flatten(1).pow(2).mean(1)            # [P]
        dist, idx = d.topk(min(k, len(self)), largest=False)
        weight = torch.softmax(-dist / dist.mean().clamp_min(1e-8), 0).view(-1, 1, 1)
        w_proj = (self.w_plus[idx] * weight).sum(0, keepdim=True)
        f_proj = (self.features[idx] * weight.view(-1, 1, 1, 1)).sum(0, keepdim=True)
        return w_proj, f_proj
