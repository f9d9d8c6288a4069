"""Architecture only: encoder, STN-StyleGAN generator, patch discriminator.

Names follow the papers and rosinality/stylegan2-pytorch (EqualLinear, ModulatedConv2d,
StyledConv, ToRGB). Everything here must export to ONNX opset 17 with ops that
onnxruntime-web's WebGPU EP runs on the GPU (Conv, Gemm/MatMul, Mul, Add, Div, Sqrt,
LeakyRelu, Clip, Resize, GridSample, Concat, Slice; see export.WEBGPU_OPS), so:
  * modulation is the "non-fused" StyleGAN2 form: scale input activations by s, convolve
    with the fixed weight, scale outputs by the demodulation factor (no per-sample
    weights, no grouped-conv batch trick);
  * no noise inputs (they flicker between video frames);
  * warps are learnable parameters, not input dependent, so their fields are constants
    times alpha in the exported graph.

Shapes: images NCHW RGB in [-1, 1]; w_plus [B, L, D]; features [B, C, S, S]; alpha [1].
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# Default widths, chosen by measuring exports on onnxruntime-web's WASM EP (1 thread, this
# 2-core CPU; training/cost.py for GMAC): the first base model (feature_ch 128, widths
# 128/64/32, two convs at 128^2, encoder width 1.0: 1.02 GMAC) took 38 + 87 ms per face;
# the second (top_convs 1, warps before the convs) 0.073 + 0.152 GMAC and ~13 + 24 ms. Per-op
# overheads dominate on WASM, so the cuts are where they pay: widths 64/32/16, a half-width
# encoder, no layer at 128^2 but a sub-pixel ToRGB (top_convs 0: the up-conv at 128^2 and its
# Resize were a quarter of the generator's time), and warps behind each resolution's convs
# (warp_after_convs: GridSample then moves 32 + 19 channels instead of 64 + 35).
DEFAULT_CONFIG = {
    "size": 128,              # output / crop resolution
    "style_dim": 256,         # D
    "feature_res": 32,        # S: spatial entry point of the generator
    "feature_ch": 64,         # C
    "channels": {32: 64, 64: 32, 128: 16},   # generator width per resolution
    "warp_res": [32, 64],     # spatial-transformer slots
    "tps_grid": 7,            # K x K TPS control points per slot
    "enc_width": 0.5,         # MobileNetV2 width multiplier of the encoder
    "disc_ch": 32,            # patch discriminator base width
    "top_convs": 1,           # convs at the output resolution (1 = up-conv only, 0 = sub-pixel ToRGB)
    "warp_after_convs": True,  # warp each slot's resolution after its convs (False: before)
    "alignment": "face-core-v1",  # the crop framing the model is trained on (contract crop.alignment)
    "detail_ch": 16,          # channels of the 64^2 detail path (0 = none); see Encoder / Generator
}

# The detail path (detail_ch > 0): the encoder's 32^2 features reach the generator's 64^2
# stage only through a 2x bilinear up-conv, so what the crop shows at 64^2 and finer (eyelids,
# iris rims, glasses frames) has to be re-invented, and comes back soft. With it, a 1x1 lateral
# of the encoder's 64^2 maps is packed space-to-depth into 4 * detail_ch extra feature
# channels (same tensor, same names: the contract changes only in the channel count) and the
# generator unpacks them (DepthToSpace) into its 64^2 stage behind a zero-initialised 1x1,
# a U-Net skip that starts as a no-op. Unpacked, they are moved by the 32^2 slot's field
# (upsampled), so packs' deformations move them with the features.

# The fourth base model goes back to a resize + conv at 128^2 (top_convs 1): the sub-pixel
# ToRGB's period-2 pattern showed once packs fine-tuned it (a checkerboard at display size),
# and resize + conv cannot make one. It renders the face-core-v1 crop (contract v2).
# The fifth adds the detail path and warp-augmented steps (contract v3): packs' warps moved
# the fourth's features and its decoder rendered the resampled features as a blur.

# Keys added after checkpoints were first saved, with the value those checkpoints used.
LEGACY_CONFIG = {"top_convs": 2, "warp_after_convs": False, "alignment": "ffhq-v1", "detail_ch": 0}

# Contract version by crop alignment: v2 changed the crop framing (docs/model-contract.md).
CONTRACT_VERSION = {"ffhq-v1": 1, "face-core-v1": 2}
# With the detail path's extra feature channels (v3 at 128^2), by crop size: v4 renders the same
# face-core-v1 framing at 144^2 (a 40 %-height oval gets >= 0.6 crop px per displayed px).
DETAIL_CONTRACT_VERSION = {128: 3, 144: 4}


def contract_version(cfg):
    if cfg.get("detail_ch", 0):
        return DETAIL_CONTRACT_VERSION[cfg["size"]]
    return CONTRACT_VERSION[cfg["alignment"]]


def config_from_checkpoint(saved):
    """The config of a saved checkpoint (always stored in full), old ones included."""
    return make_config(**{**LEGACY_CONFIG, **saved})


def make_config(**overrides):
    cfg = {k: (dict(v) if isinstance(v, dict) else (list(v) if isinstance(v, list) else v))
           for k, v in DEFAULT_CONFIG.items()}
    cfg.update(overrides)
    # JSON round-trips turn int keys into strings; normalise.
    cfg["channels"] = {int(k): int(v) for k, v in cfg["channels"].items()}
    cfg["warp_res"] = [int(r) for r in cfg["warp_res"]]
    return cfg


def identity_grid(size):
    """[1, size, size, 2] sampling grid (x, y) that reproduces the input with
    grid_sample(align_corners=False): pixel centres at (2i + 1) / size - 1."""
    t = (torch.arange(size, dtype=torch.float64) * 2 + 1) / size - 1
    y, x = torch.meshgrid(t, t, indexing="ij")
    return torch.stack([x, y], dim=-1).unsqueeze(0).float()


# ----------------------------------------------------------------------------------------
# StyleGAN2 building blocks (equalized learning rate as in Karras et al. 2019/2020)


class EqualLinear(nn.Module):
    """Linear layer whose weight is scaled at run time by 1/sqrt(fan_in) * lr_mul."""

    def __init__(self, in_dim, out_dim, bias=True, bias_init=0.0, lr_mul=1.0, activation=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x):
        bias = self.bias * self.lr_mul if self.bias is not None else None
        out = F.linear(x, self.weight * self.scale, bias)
        if self.activation:
            out = F.leaky_relu(out, 0.2) * math.sqrt(2)
        return out


class FusedLeakyReLU(nn.Module):
    """Bias + leaky ReLU(0.2) * sqrt(2), the StyleGAN2 activation (gain keeps variance)."""

    def __init__(self, channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return F.leaky_relu(x + self.bias.view(1, -1, 1, 1), 0.2) * math.sqrt(2)


def space_to_depth2(x):
    """[B, C, 2H, 2W] -> [B, 4C, H, W], the inverse of F.pixel_shuffle(., 2) (CRD order).
    Reshape + Transpose, which every execution provider runs (SpaceToDepth is not on all)."""
    B, C, H, W = x.shape
    x = x.reshape(B, C, H // 2, 2, W // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(B, C * 4, H // 2, W // 2)


def warp_like(image, flow):
    """An image resampled by a generator's flow output ([B, 2, S, S], (x, y) normalised): where
    the warps moved the content, so the crop a warped output must match."""
    return F.grid_sample(image, flow.permute(0, 2, 3, 1), mode="bilinear", padding_mode="border", align_corners=False)


def upsample2x(x):
    # bilinear, half-pixel: exports as ONNX Resize(linear), supported by WebGPU
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class ModulatedConv2d(nn.Module):
    """Modulated convolution (StyleGAN2, Fig. 2c) in the non-fused form:
        y = demod * conv(x * s, W),  demod_o = 1 / sqrt(sum_{i,k} (W_oik s_i)^2 + eps)
    which equals convolving with the per-sample weight W_oik * s_i * demod_o but needs
    only one fixed-weight convolution (friendlier for export and faster).
    upsample=True: bilinear 2x, then the conv. StyleGAN2's transposed conv + blur was
    measured slower to train on CPU (PyTorch's slow_conv_transpose2d path) and needs an
    extra blur pass; resize + conv is one Resize + one Conv in ONNX, no checkerboards."""

    def __init__(self, in_ch, out_ch, kernel_size, style_dim, demodulate=True, upsample=False):
        super().__init__()
        self.in_ch, self.out_ch, self.kernel_size = in_ch, out_ch, kernel_size
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_ch * kernel_size ** 2)
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)  # s starts at 1
        self.demodulate = demodulate
        self.upsample = upsample

    def forward(self, x, style):
        s = self.modulation(style)                              # [B, Cin]
        weight = self.weight * self.scale
        x = x * s[:, :, None, None]
        if self.upsample:  # (scaling by s commutes with the resize)
            x = upsample2x(x)
        x = F.conv2d(x, weight, padding=self.kernel_size // 2)
        if self.demodulate:
            wsq = weight.pow(2).sum(dim=[2, 3])                 # [Cout, Cin], constant at export
            demod = torch.rsqrt(s.pow(2) @ wsq.t() + 1e-8)      # [B, Cout]
            x = x * demod[:, :, None, None]
        return x


class StyledConv(nn.Module):
    """ModulatedConv2d + activation. No noise input: it would flicker frame to frame."""

    def __init__(self, in_ch, out_ch, kernel_size, style_dim, upsample=False):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, kernel_size, style_dim, upsample=upsample)
        self.activate = FusedLeakyReLU(out_ch)

    def forward(self, x, style):
        return self.activate(self.conv(x, style))


class ToRGB(nn.Module):
    """1x1 modulated conv (no demodulation) to RGB, added to the upsampled skip image.
    subpixel=True: a 3x3 conv to 4 RGB sub-pixels per pixel, rearranged to twice the
    resolution (ESPCN's sub-pixel convolution, ONNX DepthToSpace): the output resolution's
    detail without any layer running at that resolution."""

    def __init__(self, in_ch, style_dim, subpixel=False):
        super().__init__()
        self.subpixel = subpixel
        self.conv = ModulatedConv2d(in_ch, 12 if subpixel else 3, 3 if subpixel else 1, style_dim,
                                    demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style)
        if self.subpixel:
            out = F.pixel_shuffle(out, 2)
        out = out + self.bias
        if skip is not None:
            out = out + skip
        return out


# ----------------------------------------------------------------------------------------
# Spatial transformers. Each returns a displacement field [1, H, W, 2] in normalised
# (x, y) coordinates; the sampling grid is identity + alpha * displacement, so alpha = 0
# means exactly no deformation and the field grows linearly with alpha.


class AffineWarp(nn.Module):
    """Rotation + anisotropic scale + translation about the crop centre; zero params =
    identity. Displacement d(p) = (R(theta) diag(exp(log_scale)) - I) p + translation."""

    def __init__(self, size):
        super().__init__()
        self.size = size
        self.theta = nn.Parameter(torch.zeros(1))        # radians
        self.log_scale = nn.Parameter(torch.zeros(2))    # (x, y)
        self.translation = nn.Parameter(torch.zeros(2))  # normalised units
        self.register_buffer("base", identity_grid(size), persistent=False)

    def matrix(self):
        c, s = torch.cos(self.theta), torch.sin(self.theta)
        sx, sy = torch.exp(self.log_scale).unbind(0)
        row0 = torch.cat([c * sx, -s * sy])
        row1 = torch.cat([s * sx, c * sy])
        return torch.stack([row0, row1])                 # [2, 2]

    def displacement(self):
        a = self.matrix() - torch.eye(2, device=self.theta.device)
        return self.base @ a.t() + self.translation      # [1, H, W, 2]


class TpsWarp(nn.Module):
    """Thin-plate spline warp: K x K control points on a regular grid over [-1, 1]^2, each
    with a learnable (dx, dy) offset, zero = identity. The spline that interpolates the
    offsets is linear in them, and the control points are fixed, so the field is
    basis @ offsets with a constant basis [H*W, K*K] precomputed here (no matrix solve in
    the exported graph)."""

    def __init__(self, size, grid=7):
        super().__init__()
        self.size, self.grid = size, grid
        self.offsets = nn.Parameter(torch.zeros(grid * grid, 2))
        self.register_buffer("basis", self._basis(size, grid), persistent=False)

    @staticmethod
    def _basis(size, k):
        t = torch.linspace(-1, 1, k, dtype=torch.float64)
        cy, cx = torch.meshgrid(t, t, indexing="ij")
        ctrl = torch.stack([cx.flatten(), cy.flatten()], dim=1)          # [n, 2]
        n = ctrl.shape[0]

        def U(a, b):  # radial basis r^2 log r^2 of the TPS
            r2 = torch.cdist(a, b).pow(2)
            return torch.where(r2 > 0, r2 * torch.log(r2.clamp_min(1e-12)), torch.zeros_like(r2))

        P = torch.cat([torch.ones(n, 1, dtype=torch.float64), ctrl], dim=1)  # [n, 3]
        L = torch.zeros(n + 3, n + 3, dtype=torch.float64)
        L[:n, :n] = U(ctrl, ctrl)
        L[:n, n:] = P
        L[n:, :n] = P.t()
        Linv = torch.linalg.inv(L)[:, :n]                                  # [n+3, n]
        pts = identity_grid(size).double().view(-1, 2)                     # [H*W, 2]
        Q = torch.cat([U(pts, ctrl), torch.ones(len(pts), 1, dtype=torch.float64), pts], dim=1)
        return (Q @ Linv).float()                                          # [H*W, n]

    def displacement(self):
        return (self.basis @ self.offsets).view(1, self.size, self.size, 2)


class SpatialTransformer(nn.Module):
    """One warp slot of the generator at one resolution: global AffineWarp + local TpsWarp
    (sum of displacements). warp(x, alpha) resamples a feature map."""

    def __init__(self, size, tps_grid=7):
        super().__init__()
        self.size = size
        self.affine = AffineWarp(size)
        self.tps = TpsWarp(size, tps_grid)
        self.register_buffer("base", identity_grid(size), persistent=False)
        self.frozen = None

    def freeze(self):
        """For export: keep the current field as a constant (the exported graph is then
        constant * alpha). Training code never calls this."""
        with torch.no_grad():
            self.frozen = self.affine.displacement() + self.tps.displacement()

    def displacement(self, alpha):
        """alpha [1] -> [1, H, W, 2], zero when alpha = 0 or at init."""
        unit = self.frozen if self.frozen is not None else self.affine.displacement() + self.tps.displacement()
        return unit * alpha.view(1, 1, 1, 1)

    def warp(self, x, disp):
        """Resamples x [B, C, H, W] by the field; at a multiple of the slot's size (the detail
        path's 2x map) with the field upsampled bilinearly."""
        size = int(x.shape[-1])   # static in the ONNX trace
        if size != self.size:
            # a static scale factor: with `size=` the ONNX trace computes the output shape
            # (ScatterND, ConstantOfShape: not on the WebGPU EP's op list)
            disp = F.interpolate(disp.permute(0, 3, 1, 2), scale_factor=size // self.size, mode="bilinear",
                                 align_corners=False).permute(0, 2, 3, 1)
            grid = identity_grid(size) + disp
        else:
            grid = self.base + disp
        if x.shape[0] != 1:   # (the exported graph is batch 1: no Expand there)
            grid = grid.expand(x.shape[0], size, size, 2)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


# ----------------------------------------------------------------------------------------
# Generator


class Generator(nn.Module):
    """STN-StyleGAN synthesis network from a spatial entry point (StyleGANEX / Feature-Style
    encoder idea): encoder features [B, C, S, S] bring structure and identity, w_plus
    [B, L, D] brings style. Skip-to-RGB architecture, two convs per resolution; the first
    one upsamples (bilinear 2x + conv), the second already narrows to the next
    resolution's width so the upsampled tensor and the high-resolution conv stay cheap:
        res r:  conv(ch[prev] -> ch[r]),  conv(ch[r] -> ch[next]),  ToRGB(ch[next])
    Spatial transformers (generator.warps, one per resolution in cfg["warp_res"]) warp the
    feature map: at S the encoder features on entry, at higher resolutions the output of
    the upsampling conv together with the upsampled skip image (so both stay aligned);
    with cfg["warp_after_convs"], the maps leaving those resolutions' convs instead.

    Latent indices follow rosinality: at each resolution the first conv, the second conv,
    then ToRGB shares its index with the next resolution's first conv. For 32 -> 128:
        0 conv 32, 1 conv 32, 2 rgb 32 / up-conv 64, 3 conv 64, 4 rgb 64 / up-conv 128,
        5 conv 128, 6 rgb 128      (L = 7)
    With cfg["top_convs"] = 1 the output resolution has only its up-conv (which then
    narrows to ch[size]): ..., 4 rgb 64 / up-conv 128, 5 rgb 128 (L = 6). With 0 it has no
    conv at all: a sub-pixel ToRGB renders it from the 64^2 features, ..., 4 rgb 64,
    5 rgb 128 (L = 6, and only latent 5 is "fine").
    `layer_res[i]` gives the resolution of latent i (a shared index counts as the higher
    one); coarse/medium/fine split for mixing.
    """

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, S = cfg["style_dim"], cfg["feature_res"]
        ch = cfg["channels"]
        self.resolutions = [S * 2 ** i for i in range(int(math.log2(cfg["size"] // S)) + 1)]
        top = self.resolutions[-1]
        # convs per resolution: two, except cfg["top_convs"] at the output resolution (a 3x3
        # conv at 128^2 is the costliest layer on the WASM EP)
        self.n_convs = [cfg.get("top_convs", 2) if res == top else 2 for res in self.resolutions]
        self.convs = nn.ModuleList()      # all StyledConvs in order, n_convs[i] per resolution
        self.to_rgbs = nn.ModuleList()
        self.conv_latents, self.rgb_latents = [], []   # latent index of each conv / ToRGB
        self.layer_res = []
        in_ch = cfg["feature_ch"]
        for i, res in enumerate(self.resolutions):
            next_ch = ch[self.resolutions[min(i + 1, len(self.resolutions) - 1)]]
            widths = [[], [next_ch], [ch[res], next_ch]][self.n_convs[i]]
            for j, out_ch in enumerate(widths):
                self.convs.append(StyledConv(in_ch, out_ch, 3, D, upsample=i > 0 and j == 0))
                if i > 0 and j == 0:   # the up-conv shares its latent with the previous ToRGB
                    self.conv_latents.append(self.rgb_latents[-1])
                    self.layer_res[-1] = res
                else:
                    self.conv_latents.append(len(self.layer_res))
                    self.layer_res.append(res)
                in_ch = out_ch
            # no conv at this resolution (top_convs 0): the ToRGB of the one below renders it
            self.to_rgbs.append(ToRGB(in_ch, D, subpixel=self.n_convs[i] == 0))
            self.rgb_latents.append(len(self.layer_res))
            self.layer_res.append(res)
        self.n_latent = len(self.layer_res)
        self.coarse = [i for i, r in enumerate(self.layer_res) if r <= S]
        self.fine = [i for i, r in enumerate(self.layer_res) if r >= cfg["size"]]
        self.medium = [i for i in range(self.n_latent) if i not in self.coarse + self.fine]

        self.warps = nn.ModuleList([SpatialTransformer(r, cfg["tps_grid"]) for r in cfg["warp_res"]])
        self.warp_index = {r: i for i, r in enumerate(cfg["warp_res"])}
        self.detail_ch = cfg.get("detail_ch", 0)
        if self.detail_ch:   # unpacks the encoder's detail channels into the 2S stage; a no-op at init
            self.from_detail = nn.Conv2d(self.detail_ch, ch[2 * S], 1)
            nn.init.zeros_(self.from_detail.weight)
            nn.init.zeros_(self.from_detail.bias)

        self.register_buffer("base_out", identity_grid(cfg["size"]), persistent=False)

    def warp_parameters(self):
        return [p for w in self.warps for p in w.parameters()]

    def forward(self, w_plus, features, alpha):
        B = w_plus.shape[0]
        disps = [w.displacement(alpha) for w in self.warps]
        C, S = self.cfg["feature_ch"], self.cfg["feature_res"]
        x, skip, detail = features[:, :C], None, features[:, C:] if self.detail_ch else None
        k = 0   # index into self.convs
        late_warps = self.cfg.get("warp_after_convs", False)
        for i, res in enumerate(self.resolutions):
            # above the entry, the first conv (if any) is the up-conv: it runs before the early warp
            up_convs = 1 if i > 0 and self.n_convs[i] > 0 else 0
            if up_convs:
                x = self.convs[k](x, w_plus[:, self.conv_latents[k]])
                k += 1
            if i == 1 and detail is not None:
                detail = F.pixel_shuffle(detail, 2)
                if S in self.warp_index:   # moved as the entry features were (unpacked: packed, the 2x2 sub-pixels would mix)
                    detail = self.warps[self.warp_index[S]].warp(detail, disps[self.warp_index[S]])
                x = x + self.from_detail(detail)
            if i > 0:
                skip = upsample2x(skip)
            if res in self.warp_index and not late_warps:
                x, skip = self._warp(res, disps, x, skip)
            for _ in range(self.n_convs[i] - up_convs):
                x = self.convs[k](x, w_plus[:, self.conv_latents[k]])
                k += 1
            if res in self.warp_index and late_warps:
                x, skip = self._warp(res, disps, x, skip)
            skip = self.to_rgbs[i](x, w_plus[:, self.rgb_latents[i]], skip)
        flow = self.compose_flow(disps)
        if B != 1:
            flow = flow.expand(B, 2, self.cfg["size"], self.cfg["size"])
        return skip, flow

    def _warp(self, res, disps, x, skip):
        slot = self.warp_index[res]
        if skip is None:
            return self.warps[slot].warp(x, disps[slot]), None
        # warp the skip image with the features so both stay aligned
        xs = self.warps[slot].warp(torch.cat([x, skip], dim=1), disps[slot])
        return xs[:, :-3], xs[:, -3:]

    def compose_flow(self, disps):
        """[1, 2, size, size] sampling field (x, y) of the composed warps at output res."""
        if not disps:
            return self.base_out.permute(0, 3, 1, 2)
        total, total_res = None, None
        for warp, disp in reversed(list(zip(self.warps, disps))):
            if total is None:
                total, total_res = disp, warp.size
                continue
            # where the finer grid points land, read the coarser displacement
            grid = self.warps[self.warp_index[total_res]].base + total
            coarse = F.grid_sample(disp.permute(0, 3, 1, 2), grid, mode="bilinear",
                                   padding_mode="border", align_corners=False)
            total = total + coarse.permute(0, 2, 3, 1)
        total = total.permute(0, 3, 1, 2)                                  # [1, 2, h, w]
        if total_res != self.cfg["size"]:
            total = F.interpolate(total, scale_factor=self.cfg["size"] // total_res, mode="bilinear",
                                  align_corners=False)
        return self.base_out.permute(0, 3, 1, 2) + total


# ----------------------------------------------------------------------------------------
# Encoder: MobileNetV2-class (Sandler et al. 2018) inverted residuals, 128^2 crop -> W+ and
# spatial features. BatchNorm folds into the convs at inference (ORT does it on load).


def _make_divisible(v, divisor=8):
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


class ConvBNAct(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1, groups=1, act=True):
        layers = [nn.Conv2d(in_ch, out_ch, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(out_ch)]
        if act:
            layers.append(nn.ReLU6(inplace=True))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    """1x1 expand -> 3x3 depthwise (stride) -> 1x1 linear projection, residual if shapes match."""

    def __init__(self, in_ch, out_ch, stride, expand):
        super().__init__()
        hidden = in_ch * expand
        layers = [] if expand == 1 else [ConvBNAct(in_ch, hidden, 1)]
        layers += [ConvBNAct(hidden, hidden, 3, stride, groups=hidden), ConvBNAct(hidden, out_ch, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.use_residual = stride == 1 and in_ch == out_ch

    def forward(self, x):
        return x + self.block(x) if self.use_residual else self.block(x)


class DepthwiseSeparable(nn.Module):
    """Residual 3x3 depthwise + 1x1 pointwise block used to smooth the merged feature map."""

    def __init__(self, ch):
        super().__init__()
        self.block = nn.Sequential(ConvBNAct(ch, ch, 3, groups=ch), ConvBNAct(ch, ch, 1, act=False))

    def forward(self, x):
        return F.relu6(x + self.block(x))


class Encoder(nn.Module):
    """Aligned crop [B, 3, 128, 128] -> (w_plus [B, L, D], features [B, C, S, S]).

    Features: FPN-style sum of 1x1 laterals from the 64, 32, 16 and 8 px stages, resampled
    to S, then two depthwise-separable blocks and a linear 1x1 (no activation, so the
    features can take any sign/scale the generator wants).
    W+: as in e4e (Tov et al. 2021), a base code w0 plus per-layer offsets delta_i, from
    globally pooled multi-level features; the offset head starts at zero so training
    begins from a single w (and losses.w_delta_regularizer keeps offsets small).
    """

    # (expansion t, channels c, repeats n, stride s) per stage, MobileNetV2 table, 128 input
    STAGES = [(1, 16, 1, 1),   # 64
              (4, 24, 2, 2),   # 32
              (4, 32, 3, 1),   # 32  -> tap
              (4, 64, 3, 2),   # 16
              (4, 96, 3, 1),   # 16  -> tap
              (4, 160, 3, 2),  # 8
              (4, 320, 1, 1)]  # 8   -> tap
    TAPS = (0, 2, 4, 6)

    def __init__(self, cfg, n_latent):
        super().__init__()
        wm = cfg["enc_width"]
        D, C, S = cfg["style_dim"], cfg["feature_ch"], cfg["feature_res"]
        self.n_latent, self.style_dim, self.feature_res = n_latent, D, S
        stem_ch = _make_divisible(32 * wm)
        self.stem = ConvBNAct(3, stem_ch, 3, 2)
        self.stages = nn.ModuleList()
        in_ch, tap_ch, res = stem_ch, [], cfg["size"] // 2
        self.tap_res = []       # python ints, so the ONNX trace has static resampling factors
        for i, (t, c, n, s) in enumerate(self.STAGES):
            out_ch = _make_divisible(c * wm)
            blocks = [InvertedResidual(in_ch if j == 0 else out_ch, out_ch, s if j == 0 else 1, t) for j in range(n)]
            self.stages.append(nn.Sequential(*blocks))
            in_ch, res = out_ch, res // s
            if i in self.TAPS:
                tap_ch.append(out_ch)
                self.tap_res.append(res)
        self.laterals = nn.ModuleList([nn.Conv2d(c, C, 1) for c in tap_ch])
        self.smooth = nn.Sequential(DepthwiseSeparable(C), DepthwiseSeparable(C))
        self.to_features = nn.Conv2d(C, C, 1)
        self.detail_ch = cfg.get("detail_ch", 0)
        if self.detail_ch:   # the 64^2 detail path: stem + first stage (both 64^2) -> detail_ch
            self.to_detail = nn.Conv2d(stem_ch + tap_ch[0], self.detail_ch, 1)

        head_ch = _make_divisible(512 * wm)
        self.head = ConvBNAct(tap_ch[-1], head_ch, 1)
        pooled = head_ch + tap_ch[-2] + C
        self.style_hidden = EqualLinear(pooled, 512, activation=True)
        self.to_w0 = EqualLinear(512, D)
        self.to_deltas = EqualLinear(512, n_latent * D)
        nn.init.zeros_(self.to_deltas.weight)

    def forward(self, image):
        x = stem = self.stem(image)
        taps = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.TAPS:
                taps.append(x)
        S = self.feature_res
        merged = 0
        for lat, t, res in zip(self.laterals, taps, self.tap_res):
            # a 1x1 conv commutes with both resamplings: run it at the lower resolution
            if res > S:      # 64 -> 32: average pool (exact 2x2 mean), on the narrower tap
                y = lat(F.avg_pool2d(t, res // S))
            elif res < S:    # 16, 8 -> 32: bilinear
                y = F.interpolate(lat(t), scale_factor=S // res, mode="bilinear", align_corners=False)
            else:
                y = lat(t)
            merged = merged + y
        features = self.to_features(self.smooth(merged))

        h = torch.cat([self.head(taps[-1]).mean(dim=[2, 3]), taps[-2].mean(dim=[2, 3]),
                       features.mean(dim=[2, 3])], dim=1)
        h = self.style_hidden(h)
        w0 = self.to_w0(h)
        deltas = self.to_deltas(h).view(-1, self.n_latent, self.style_dim)
        w_plus = w0.unsqueeze(1) + deltas
        if self.detail_ch:
            detail = self.to_detail(torch.cat([stem, taps[0]], dim=1))
            features = torch.cat([features, space_to_depth2(detail)], dim=1)
        return w_plus, features


# ----------------------------------------------------------------------------------------
# Discriminator for the optional adversarial term: a small PatchGAN (Isola et al. 2017)
# giving a logit per 16x16 patch region; no normalisation layers (R1 keeps it stable).


class PatchDiscriminator(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch = cfg["disc_ch"]
        layers, in_ch = [nn.Conv2d(3, ch, 3, 1, 1), nn.LeakyReLU(0.2)], ch
        for mult in (1, 2, 4):  # 128 -> 64 -> 32 -> 16
            out_ch = ch * mult * 2
            layers += [nn.Conv2d(in_ch, out_ch, 4, 2, 1), nn.LeakyReLU(0.2),
                       nn.Conv2d(out_ch, out_ch, 3, 1, 1), nn.LeakyReLU(0.2)]
            in_ch = out_ch
        layers.append(nn.Conv2d(in_ch, 1, 3, 1, 1))
        self.net = nn.Sequential(*layers)
        # He init for leaky ReLU(0.2), zero biases: with PyTorch's default init the signal shrank
        # ~3x per layer and the logits started at ~0.002, so D sat at chance (d_loss = ln 4) for
        # ~100 steps while Adam grew every layer at once, then jumped to logits in the hundreds
        # and wrecked the generator (twice, in the fourth base model's run). Now ~0.5 at init.
        for m in self.net:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.2)
                nn.init.zeros_(m.bias)

    def forward(self, image):
        return self.net(image)   # [B, 1, 16, 16] logits


def build(cfg):
    """(encoder, generator) for a config dict (see DEFAULT_CONFIG)."""
    generator = Generator(cfg)
    encoder = Encoder(cfg, generator.n_latent)
    return encoder, generator
