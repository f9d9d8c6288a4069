"""Generator warps, flow and shapes (docs/model-contract.md)."""

import pytest
import torch
import torch.nn.functional as F

import export
import networks as N
from conftest import randomize_warps


def inputs(cfg, generator, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(batch, generator.n_latent, cfg["style_dim"], generator=g)
    f = torch.randn(batch, cfg["feature_ch"], cfg["feature_res"], cfg["feature_res"], generator=g)
    return w, f


def no_warp_output(generator, w, f, monkeypatch):
    """Generator output with every warp replaced by the identity function."""
    with monkeypatch.context() as m:
        m.setattr(N.SpatialTransformer, "warp", lambda self, x, disp: x)
        return generator(w, f, torch.ones(1))[0]


def identity_flow(cfg, batch):
    return N.identity_grid(cfg["size"]).permute(0, 3, 1, 2).expand(batch, -1, -1, -1)


@torch.no_grad()
def test_identity_at_init(tiny_cfg, monkeypatch):
    _, G = N.build(tiny_cfg)
    w, f = inputs(tiny_cfg, G)
    image, flow = G(w, f, torch.ones(1))
    torch.testing.assert_close(image, no_warp_output(G, w, f, monkeypatch), atol=1e-5, rtol=0)
    assert torch.equal(flow, identity_flow(tiny_cfg, 2))


@torch.no_grad()
def test_alpha_zero_is_identity(tiny_cfg, monkeypatch):
    _, G = N.build(tiny_cfg)
    randomize_warps(G)
    w, f = inputs(tiny_cfg, G)
    image, flow = G(w, f, torch.zeros(1))
    torch.testing.assert_close(image, no_warp_output(G, w, f, monkeypatch), atol=1e-5, rtol=0)
    assert torch.equal(flow, identity_flow(tiny_cfg, 2))
    # and the warps do change the picture when alpha = 1
    assert (G(w, f, torch.ones(1))[0] - image).abs().max() > 1e-3


def test_flow_layout_is_x_then_y(tiny_cfg):
    flow = identity_flow(tiny_cfg, 1)
    assert flow[0, 0, 5, 0] < flow[0, 0, 5, 1]      # x grows along width
    assert flow[0, 1, 0, 5] < flow[0, 1, 1, 5]      # y grows along height
    assert flow.abs().max() < 1                      # pixel centres, align_corners=False


@torch.no_grad()
def test_alpha_scales_displacement_monotonically(tiny_cfg):
    _, G = N.build(tiny_cfg)
    randomize_warps(G)
    w, f = inputs(tiny_cfg, G, batch=1)
    ident = identity_flow(tiny_cfg, 1)
    mags = [(G(w, f, torch.tensor([a]))[1] - ident).abs().mean().item() for a in (0, 0.25, 0.5, 1.0, 1.5)]
    assert mags[0] == 0
    assert all(b > a for a, b in zip(mags, mags[1:])), mags
    for warp in G.warps:  # each slot's field is exactly linear in alpha
        torch.testing.assert_close(warp.displacement(torch.tensor([1.5])),
                                   1.5 * warp.displacement(torch.tensor([1.0])))


@torch.no_grad()
def test_flow_composes_translations(tiny_cfg):
    """Translations t1 (32 slot) and t2 (64 slot): output samples the input at p + t1 + t2."""
    _, G = N.build(tiny_cfg)
    G.warps[0].affine.translation.copy_(torch.tensor([0.1, 0.0]))
    G.warps[1].affine.translation.copy_(torch.tensor([0.0, -0.05]))
    w, f = inputs(tiny_cfg, G, batch=1)
    flow = G(w, f, torch.ones(1))[1]
    expected = identity_flow(tiny_cfg, 1) + torch.tensor([0.1, -0.05]).view(1, 2, 1, 1)
    torch.testing.assert_close(flow, expected, atol=1e-5, rtol=0)


@torch.no_grad()
def test_flow_describes_the_warp(tiny_cfg):
    """Sampling a smooth image through `flow` matches warping it through both slots."""
    _, G = N.build(tiny_cfg)
    randomize_warps(G, scale=0.03)
    alpha = torch.tensor([1.2])
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 32), torch.linspace(-1, 1, 32), indexing="ij")
    img = torch.stack([torch.sin(2 * xx), torch.cos(3 * yy), xx * yy])[None]     # smooth [1,3,32,32]
    d32, d64 = (wp.displacement(alpha) for wp in G.warps)
    step1 = G.warps[0].warp(img, d32)
    step2 = G.warps[1].warp(F.interpolate(step1, scale_factor=2, mode="bilinear", align_corners=False), d64)
    flow = G.compose_flow([d32, d64])                                            # [1, 2, 128, 128]
    direct = F.grid_sample(img, flow.permute(0, 2, 3, 1), mode="bilinear", padding_mode="border",
                           align_corners=False)
    via = F.interpolate(step2, scale_factor=2, mode="bilinear", align_corners=False)
    assert (direct - via)[..., 8:-8, 8:-8].abs().max() < 0.05


def test_tps_reproduces_constant_offsets():
    """A TPS through equal offsets is that translation everywhere (affine reproduction)."""
    tps = N.TpsWarp(32, grid=5)
    with torch.no_grad():
        tps.offsets.copy_(torch.tensor([0.1, -0.05]).expand(25, 2))
    torch.testing.assert_close(tps.displacement(), torch.tensor([0.1, -0.05]).expand(1, 32, 32, 2),
                               atol=1e-5, rtol=0)


def test_gradient_reaches_warp_params(tiny_cfg):
    _, G = N.build(tiny_cfg)
    w, f = inputs(tiny_cfg, G)
    image, flow = G(w, f, torch.ones(1))
    (image.square().mean() + flow.square().mean()).backward()
    for k, warp in enumerate(G.warps):
        for name, p in warp.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, f"warps[{k}].{name}"


def test_shapes_match_contract():
    cfg = N.make_config()
    E, G = N.build(cfg)
    E.eval(), G.eval()
    c = export.contract(cfg, G.n_latent)
    with torch.no_grad():
        w, f = E(torch.zeros(c["encoder"]["inputs"]["image"]["shape"]))
        image, flow = G(w, f, torch.ones(c["generator"]["inputs"]["alpha"]["shape"]))
    assert list(w.shape) == c["encoder"]["outputs"]["w_plus"]["shape"] == c["generator"]["inputs"]["w_plus"]["shape"]
    assert list(f.shape) == c["encoder"]["outputs"]["features"]["shape"] == c["generator"]["inputs"]["features"]["shape"]
    assert list(image.shape) == c["generator"]["outputs"]["image"]["shape"] == [1, 3, 128, 128]
    assert list(flow.shape) == c["generator"]["outputs"]["flow"]["shape"] == [1, 2, 128, 128]
    assert c["crop"]["size"] == 128 and c["alpha"] == {"min": 0, "max": 1.5, "default": 1}


@pytest.mark.parametrize("top_convs, layer_res", [(2, [32, 32, 64, 64, 128, 128, 128]),
                                                  (1, [32, 32, 64, 64, 128, 128]),
                                                  (0, [32, 32, 64, 64, 64, 128])])
def test_layer_indices(top_convs, layer_res):
    _, G = N.build(N.make_config(top_convs=top_convs))
    assert G.n_latent == len(G.layer_res) and G.layer_res == layer_res
    assert sorted(G.coarse + G.medium + G.fine) == list(range(G.n_latent))
    assert G.fine == [i for i, r in enumerate(layer_res) if r == 128]
    # every latent feeds some layer; the up-conv of a resolution shares the previous ToRGB's
    assert sorted(set(G.conv_latents + G.rgb_latents)) == list(range(G.n_latent))
    assert len(G.convs) == 2 * len(G.resolutions) - (2 - top_convs)
    assert [w.size for w in G.warps] == [32, 64]


@torch.no_grad()
def test_subpixel_top_renders_from_the_resolution_below(tiny_cfg, monkeypatch):
    """top_convs 0: nothing runs at 128^2 except the sub-pixel ToRGB's rearrangement; with
    its weight at zero the output is the 64^2 image upsampled, plus the ToRGB's bias."""
    cfg = N.make_config(**{**tiny_cfg, "top_convs": 0})
    _, G = N.build(cfg)
    randomize_warps(G)
    assert len(G.convs) == 4 and G.to_rgbs[-1].subpixel
    w, f = inputs(cfg, G)
    captured = []
    monkeypatch.setattr(N, "upsample2x", lambda x: captured.append(x) or F.interpolate(
        x, scale_factor=2, mode="bilinear", align_corners=False))
    G.to_rgbs[-1].conv.weight.zero_()
    G.to_rgbs[-1].bias.fill_(0.25)
    image = G(w, f, torch.ones(1))[0]
    image_64 = captured[-1]                                  # the skip image entering 128^2
    assert image_64.shape[-1] == 64
    expected = F.interpolate(image_64, scale_factor=2, mode="bilinear", align_corners=False) + 0.25
    torch.testing.assert_close(image, expected)


@pytest.mark.parametrize("late", [False, True])
@torch.no_grad()
def test_warp_placement(tiny_cfg, monkeypatch, late):
    """warp_after_convs moves each warp behind its resolution's convs, onto narrower maps;
    the identity field and alpha = 0 leave the output unwarped either way."""
    cfg = N.make_config(**{**tiny_cfg, "warp_after_convs": late})
    _, G = N.build(cfg)
    widths = []
    original = N.SpatialTransformer.warp
    monkeypatch.setattr(N.SpatialTransformer, "warp", lambda self, x, d: widths.append(x.shape[1]) or original(self, x, d))
    w, f = inputs(cfg, G)
    G(w, f, torch.ones(1))
    ch = cfg["channels"]
    assert widths == ([ch[64], ch[128] + 3] if late else [cfg["feature_ch"], ch[64] + 3])
    randomize_warps(G)
    torch.testing.assert_close(G(w, f, torch.zeros(1))[0], no_warp_output(G, w, f, monkeypatch), atol=1e-5, rtol=0)


def test_older_checkpoints_load_with_the_layout_they_were_trained_with():
    saved = {k: v for k, v in N.make_config().items() if k not in N.LEGACY_CONFIG}
    assert N.config_from_checkpoint(saved)["top_convs"] == 2
    assert N.config_from_checkpoint(saved)["warp_after_convs"] is False
    assert N.config_from_checkpoint({**saved, "top_convs": 1})["top_convs"] == 1


@pytest.mark.parametrize("batch", [1, 3])
def test_encoder_batches(tiny_cfg, batch):
    E, G = N.build(tiny_cfg)
    w, f = E(torch.zeros(batch, 3, 128, 128))
    assert w.shape == (batch, G.n_latent, tiny_cfg["style_dim"])
    assert f.shape == (batch, tiny_cfg["feature_ch"], 32, 32)


def test_patch_discriminator_starts_with_logits_of_order_one():
    # (with PyTorch's default init they were ~0.002: D sat at chance, then diverged)
    cfg = N.make_config()
    D = N.PatchDiscriminator(cfg)
    with torch.no_grad():
        logits = D(torch.rand(4, 3, 128, 128, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    assert logits.shape == (4, 1, 16, 16)
    assert 0.05 < logits.std().item() < 5


def test_space_to_depth_inverts_pixel_shuffle():
    x = torch.randn(2, 5, 8, 6)
    torch.testing.assert_close(F.pixel_shuffle(N.space_to_depth2(x), 2), x, atol=0, rtol=0)


@torch.no_grad()
def test_detail_path_starts_as_a_no_op_and_follows_the_contract(tiny_cfg):
    """detail_ch packs 4 * detail_ch channels behind the encoder's features; the generator's
    1x1 from them starts at zero, so a model initialised from one without the path renders the
    same image, and the contract (v3) states the wider features tensor."""
    cfg = N.make_config(**{**tiny_cfg, "detail_ch": 4})
    E, G = N.build(cfg)
    w, f = E(torch.rand(2, 3, 128, 128) * 2 - 1)
    assert f.shape == (2, cfg["feature_ch"] + 16, cfg["feature_res"], cfg["feature_res"])
    _, G0 = N.build(N.make_config(**tiny_cfg))
    G0.load_state_dict({k: v for k, v in G.state_dict().items() if not k.startswith("from_detail")})
    torch.testing.assert_close(G(w, f, torch.ones(1))[0], G0(w, f[:, :cfg["feature_ch"]], torch.ones(1))[0])
    c = export.contract(cfg, G.n_latent)
    assert c["contractVersion"] == N.DETAIL_CONTRACT_VERSION[128] == 3
    assert c["encoder"]["outputs"]["features"]["shape"] == [1, *f.shape[1:]] == c["generator"]["inputs"]["features"]["shape"]


def test_144_crop_runs_the_128_weights_and_is_contract_v4(tiny_cfg):
    """The nets are fully convolutional: a 144^2 config (features 36^2, warps at 36 / 72) takes a
    128^2 model's weights unchanged (the fine-tune starting point of the v4 base), renders 144^2
    with its flow, and states contract v4 with the 144^2 shapes."""
    big = {**tiny_cfg, "detail_ch": 4, "size": 144, "feature_res": 36, "warp_res": [36, 72],
           "channels": {36 * k // 32: v for k, v in tiny_cfg["channels"].items()}}
    small_e, small_g = N.build(N.make_config(**{**tiny_cfg, "detail_ch": 4}))
    cfg = N.make_config(**big)
    E, G = N.build(cfg)
    E.load_state_dict(small_e.state_dict())
    G.load_state_dict(small_g.state_dict())
    w, f = E(torch.rand(1, 3, 144, 144) * 2 - 1)
    image, flow = G(w, f, torch.ones(1))[:2]
    assert f.shape[-1] == 36 and image.shape == (1, 3, 144, 144) and flow.shape == (1, 2, 144, 144)
    c = export.contract(cfg, G.n_latent)
    assert c["contractVersion"] == 4 and c["crop"]["size"] == 144
    assert c["generator"]["outputs"]["image"]["shape"] == [1, 3, 144, 144]


def test_detail_path_is_warped_with_the_entry_features(tiny_cfg, monkeypatch):
    """At alpha = 0 the warps are the identity, with the detail channels as without them."""
    cfg = N.make_config(**{**tiny_cfg, "detail_ch": 4})
    _, G = N.build(cfg)
    torch.nn.init.normal_(G.from_detail.weight)
    randomize_warps(G)
    g = torch.Generator().manual_seed(0)
    w = torch.randn(1, G.n_latent, cfg["style_dim"], generator=g)
    f = torch.randn(1, cfg["feature_ch"] + 16, cfg["feature_res"], cfg["feature_res"], generator=g)
    torch.testing.assert_close(G(w, f, torch.zeros(1))[0], no_warp_output(G, w, f, monkeypatch), atol=1e-5, rtol=0)
    assert not torch.allclose(G(w, f, torch.ones(1))[0], G(w, f, torch.zeros(1))[0])


def test_a_slot_warps_a_map_twice_its_size_with_its_field_upsampled():
    """The detail path's 64^2 map is moved by the 32^2 slot: a shift of one 32^2 pixel moves
    it by exactly two of its own pixels."""
    slot = N.SpatialTransformer(32)
    x = torch.randn(1, 3, 64, 64)
    disp = torch.zeros(1, 32, 32, 2)
    disp[..., 0] = 2 / 32
    moved = slot.warp(x, disp)
    torch.testing.assert_close(moved[..., :62], x[..., 2:], atol=1e-5, rtol=0)
