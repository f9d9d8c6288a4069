"""Semantic guide: the feature space in which style fine-tuning measures "what moved where".

DoesFS (Zhou et al. 2024) uses DINO-ViT tokens. Pretrained DINO weights cannot be
downloaded here, so the project ships `VitGuide`, a small ViT trained by
`training/train_guide.py` with the DINO self-distillation objective on the aligned face
crops, under augmentations that imitate artistic rendering (training/guide_augment.py).

Interface (all guides):
    guide.tokens(images)       images [B, 3, H, W] in [-1, 1]  ->  patch tokens [B, N, C]
    guide.global_token(images) -> [B, C] (CLS token, or mean of patch tokens)
    guide.grid                 (h, w) with N = h * w, tokens in row-major order
The losses need d tokens / d image, so a guide used for fine-tuning must be differentiable
in PyTorch: `VitGuide` or an external TorchScript module (`TorchScriptGuide`).

External ONNX guides (`OnnxGuide`): a user's ONNX feature extractor runs through
onnxruntime-web in node (training/ort_run.mjs), because there is no onnxruntime for
Python on this machine (Debian has no package; pip has no network). That path has no
gradients (onnxruntime is inference only), so an ONNX guide can be *evaluated*
(guide_metrics.py correspondence accuracy) but not used to fine-tune: for fine-tuning,
export the same model as TorchScript (`torch.jit.trace(model, x).save("guide.pt")`)
and pass it as `--guide torchscript:guide.pt`.
"""

import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]

# Measured with train_guide.py --cost (1 thread, beside the base training run): dim 128 x
# depth 4 on 128^2 (16 x 16 tokens) is 0.85 M params, 0.28 GMAC, ~18 ms/image forward;
# dim 192 x depth 6 would be 2.8 M, 0.84 GMAC, ~32 ms/image, and every fine-tuning step runs
# the guide on 2 x batch images (forward + backward).
VIT_CONFIG = {"img_size": 128, "patch": 8, "dim": 128, "depth": 4, "heads": 4, "mlp_ratio": 4}

# (no ImageNet normalisation: the guide is trained from scratch on [-1, 1] images)


class SemanticGuide(nn.Module):
    """Base class. Subclasses implement tokens(); grid is set at construction."""

    grid = (16, 16)

    def tokens(self, images):
        raise NotImplementedError

    def global_token(self, images):
        return self.tokens(images).mean(dim=1)

    def forward(self, images):
        return self.tokens(images)


# ----------------------------------------------------------------------------------------
# The shipped guide: ViT-Tiny-like (Dosovitskiy et al. 2021; DINO, Caron et al. 2021)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).view(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q @ k.transpose(-2, -1)) * (C // self.heads) ** -0.5
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * mlp_ratio), nn.GELU(), nn.Linear(dim * mlp_ratio, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """Patch embedding + CLS token + learned position embedding (interpolated for other
    input sizes, so DINO's small local crops work) + pre-norm blocks."""

    def __init__(self, img_size=128, patch=8, dim=128, depth=4, heads=4, mlp_ratio=4):
        super().__init__()
        self.patch, self.dim = patch, dim
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        n = (img_size // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def pos_for(self, h, w):
        pos = self.pos_embed
        n0 = int(math.sqrt(pos.shape[1] - 1))
        if h == n0 and w == n0:
            return pos
        grid = pos[:, 1:].reshape(1, n0, n0, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        return torch.cat([pos[:, :1], grid.flatten(2).transpose(1, 2)], dim=1)

    def forward(self, x):
        """-> all tokens [B, 1 + h*w, dim] (CLS first), after the final norm."""
        x = self.patch_embed(x)
        B, C, h, w = x.shape
        x = torch.cat([self.cls_token.expand(B, -1, -1), x.flatten(2).transpose(1, 2)], dim=1)
        x = x + self.pos_for(h, w)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


class VitGuide(SemanticGuide):
    """The shipped guide. Patch tokens of the last block (DINO's keys are slightly better
    for correspondence, but the output tokens are what the DINO objective shapes and what
    DoesFS' directional loss uses)."""

    def __init__(self, cfg=None):
        super().__init__()
        self.cfg = dict(VIT_CONFIG, **(cfg or {}))
        self.vit = VisionTransformer(**self.cfg)
        n = self.cfg["img_size"] // self.cfg["patch"]
        self.grid = (n, n)

    def _resize(self, images):
        s = self.cfg["img_size"]
        if images.shape[-1] != s or images.shape[-2] != s:
            images = F.interpolate(images, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        return images

    def tokens(self, images):
        return self.vit(self._resize(images))[:, 1:]

    def global_token(self, images):
        return self.vit(self._resize(images))[:, 0]


class EncoderGuide(SemanticGuide):
    """The base encoder's own multi-level features as the semantic space: its 32, 16 and 8 px
    stages (pooled / resized to a 16 x 16 grid, each level L2-normalised, concatenated).
    The encoder was trained to map every face's parts to where the generator needs them, so
    its deeper stages describe facial parts, and it exists without any extra training."""

    grid = (16, 16)

    def __init__(self, checkpoint):
        super().__init__()
        import networks as N
        if checkpoint and not Path(checkpoint).exists() and (REPO / checkpoint).exists():
            checkpoint = REPO / checkpoint    # specs in pack manifests are repository-relative
        # any base checkpoint (training: its EMA encoder; compact) or an encoder-only file
        # (models/guide/encoder-guide.pt, weights stored as fp16); none: random init
        ck = torch.load(checkpoint, map_location="cpu") if checkpoint else {"config": N.make_config()}
        cfg = N.config_from_checkpoint(ck["config"])
        self.encoder = N.Encoder(cfg, N.Generator(cfg).n_latent).eval()
        state = ck.get("encoder_ema", ck.get("encoder"))
        if state is not None:
            self.encoder.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})

    def tokens(self, images):
        enc = self.encoder
        x = enc.stem(images)
        taps = []
        for i, stage in enumerate(enc.stages):
            x = stage(x)
            if i in enc.TAPS[1:]:          # 32, 16, 8 px (the 64 px tap is too local)
                taps.append(x)
        h, w = self.grid
        levels = [F.normalize(F.adaptive_avg_pool2d(t, (h, w)) if t.shape[-1] > w else
                              F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False), dim=1)
                  for t in taps]
        return torch.cat(levels, 1).flatten(2).transpose(1, 2)            # [B, h*w, C]


class TorchScriptGuide(SemanticGuide):
    """External guide: a TorchScript module mapping [B, 3, H, W] in [-1, 1] to either
    tokens [B, N, C] or a feature map [B, C, h, w]. `size` is the input side it expects."""

    def __init__(self, path, size=128):
        super().__init__()
        self.module = torch.jit.load(str(path), map_location="cpu")
        self.size = size
        with torch.no_grad():
            out = self.module(torch.zeros(1, 3, size, size))
        if out.dim() == 4:
            self.grid = tuple(out.shape[-2:])
        else:
            n = int(round(math.sqrt(out.shape[1])))
            self.grid = (n, out.shape[1] // n)

    def tokens(self, images):
        if images.shape[-1] != self.size:
            images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", align_corners=False)
        out = self.module(images)
        return out.flatten(2).transpose(1, 2) if out.dim() == 4 else out


class OnnxGuide(SemanticGuide):
    """External ONNX feature extractor, run by onnxruntime-web in node (no gradients, see
    the module docstring). The model takes one input [1, 3, size, size] in [-1, 1] and
    returns tokens [1, N, C] or a feature map [1, C, h, w] as its first output."""

    def __init__(self, path, size=128):
        super().__init__()
        self.path, self.size = Path(path), size
        self.grid = None

    def tokens(self, images):
        if torch.is_grad_enabled() and images.requires_grad:
            raise RuntimeError("OnnxGuide has no gradients (onnxruntime is inference-only); "
                               "export the guide as TorchScript to fine-tune with it")
        import export  # training/export.py: run_ort runs a model in onnxruntime-web

        import onnx

        name = onnx.load(str(self.path)).graph.input[0].name
        outs = []
        for image in images:
            x = F.interpolate(image[None], size=(self.size, self.size), mode="bilinear", align_corners=False)
            result, _ = export.run_ort(self.path, {name: x.numpy()}, runs=1)
            out = torch.from_numpy(next(iter(result.values())))
            if out.dim() == 4:
                self.grid = tuple(out.shape[-2:])
                out = out.flatten(2).transpose(1, 2)
            outs.append(out)
        return torch.cat(outs)


class _TokensModule(nn.Module):
    """guide.tokens as a module's forward (for torch.onnx.export / torch.jit.trace)."""

    def __init__(self, guide):
        super().__init__()
        self.guide = guide

    def forward(self, images):
        return self.guide.tokens(images)


def load_guide(spec):
    """'vit:PATH' (train_guide.py checkpoint or compact guide file), 'encoder:PATH' (a base
    model checkpoint's encoder features), 'torchscript:PATH', 'onnx:PATH', or 'random'
    (untrained VitGuide: the baseline of guide_metrics.py).
    Returns the guide in eval mode with gradients off for its parameters."""
    kind, _, path = spec.partition(":")
    if kind == "random":
        torch.manual_seed(int(path or 0))
        guide = VitGuide()
    elif kind == "vit":
        ck = torch.load(path, map_location="cpu")
        guide = VitGuide(ck.get("config"))
        state = ck.get("teacher_backbone") or ck["guide"]   # DINO: the teacher is the better model
        guide.vit.load_state_dict(state)
    elif kind == "encoder":
        guide = EncoderGuide(path or None)
    elif kind == "torchscript":
        guide = TorchScriptGuide(path)
    elif kind == "onnx":
        guide = OnnxGuide(path)
    else:
        raise ValueError(f"unknown guide spec {spec!r} (vit:PATH, torchscript:PATH, onnx:PATH, random)")
    guide.eval()
    for p in guide.parameters():
        p.requires_grad_(False)
    return guide


DEFAULT_GUIDE = REPO / "models" / "guide" / "guide-vit.pt"
# The default semantic guide of pack building: the first base model's encoder (full width,
# 21.4 k images). Facial-part correspondence real <-> stylised (guide_metrics.py, shifted,
# 8 px): 0.185, vs 0.119 for the current half-width base encoder, 0.059 for the DINO ViT
# after its short training and 0.053 for a random ViT.
DEFAULT_ENCODER_GUIDE = REPO / "models" / "guide" / "encoder-guide.pt"
