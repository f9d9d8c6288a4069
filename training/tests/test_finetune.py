"""Style fine-tuning (training/finetune/): DoesFS losses, style mixing, the loop, pack build.
Tiny networks and a tiny guide, so the whole file runs in well under a minute on 2 cores;
tests that need ../shared/data or the aligned cache skip with a message when absent."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import guide as G
import networks as N
from conftest import randomize_warps
from finetune import loop, metrics
from finetune import losses as L
from finetune.networks import LatentPool, MixedGeneratorExport, StyleMixing

REPO = Path(__file__).resolve().parents[2]
PAIRS = REPO.parent / "shared" / "data" / "pairs"
TINY_GUIDE = {"img_size": 64, "patch": 8, "dim": 32, "depth": 1, "heads": 2, "mlp_ratio": 2}


def tiny_guide(seed=0):
    torch.manual_seed(seed)
    g = G.VitGuide(TINY_GUIDE).eval()
    for p in g.parameters():
        p.requires_grad_(False)
    return g


# --- losses ------------------------------------------------------------------------------


def test_directional_loss_zero_when_aligned_and_grad_to_target():
    torch.manual_seed(0)
    src, real, style = torch.randn(3, 16, 8), torch.randn(1, 16, 8), torch.randn(1, 16, 8)
    tgt = (src + 0.7 * (style - real)).requires_grad_(True)    # moves exactly along style - real
    loss = L.DirectionalDeformationLoss()(tgt, src, style, real)
    assert loss.item() < 1e-5
    opposite = L.DirectionalDeformationLoss()(src - (style - real), src, style, real)
    assert abs(opposite.item() - 2) < 1e-4                      # 1 - cos = 2
    L.DirectionalDeformationLoss()(tgt + torch.randn_like(tgt), src, style, real).backward()
    assert tgt.grad is not None and tgt.grad.abs().sum() > 0


def test_relative_structure_loss_zero_when_structure_kept():
    torch.manual_seed(0)
    src, ref = torch.randn(4, 16, 8), torch.randn(1, 16, 8)
    assert L.RelativeStructureLoss()(src.clone(), src, ref, ref).abs().item() < 1e-6
    tgt = (src + torch.randn_like(src)).requires_grad_(True)
    loss = L.RelativeStructureLoss()(tgt, src, ref, ref)
    assert loss.item() > 1e-4
    loss.backward()
    assert tgt.grad.abs().sum() > 0


def test_warp_smoothness_zero_at_identity_and_bends_tps_back(tiny_cfg):
    G_ = N.Generator(tiny_cfg)
    prior = L.WarpSmoothness()
    assert prior(G_).item() == 0
    randomize_warps(G_)
    loss = prior(G_)
    assert loss.item() > 0
    loss.backward()
    assert all(w.tps.offsets.grad.abs().sum() > 0 for w in G_.warps)
    # an affine warp alone is perfectly smooth (no TPS bending)
    G2 = N.Generator(tiny_cfg)
    with torch.no_grad():
        G2.warps[0].affine.log_scale.fill_(0.2)
    assert prior(G2).item() == 0


def test_pair_reconstruction_zero_for_identical_images():
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    assert L.PairReconstruction()(x, x.clone()).item() < 1e-4


def test_coarse_structure_ignores_colour_and_texture_but_not_layout():
    """Zero for the source itself (identity flow), for a recoloured copy and for added fine
    texture; large when the face's dark and light regions move."""
    g = torch.Generator().manual_seed(0)
    face = torch.nn.functional.interpolate(torch.rand(2, 3, 8, 8, generator=g) * 2 - 1, size=128, mode="bilinear")
    flow = N.identity_grid(128).permute(0, 3, 1, 2).expand(2, -1, -1, -1)
    term = L.CoarseStructure()
    assert term(face, face, flow) < 1e-5
    recoloured = face * 0.6 + torch.tensor([0.2, -0.1, 0.3]).view(1, 3, 1, 1)   # lower contrast, tinted
    assert term(recoloured, face, flow) < 1e-4
    checker = (torch.arange(128).view(1, 128) + torch.arange(128).view(128, 1)) % 2 * 0.2 - 0.1
    assert term(face + checker, face, flow) < 0.01
    assert term(face.flip(3), face, flow) > 0.3
    # the source is compared where the warps moved it: a shifted output matches a shifted flow
    shifted = torch.roll(face, 16, dims=3)
    moved_flow = flow.clone()
    moved_flow[:, 0] -= 16 / 64
    assert term(shifted, face, moved_flow) < 0.5 * term(shifted, face, flow)


def test_style_mixing_takes_fine_layers_from_style(tiny_cfg):
    G_ = N.Generator(tiny_cfg)
    w, ws = torch.randn(3, G_.n_latent, 32), torch.randn(1, G_.n_latent, 32)
    mixed = StyleMixing(G_.fine)(w, ws)
    for i in range(G_.n_latent):
        expect = ws[0, i].expand(3, -1) if i in G_.fine else w[:, i]
        assert torch.equal(mixed[:, i], expect)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_mixing_layers_option(tiny_cfg):
    _, G_ = N.build(tiny_cfg)
    assert loop.FinetuneOptions().mixing_layers(G_) == list(G_.fine)
    assert loop.FinetuneOptions(mix_layers=[4, 5]).mixing_layers(G_) == [4, 5]
    assert loop.FinetuneOptions(mix=False, mix_layers=[4, 5]).mixing_layers(G_) == []


def test_pack_generator_without_mixing_exports_as_the_plain_generator(tiny_cfg, tmp_path):
    """The no-mix ablation exports a generator with no mixed layers: StyleMixing([]) is the
    identity, and the export no longer traces an empty index (torch 1.13 died on it, SIGFPE)."""
    import onnx
    torch.manual_seed(0)
    G_ = N.Generator(tiny_cfg).eval()
    w_style = torch.randn(1, G_.n_latent, tiny_cfg["style_dim"])
    w = torch.randn(1, G_.n_latent, tiny_cfg["style_dim"])
    f = torch.randn(1, tiny_cfg["feature_ch"], tiny_cfg["feature_res"], tiny_cfg["feature_res"])
    assert torch.equal(StyleMixing([])(w, w_style), w)
    path = tmp_path / "generator.onnx"
    import export
    export.export_onnx(MixedGeneratorExport(export.frozen_warps(G_), w_style, []).eval(), (w, f, torch.ones(1)),
                       ["w_plus", "features", "alpha"], ["image", "flow"], path)
    onnx.checker.check_model(onnx.load(str(path)))


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_pack_generator_onnx_bakes_in_the_style_mixing(tiny_cfg, tmp_path):
    """The runtime feeds the encoder's W+ unchanged, so the pack's ONNX generator must do
    the style mixing itself and match G(StyleMixing(w, w_style)) of the preview, with a
    constant mask: no ScatterND (which onnxruntime-web's WebGPU EP would run on the CPU) and
    none of the shape ops an indexed write traced."""
    import onnx

    import export
    torch.manual_seed(0)
    G_ = N.Generator(tiny_cfg).eval()
    randomize_warps(G_)
    w_style = torch.randn(1, G_.n_latent, tiny_cfg["style_dim"])
    w = torch.randn(1, G_.n_latent, tiny_cfg["style_dim"])
    f = torch.randn(1, tiny_cfg["feature_ch"], tiny_cfg["feature_res"], tiny_cfg["feature_res"])
    path = tmp_path / "generator.onnx"
    export.export_onnx(MixedGeneratorExport(export.frozen_warps(G_), w_style).eval(), (w, f, torch.ones(1)),
                       ["w_plus", "features", "alpha"], ["image", "flow"], path)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert not ops & {"ScatterND", "ScatterElements", "Equal"}, ops
    if not export.ort_available():
        pytest.skip("node / onnxruntime-web not installed (npm install)")
    alpha = torch.tensor([0.7])
    outs, _ = export.run_ort(path, {"w_plus": w.numpy(), "features": f.numpy(), "alpha": alpha.numpy()}, runs=1)
    with torch.no_grad():
        mixed = G_(StyleMixing(G_.fine)(w, w_style), f, alpha)[0].clamp(-1, 1)
        unmixed = G_(w, f, alpha)[0].clamp(-1, 1)
    assert abs(outs["image"] - mixed.numpy()).max() < 1e-4
    assert abs(outs["image"] - unmixed.numpy()).max() > 1e-2   # the mixing is not a no-op here


def test_directional_loss_reaches_warps_and_weights_not_source(tiny_cfg):
    torch.manual_seed(0)
    E, G_src = N.build(tiny_cfg)
    G_t = N.Generator(tiny_cfg)
    G_t.load_state_dict(G_src.state_dict())
    for p in G_src.parameters():
        p.requires_grad_(False)
    randomize_warps(G_t)                     # away from identity: the warp gradient is non-zero
    guide = tiny_guide()
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    w, f = E(x)
    w, f = w.detach(), f.detach()
    ref_real, ref_style = guide.tokens(x[:1]), guide.tokens(x[1:].flip(3))
    tok_s = guide.tokens(G_src(w, f, torch.zeros(1))[0])
    loss = L.DirectionalDeformationLoss()(guide.tokens(G_t(w, f, torch.ones(1))[0]), tok_s, ref_style, ref_real)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G_t.warp_parameters())
    assert G_t.convs[0].conv.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in G_src.parameters())


# --- loop ----------------------------------------------------------------------------------


def _pair_and_pool(cfg, real, style, seed=0):
    torch.manual_seed(seed)
    E, G_src = N.build(cfg)
    E.eval(), G_src.eval()
    for p in list(E.parameters()) + list(G_src.parameters()):
        p.requires_grad_(False)
    faces = torch.cat([real, style, real.flip(3), style.flip(3)]) + 0.05 * torch.randn(4, 3, 128, 128)
    pool = LatentPool(E, faces.clamp(-1, 1))
    with torch.no_grad():
        w_r, f_r = E(real)
        w_s, _ = E(style)
    return E, G_src, pool, {"real": real, "style": style, "w_real": w_r, "f_real": f_r, "w_style": w_s}


def _synthetic_pair():
    """A smooth 'face' and a stylised version whose blob is bigger and brighter."""
    t = torch.linspace(-1, 1, 128)
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    real = torch.stack([torch.exp(-(xx ** 2 + yy ** 2) / 0.2) * 2 - 1, xx * 0.5, yy * 0.5])[None]
    style = torch.stack([torch.exp(-(xx ** 2 + yy ** 2) / 0.4) * 2 - 1, xx * 0.2 + 0.3, yy * 0.2])[None]
    return real, style


def test_alpha_zero_is_undeformed_after_finetuning(tiny_cfg):
    real, style = _synthetic_pair()
    _, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    opts = loop.FinetuneOptions(steps=3, batch=2, warp_lr=0.05, adv=0.05)
    G_ft, _ = loop.finetune(G_src, tiny_guide(), pool, pair, opts)
    assert any(w.tps.offsets.abs().sum() > 0 for w in G_ft.warps)     # the warps did move
    identity = N.Generator(tiny_cfg)
    identity.load_state_dict(G_ft.state_dict())
    for w in identity.warps:
        for p in w.parameters():
            torch.nn.init.zeros_(p)
    w, f = pool.sample(2, torch.Generator().manual_seed(1))
    with torch.no_grad():
        img0, flow0 = G_ft(w, f, torch.zeros(1))
        img_id, _ = identity(w, f, torch.ones(1))
        img1, _ = G_ft(w, f, torch.ones(1))
    assert torch.allclose(img0, img_id, atol=1e-5)
    assert torch.allclose(flow0, N.identity_grid(128).permute(0, 3, 1, 2).expand_as(flow0), atol=1e-6)
    assert (img1 - img0).abs().max() > 1e-4
    px = metrics.warp_magnitude(G_ft)                               # 0 at alpha 0, linear-ish in alpha
    assert px["0"] < 1e-5 and 0 < px["0.5"] < px["1"] < px["1.5"]


def _load_shared_pair(name="caricature-bigeyes"):
    if not (PAIRS / f"{name}.real.jpg").exists():
        pytest.skip(f"../shared/data/pairs absent ({PAIRS}); see ../shared/data/README.md")
    from PIL import Image
    import numpy as np

    def load(half):
        im = Image.open(PAIRS / f"{name}.{half}.jpg").convert("RGB").resize((128, 128), Image.LANCZOS)
        return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
    return load("real"), load("style")


def test_twenty_steps_reduce_directional_loss(tiny_cfg):
    real, style = _load_shared_pair()
    _, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    guide = tiny_guide()
    opts = loop.FinetuneOptions(steps=20, batch=2, lr=2e-3, warp_lr=1e-2, rsc=0, rec=0, adv=0, smooth=0.1, ema_halflife=1)
    fixed = pool.sample(4, torch.Generator().manual_seed(123))
    directional = L.DirectionalDeformationLoss()
    ref_real, ref_style = guide.tokens(real), guide.tokens(style)
    mix = StyleMixing(G_src.fine)

    def measure(G_):
        with torch.no_grad():
            tok_s = guide.tokens(G_src(*fixed, torch.zeros(1))[0])
            tok_t = guide.tokens(G_(mix(fixed[0], pair["w_style"]), fixed[1], torch.ones(1))[0])
            return directional(tok_t, tok_s, ref_style, ref_real).item()

    # before: G = G_src, but the style-mixed fine layers already change the image a little
    before = measure(G_src)
    G_ft, stats = loop.finetune(G_src, guide, pool, pair, opts)
    after = measure(G_ft)
    assert stats["steps"] == 20
    assert after < before - 0.02, (before, after)


# --- guide -----------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_guide_interface_and_torchscript(tmp_path):
    g = tiny_guide()
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    tok = g.tokens(x)
    assert tok.shape == (2, 64, 32) and g.grid == (8, 8)
    assert g.global_token(x).shape == (2, 32)
    path = tmp_path / "guide.pt"
    torch.jit.trace(lambda im: g.tokens(im), x[:1]).save(str(path))
    ts = G.load_guide(f"torchscript:{path}")
    assert torch.allclose(ts.tokens(x), tok, atol=1e-5) and ts.grid == (8, 8)
    with pytest.raises(ValueError):
        G.load_guide("nonsense:x")


def test_encoder_guide_tokens_follow_the_image_and_pass_gradients(tmp_path):
    """encoder:CHECKPOINT guide: 16 x 16 tokens of unit-norm levels, differentiable w.r.t.
    the image (the fine-tuning losses need that), and a shifted image moves its tokens."""
    torch.manual_seed(0)
    import export
    cfg, encoder, generator = export.load_models(None)
    path = tmp_path / "base.pt"
    torch.save({"config": cfg, "encoder": encoder.state_dict(), "generator": generator.state_dict()}, path)
    g = G.load_guide(f"encoder:{path}")
    x = (torch.rand(1, 3, 128, 128) * 2 - 1).requires_grad_(True)
    tok = g.tokens(x)
    levels = len(g.encoder.TAPS) - 1
    assert tok.shape[:2] == (1, 256) and g.grid == (16, 16)
    assert torch.allclose(tok.norm(dim=-1), torch.full((1, 256), levels ** 0.5), atol=1e-4)
    tok.sum().backward()
    assert x.grad.abs().sum() > 0
    shifted = g.tokens(torch.roll(x.detach(), 16, dims=3))
    # the encoder-only file (models/guide/encoder-guide.pt format, fp16 weights) gives the same tokens
    only = tmp_path / "encoder-guide.pt"
    torch.save({"format": "face-stylizer-encoder-guide-v1", "config": cfg,
                "encoder": {k: v.half() if v.is_floating_point() else v for k, v in encoder.state_dict().items()}}, only)
    assert torch.allclose(G.load_guide(f"encoder:{only}").tokens(x.detach()), tok.detach(), atol=2e-2)
    grid_tok, grid_shifted = tok.detach()[0].view(16, 16, -1), shifted[0].view(16, 16, -1)
    assert (grid_shifted[4:12, 6:10] - grid_tok[4:12, 4:8]).abs().mean() < 0.5 * (grid_tok[4:12, 6:10] - grid_tok[4:12, 4:8]).abs().mean()


def test_dino_losses_train_a_tiny_guide_one_step():
    import guide_augment as A
    import train_guide as T

    torch.manual_seed(0)
    model = T.DINOModel(TINY_GUIDE, out_dim=16)
    x = torch.rand(4, 3, 128, 128) * 2 - 1
    views, grids = A.multicrop(x, torch.Generator().manual_seed(0), n_local=1, global_size=64, local_size=32)
    assert [v.shape[-1] for v in views] == [64, 64, 32] and all(v.abs().max() <= 1 for v in views)
    s_cls, s_patch = model(views, dense_views=2)
    with torch.no_grad():
        t_cls, t_patch = model(views[:2], dense_views=2)
    loss = T.DINOLoss(16)(s_cls, t_cls, 0.04) + T.DenseDINOLoss(16)(s_patch, t_patch, grids[:2], 0.04)
    assert torch.isfinite(loss)
    loss.backward()
    assert model.backbone.patch_embed.weight.grad.abs().sum() > 0


# --- pack build (Python half + the TS CLI's assembly + pack verify) ---------------------------------


def test_pair_crops_frame_the_same_face_at_every_model_size(tmp_path):
    # align.json's matrices and points come from the landmark tool at its own crop size (128);
    # a 144^2 base must cut the same square at 144 px, not a 128-px square inside a 144 crop
    # (session 24: every pack rebuilt on the 144^2 base learnt from mis-framed pair crops)
    from PIL import Image

    from finetune import build_pack
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:300, 0:400]
    rgb = np.stack([(xx * 0.6) % 256, (yy * 0.8) % 256, ((xx + yy) * 0.3) % 256], -1).astype(np.uint8)
    rgb[120:180, 150:260] = rng.integers(0, 256, (60, 110, 3))      # a landmark-like blob
    Image.fromarray(rgb).save(tmp_path / "face.png")
    ffhq_at_128 = [0.6, 0.05, -70.0, -0.05, 0.6, -40.0]             # image -> ffhq crop px at 128
    crop128, crop144 = (build_pack.load_image(tmp_path / "face.png", ffhq_at_128, size, "face-core-v1")
                        for size in (128, 144))
    resized = torch.nn.functional.interpolate(crop144, size=128, mode="bilinear", align_corners=False, antialias=True)
    assert (resized - crop128).abs().mean() < 0.03
    # and the landmarks land on the same crop position, scaled
    points = [{"x": 40.0, "y": 50.0}, {"x": 90.0, "y": 70.0}]
    align = {"real": {"cropPoints": points}, "style": {"cropPoints": points}}
    p128, p144 = (build_pack.pair_points(align, size, "face-core-v1")["style"] for size in (128, 144))
    np.testing.assert_allclose(p144, p128 * 144 / 128, atol=1e-6)
    # a style-only build has the style's landmarks (its regions), no real half's (no geometry)
    style_only = build_pack.pair_points({"style": {"cropPoints": points}}, 144, "face-core-v1")
    assert style_only["real"] is None
    np.testing.assert_allclose(style_only["style"], p144, atol=1e-6)
    assert build_pack.pair_points({}, 144, "face-core-v1") is None


def test_build_pack_output_passes_pack_verify(tmp_path):
    # latent samples from the committed face pool: no aligned dataset cache needed (fresh clone)
    if not (REPO / "models" / "finetune" / "face-pool.json").exists():
        pytest.skip("models/finetune/face-pool.json absent (training/finetune/face_pool.py)")
    real_path = PAIRS / "anime.real.jpg"
    if not real_path.exists():
        pytest.skip("../shared/data/pairs absent")
    if shutil.which("npx") is None or not (REPO / "node_modules" / "tsx").exists():
        pytest.skip("node / tsx not installed (npm install)")
    out = tmp_path / "pack"
    # random-init base (default config) and random guide: tests the plumbing, not the quality
    res = subprocess.run(["npx", "tsx", "src/cli.ts", "pack", "build", "--real", str(real_path),
                          "--style", str(PAIRS / "anime.style.jpg"), "--name", "Anime test", "--out", str(out),
                          "--steps", "2", "--assume-aligned", "--", "--checkpoint", "random", "--guide", "random",
                          "--pool", "8", "--preview-faces", "2", "--threads", "2"],
                         cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "FACE_STYLIZER_ALIGNED": str(tmp_path / "no-aligned-cache")})
    assert res.returncode == 0, res.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["id"] == "anime-test" and manifest["training"]["steps"] == 2
    verify = subprocess.run(["npx", "tsx", "src/cli.ts", "pack", "verify", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]     # no temp dir left behind


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_onnx_guide_runs_in_onnxruntime_web_without_gradients(tmp_path):
    import export

    if not export.ort_available():
        pytest.skip("needs node and node_modules/onnxruntime-web (npm install)")
    g = tiny_guide()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    path = tmp_path / "guide.onnx"
    with torch.no_grad():
        torch.onnx.export(G._TokensModule(g), (x,), str(path), opset_version=17, input_names=["image"],
                          output_names=["tokens"])
    onnx_guide = G.load_guide(f"onnx:{path}")
    onnx_guide.size = 64
    with torch.no_grad():
        assert torch.allclose(onnx_guide.tokens(x), g.tokens(x), atol=1e-4)
    with pytest.raises(RuntimeError, match="no gradients"):
        onnx_guide.tokens(x.clone().requires_grad_(True))


# --- the committed face pool (training/finetune/face_pool.py) -----------------------------------


def fake_pool(tmp_path, checkpoint_bytes=b"base", train=2, held_out=1):
    import hashlib

    import numpy as np
    from PIL import Image

    from finetune import face_pool

    ckpt = tmp_path / "base.pt"
    ckpt.write_bytes(checkpoint_bytes)
    faces = (np.arange(train + held_out)[:, None, None, None] * 40 + np.zeros((1, 128, 128, 3))).astype(np.uint8)
    sprite = np.zeros((128, face_pool.COLUMNS * 128, 3), np.uint8)
    for i, f in enumerate(faces):
        sprite[:, i * 128:(i + 1) * 128] = f
    Image.fromarray(sprite).save(tmp_path / "face-pool.webp", "WEBP", lossless=True)
    meta = {"format": face_pool.FORMAT, "formatVersion": 1, "size": 128,
            "base": {"checkpointSha256": hashlib.sha256(checkpoint_bytes).hexdigest(), "alignment": "ffhq-v1"},
            "faces": {"train": train, "heldOut": held_out, "composite": 3},
            "image": {"file": "face-pool.webp", "sha256": face_pool.sha256(tmp_path / "face-pool.webp"), "columns": face_pool.COLUMNS}}
    (tmp_path / "face-pool.json").write_text(json.dumps(meta))
    return ckpt, tmp_path / "face-pool.json"


def test_face_pool_loads_and_refuses_a_stale_pool_in_one_line(tmp_path):
    from finetune import face_pool

    ckpt, meta = fake_pool(tmp_path)
    train, held_out, info = face_pool.load(ckpt, {"size": 128}, meta)
    assert train.shape == (2, 3, 128, 128) and held_out.shape == (1, 3, 128, 128)
    assert abs(float(held_out.mean()) - (80 / 127.5 - 1)) < 1e-6          # the third face of the sprite
    ckpt.write_bytes(b"a new base model")
    with pytest.raises(face_pool.PoolError) as e:
        face_pool.load(ckpt, {"size": 128}, meta)
    assert "stale" in str(e.value) and face_pool.REBUILD in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(face_pool.PoolError, match="no face pool"):
        face_pool.load(ckpt, {"size": 128}, tmp_path / "absent.json")


def test_face_pool_groups_like_composite_groups():
    from finetune import face_pool
    from finetune.networks import composite_groups

    f = torch.randn(30, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    order = list(range(29, -1, -1))
    assert face_pool.composite_groups(f, 3, 6, order) == composite_groups(f, 3, 6, order)


def test_build_pack_errors_are_one_line_without_traceback(tmp_path):
    if not (REPO / "models" / "finetune" / "face-pool.json").exists():
        pytest.skip("models/finetune/face-pool.json absent")
    style = tmp_path / "style.png"
    from PIL import Image
    Image.new("RGB", (64, 64), (200, 100, 50)).save(style)
    res = subprocess.run(["/usr/bin/python3", "training/finetune/build_pack.py", "--style", str(style), "--work",
                          str(tmp_path / "work"), "--checkpoint", "random", "--guide", "random", "--pool", "4",
                          "--options", '{"no_such_option": 1}', "--progress", "json"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    event = json.loads(res.stdout.strip().splitlines()[-1])
    assert event["event"] == "error" and event["code"] == "internal" and "no_such_option" in event["message"]


def test_augmented_views_keep_the_pair_aligned():
    real, style = _synthetic_pair()
    reals, styles = loop.augment_pairs(real, real.clone(), 6, torch.Generator().manual_seed(0))
    assert reals.shape == styles.shape == (6, 3, 128, 128)
    # the same geometry on both halves: only the real half's brightness / contrast differs
    for r, s in zip(reals, styles):
        a, b = torch.linalg.lstsq(torch.stack([s.flatten(), torch.ones(s.numel())], 1), r.flatten()[:, None]).solution[:, 0]
        assert (a * s + b - r).abs().mean() < 0.02
    assert (styles[0] - styles[1]).abs().mean() > 0.01   # the views differ


def test_paired_views_and_texture_move_the_output_toward_the_style(tiny_cfg):
    real, style = _synthetic_pair()
    encoder, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    opts = loop.FinetuneOptions(steps=25, batch=2, lr=2e-3, dir=0, rsc=0, rec=0, adv=0, smooth=0.1,
                                paired=1.0, paired_batch=2, paired_views=8, texture=1.0, ema_halflife=1)
    w_pair = StyleMixing(G_src.fine)(pair["w_real"], pair["w_style"])

    def distance(G_):
        with torch.no_grad():
            return (G_(w_pair, pair["f_real"], torch.ones(1))[0] - style).abs().mean().item()

    _finetune_moves_output(G_src, pool, pair, opts, encoder, distance, ("paired", "texture"), 0.8)


def _finetune_moves_output(G_src, pool, pair, opts, encoder, distance, terms, factor):
    """Fine-tunes with `opts`: each of `terms` is in the loss, `distance(G)` falls below
    `factor` of the source generator's, and the same options refuse to run without the encoder."""
    before = distance(G_src)
    G_ft, stats = loop.finetune(G_src, tiny_guide(), pool, pair, opts, encoder=encoder)
    assert all(t in stats["last"] for t in terms), stats["last"]
    assert distance(G_ft) < factor * before, (before, distance(G_ft))
    with pytest.raises(ValueError):
        loop.finetune(G_src, tiny_guide(), pool, pair, opts)


def test_colour_moments_zero_for_the_same_palette_and_pull_a_tint_toward_the_style():
    colour = L.ColourMoments(64)
    torch.manual_seed(0)
    grey = (torch.rand(1, 1, 64, 64) * 0.6 - 0.3).expand(1, 3, 64, 64).contiguous()   # a grey drawing
    assert colour(grey, grey).item() < 1e-7
    tint = torch.tensor([-0.1, 0.1, -0.1]).view(1, 3, 1, 1)
    fake = (grey + tint).requires_grad_(True)                                       # the same, green
    loss = colour(fake, grey)
    assert loss.item() > 0.05
    loss.backward()
    # descent removes the green: the gradient raises red and blue, lowers green
    step = -fake.grad.sum(dim=(0, 2, 3))
    assert step[0] > 0 and step[2] > 0 and step[1] < 0
    # covariance counts: same means, one saturated (channels spread apart), one grey
    saturated = grey * torch.tensor([1.5, 0.2, 1.0]).view(1, 3, 1, 1)
    assert colour(saturated, grey).item() > 1e-3


def _ring_face(eye_radius=5.0, mouth_radius=9.0):
    """478 face-mesh points: the eyes' and lips' contours as ellipses, the rest at the centre."""
    points = np.zeros((478, 2)) + 64
    for index, (cx, cy, r) in [(L.LEFT_EYE, (45, 45, eye_radius)), (L.RIGHT_EYE, (83, 45, eye_radius)), (L.LIPS, (64, 85, mouth_radius))]:
        for k, i in enumerate(index):
            angle = 2 * np.pi * k / len(index)
            points[i] = (cx + r * np.cos(angle), cy + 0.5 * r * np.sin(angle))
    return points


def test_face_regions_cover_skin_eyes_and_lips_without_overlap_or_forehead():
    skin, eyes, lips = L.face_regions(_ring_face(), 128)
    assert eyes[0, 45, 45] == 1 and eyes[0, 45, 83] == 1 and lips[0, 85, 64] == 1
    assert skin[0, 70, 40] == 1                                                     # a cheek
    assert skin[0, 45, 45] == 0 and skin[0, 85, 64] == 0                            # not the features
    assert skin[0, 25, 64] == 0                                                     # not the forehead (a fringe)
    assert eyes[0, 45, 52] == 1 and eyes[0, 45, 57] == 0                            # lids: the contour grown by 4 px
    assert (eyes * lips).sum() == 0


def test_region_colour_keeps_a_dark_fringe_from_darkening_the_eyes():
    points = _ring_face()
    skin, eyes, lips = L.face_regions(points, 128)
    light = torch.full((1, 3, 128, 128), 0.5)
    # the style: the same light face with a black fringe over the forehead and dark lids
    style = light.clone()
    style[..., :30, :] = -1.0
    style = torch.where(eyes.bool(), torch.full_like(style, -0.2), style)
    regions = L.RegionColour(128, style, points)
    assert regions(style).item() < 1e-6
    # the fringe is outside every region: a face with the style's lids but no fringe is already right
    assert regions(torch.where(eyes.bool(), torch.full_like(light, -0.2), light)).item() < 1e-6
    # the whole-face term asks that face for the fringe's darkness; per region, black eye sockets are wrong
    holes = torch.where(eyes.bool(), torch.full_like(light, -1.0), light)
    assert regions(holes).item() > 0.1
    assert L.ColourMoments(128)(holes, style).item() < L.ColourMoments(128)(light, style).item()


def test_style_patches_see_texture_that_colour_moments_miss():
    patches, colour = L.StylePatches(64), L.ColourMoments(64)
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    # a hatched drawing (diagonal stripes) and a flat image of the same palette: pixels shuffled
    y, x = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    hatched = (torch.sin((x + y) * 1.3) * 0.5).expand(1, 3, 64, 64).contiguous()
    shuffled = hatched.flatten(2)[:, :, torch.randperm(64 * 64)].view(1, 3, 64, 64)
    assert patches(hatched, hatched, g).item() < 1e-6
    # the same colours in another order: ColourMoments cannot tell (within its mask's sampling),
    # the patch distribution can
    assert colour(shuffled, hatched).item() < 0.02
    assert patches(shuffled, hatched, g).item() > 5 * colour(shuffled, hatched).item()
    # descent from a flat grey face toward the hatching lowers the distance
    fake = torch.zeros(2, 3, 64, 64, requires_grad=True)
    opt = torch.optim.Adam([fake], lr=0.05)
    first = patches(fake, hatched, g).item()
    for _ in range(60):
        opt.zero_grad()
        patches(fake, hatched, g).backward()
        opt.step()
    assert patches(fake.detach(), hatched, g).item() < 0.5 * first


def test_patches_term_in_the_loop(tiny_cfg):
    real, style = _synthetic_pair()
    encoder, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    opts = loop.FinetuneOptions(steps=20, batch=2, lr=2e-3, dir=0, rsc=0, rec=0, adv=0, smooth=0.1,
                                patches=1.0, ema_halflife=1)
    patches = L.StylePatches(style.shape[-1])

    def patch_distance(G_):
        w, f = pool.w_plus, pool.features
        with torch.no_grad():
            x = G_(StyleMixing(G_src.fine)(w, pair["w_style"]), f, torch.ones(1))[0]
            return patches(x, style, torch.Generator().manual_seed(1)).item()

    before = patch_distance(G_src)
    G_ft, stats = loop.finetune(G_src, tiny_guide(), pool, pair, opts)   # needs no encoder
    assert "patches" in stats["last"]
    assert patch_distance(G_ft) < 0.8 * before, (before, patch_distance(G_ft))


def test_shift_consistency_zero_for_a_generator_that_moves_with_its_input():
    steady = L.ShiftConsistency()
    torch.manual_seed(0)
    face = torch.nn.functional.avg_pool2d(torch.rand(2, 3, 64, 64) * 2 - 1, 5, 1, 2)
    shift = torch.tensor([[0.7, -1.2], [-1.5, 0.4]])
    moved = L.shift_crops(face, shift)
    # an equivariant "generator" (the identity) draws the moved face moved: no loss
    assert steady(moved, face, shift).item() < 1e-6
    # one that draws the same picture whatever the shift (texture glued to the crop) is penalised
    assert steady(face, face, shift).item() > 1e-2
    # shift_crops moves content by whole pixels exactly: +1 px in x puts column 10 at column 11
    one = L.shift_crops(face[:1], torch.tensor([[1.0, 0.0]]))
    assert torch.allclose(one[..., 11], face[:1, ..., 10], atol=1e-5)


def test_checkerboard_excess_penalises_a_period_two_grid_only():
    excess = L.CheckerboardExcess(margin=2.0)
    torch.manual_seed(0)
    face = torch.nn.functional.avg_pool2d(torch.rand(2, 3, 64, 64) * 2 - 1, 5, 1, 2)
    grid = torch.ones(64, 64)
    grid[1::2] *= -1
    grid[:, 1::2] *= -1
    # the same picture, a little sharper or darker, is not a grid: no loss
    assert excess(face * 1.5, face).item() == 0
    # a faint period-2 grid multiplies the kernel's response and is penalised
    gridded = (face + 0.05 * grid).requires_grad_(True)
    value = excess(gridded, face)
    assert value.item() > 1, value
    # its gradient points back toward the picture without the grid
    value.backward()
    step = gridded - 0.01 * gridded.grad / gridded.grad.abs().max()
    assert L.checker_rms(step).mean() < L.checker_rms(gridded.detach()).mean()


def test_checker_views_keeps_a_gridded_style_grid_off_the_paired_views(tiny_cfg):
    real, style = _synthetic_pair()
    grid = torch.ones(128, 128)
    grid[1::2] *= -1
    grid[:, 1::2] *= -1
    style = (style + 0.3 * grid).clamp(-1, 1)   # a style whose 'look' is a period-2 grid
    encoder, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    opts = dict(steps=20, batch=1, lr=5e-3, dir=0, rsc=0, rec=0, adv=0, smooth=0.1, paired=1.0,
                paired_batch=2, paired_views=8, ema_halflife=1, seed=0)

    def views_grid(G_):
        views_real, _ = loop.augment_pairs(real, style, 8, torch.Generator().manual_seed(3))
        with torch.no_grad():
            w, f = encoder(views_real)
            x = G_(StyleMixing(G_src.fine)(w, pair["w_style"]), f, torch.ones(1))[0]
        return (L.checker_rms(x) / L.checker_rms(views_real)).mean().item()

    G_plain, _ = loop.finetune(G_src, tiny_guide(), pool, pair, loop.FinetuneOptions(**opts), encoder=encoder)
    G_checked, stats = loop.finetune(G_src, tiny_guide(), pool, pair,
                                     loop.FinetuneOptions(**opts, checker_views=10.0), encoder=encoder)
    assert "checker_views" in stats["last"]
    # the paired term alone learns the grid; with the term the outputs keep less of it
    assert views_grid(G_checked) < 0.8 * views_grid(G_plain), (views_grid(G_plain), views_grid(G_checked))


def test_checkerboard_excess_in_the_face_core_ignores_the_crop_border():
    t = torch.linspace(-1, 1, 128)
    face = (t.view(1, 1, 1, 128) * t.view(1, 1, 128, 1) * 0.5).expand(1, 3, 128, 128).contiguous()
    grid = ((torch.arange(128).view(1, 128) + torch.arange(128).view(128, 1)) % 2 * 0.2 - 0.1).expand(1, 3, 128, 128)
    border = torch.ones(128, 128)
    border[32:96, 32:96] = 0
    core = L.CheckerboardExcess(margin=1.2, core=True)
    source = face + 0.01 * grid
    assert core(face + 0.01 * grid + grid * border, source) == 0          # hair, background: not the face
    assert core(face + 0.01 * grid + grid * (1 - border), source) > 5     # the same grid on the face core
    assert L.CheckerboardExcess(margin=1.2)(face + 0.01 * grid + grid * border, source) > 5


def test_checker_faces_runs_on_the_steady_branch(tiny_cfg):
    # on the tiny model the term's effect is not measurable (its outputs carry no grid to remove):
    # the real builds are measured by eval:display (docs/ablation.md, session 27)
    real, style = _synthetic_pair()
    encoder, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    opts = dict(steps=3, batch=1, dir=0, rsc=0, rec=0, adv=0, smooth=0.1, steady=0.1, steady_batch=2, seed=0)
    _, stats = loop.finetune(G_src, tiny_guide(), pool, pair, loop.FinetuneOptions(
        **opts, checker_faces=1.0, checker_faces_margin=0.0), encoder=encoder)
    assert stats["last"]["checker_faces"] > 0
    with pytest.raises(ValueError, match="needs opts.steady"):
        loop.finetune(G_src, tiny_guide(), pool, pair, loop.FinetuneOptions(**dict(opts, steady=0.0), checker_faces=1.0),
                      encoder=encoder)


def test_colour_and_steady_terms_in_the_loop(tiny_cfg):
    real, style = _synthetic_pair()
    encoder, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    opts = loop.FinetuneOptions(steps=20, batch=2, lr=2e-3, dir=0, rsc=0, rec=0, adv=0, smooth=0.1,
                                colour=1.0, steady=1.0, steady_batch=1, ema_halflife=1)
    colour = L.ColourMoments(128)

    def colour_distance(G_):
        w, f = pool.w_plus, pool.features
        with torch.no_grad():
            x = G_(StyleMixing(G_src.fine)(w, pair["w_style"]), f, torch.ones(1))[0]
            return colour(x, style.expand_as(x)).item()

    _finetune_moves_output(G_src, pool, pair, opts, encoder, colour_distance, ("colour", "steady"), 0.7)



def test_region_colour_in_the_loop_and_whole_face_colour_without_landmarks(tiny_cfg):
    real, style = _synthetic_pair()
    _, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    points = _ring_face()
    opts = loop.FinetuneOptions(steps=20, batch=2, lr=2e-3, dir=0, rsc=0, rec=0, adv=0, smooth=0.1,
                                colour=1.0, colour_regions=True, ema_halflife=1)
    regions = L.RegionColour(128, pair["style"], points)

    def colour_distance(G_):
        with torch.no_grad():
            return regions(G_(StyleMixing(G_src.fine)(pool.w_plus, pair["w_style"]), pool.features, torch.ones(1))[0]).item()

    G_ft, stats = loop.finetune(G_src, tiny_guide(), pool, {**pair, "points": {"real": points, "style": points}}, opts)
    assert "colour" in stats["last"]
    assert colour_distance(G_ft) < 0.7 * colour_distance(G_src), (colour_distance(G_src), colour_distance(G_ft))
    # a style-only pack has the style's landmarks but no real half: regions on, geometry skipped
    style_only = loop.FinetuneOptions(**{**opts.to_dict(), "geometry": 1.0})
    G_so, stats = loop.finetune(G_src, tiny_guide(), pool, {**pair, "points": {"real": None, "style": points}}, style_only)
    assert "colour" in stats["last"] and "geometry" not in stats["last"]
    assert colour_distance(G_so) < 0.7 * colour_distance(G_src), (colour_distance(G_src), colour_distance(G_so))
    # without any landmarks colour falls back to the whole inner face
    _, stats = loop.finetune(G_src, tiny_guide(), pool, {**pair, "points": None}, loop.FinetuneOptions(**{**opts.to_dict(), "steps": 1}))
    assert "colour" in stats["last"]


def test_pair_geometry_is_zero_for_no_change_and_pulls_the_warps_onto_the_pair(tiny_cfg):
    real, style = _synthetic_pair()
    _, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    # the real half's "eye": a ring of landmarks; the style half's is 30 % wider (a big-eyes caricature)
    angle = torch.linspace(0, 2 * torch.pi, 25)[:-1]
    ring = torch.stack([angle.cos(), angle.sin()], dim=1)
    real_px, style_px = 64 + 20 * ring, 64 + 26 * ring
    identity_flow = G_src.compose_flow([])
    assert L.PairGeometry(real_px, real_px, 128)(identity_flow).item() < 1e-3
    geometry = L.PairGeometry(real_px, style_px, 128)
    assert abs(geometry(identity_flow).item() - 6.0) < 0.1        # each landmark 6 px off
    one = torch.ones(1)

    def distance(G_):
        with torch.no_grad():
            return geometry(G_.compose_flow([w.displacement(one) for w in G_.warps])).item()

    opts = loop.FinetuneOptions(steps=30, batch=1, dir=0, rsc=0, rec=0, adv=0, smooth=0.1, warp_lr=0.02,
                                geometry=1.0, ema_halflife=1)
    G_ft, stats = loop.finetune(G_src, tiny_guide(), pool, {**pair, "points": {"real": real_px, "style": style_px}}, opts)
    assert "geometry" in stats["last"]
    assert distance(G_ft) < 0.5 * distance(G_src), (distance(G_src), distance(G_ft))
    # without the pair's landmarks (a style-only pack) the term is off, not an error
    _, stats = loop.finetune(G_src, tiny_guide(), pool, pair, loop.FinetuneOptions(steps=1, batch=1, geometry=1.0))
    assert "geometry" not in stats["last"]


def test_refit_tps_keeps_the_field_on_a_finer_grid(tiny_cfg):
    _, G_src, _, _ = _pair_and_pool(tiny_cfg, *_synthetic_pair())
    randomize_warps(G_src, scale=0.05)
    for slot in G_src.warps:
        finer = loop.refit_tps(slot.tps, 13)
        assert finer.offsets.shape == (169, 2)
        field = slot.tps.displacement()
        assert (finer.displacement() - field).abs().max() < 0.05 * field.abs().max()
        assert loop.refit_tps(N.TpsWarp(slot.size, 7), 13).offsets.abs().max() == 0   # zero stays zero


def test_a_finer_tps_grid_enlarges_an_eye_without_moving_its_surroundings(tiny_cfg):
    """A big-eyes caricature: an eye-sized ring (7 px) grows 1.5x while a ring 10 px further
    out stays. The base grid (the tiny config's 4 x 4) cannot do both; 13 x 13 can."""
    real, style = _synthetic_pair()
    _, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    angle = torch.linspace(0, 2 * torch.pi, 17)[:-1]
    ring = torch.stack([angle.cos(), angle.sin()], dim=1)
    eye = torch.tensor([44.0, 56.0])
    real_px = torch.cat([eye + 7 * ring, eye + 17 * ring])
    style_px = torch.cat([eye + 10.5 * ring, eye + 17 * ring])
    geometry = L.PairGeometry(real_px, style_px, 128)
    one = torch.ones(1)

    def distance(grid):
        opts = loop.FinetuneOptions(steps=40, batch=1, dir=0, rsc=0, rec=0, adv=0, smooth=0.01, warp_lr=0.005,
                                    geometry=1.0, ema_halflife=1, tps_grid=grid)
        G_ft, _ = loop.finetune(G_src, tiny_guide(), pool, {**pair, "points": {"real": real_px, "style": style_px}}, opts)
        assert G_ft.warps[0].tps.grid == (grid or G_src.cfg["tps_grid"])
        with torch.no_grad():
            return geometry(G_ft.compose_flow([w.displacement(one) for w in G_ft.warps])).item()

    start = geometry(G_src.compose_flow([])).item()               # 1.75 px: half the points 3.5 px off
    coarse, fine = distance(0), distance(13)                        # measured 1.92 and 0.41
    assert fine < 0.5 * min(start, coarse), (start, coarse, fine)


def test_scorecard_rows_of_two_builds_of_one_pack_do_not_overwrite_each_other():
    from finetune.scorecard import row_name
    rows = {}
    for folder in ("pixar-3d", "pixar-lr15"):
        rows[row_name(rows, "pixar-3d", folder)] = folder
    assert rows == {"pixar-3d": "pixar-3d", "pixar-3d (pixar-lr15)": "pixar-lr15"}


def test_scorecard_eye_luma_shift_sees_black_eye_sockets_not_a_darker_face():
    from finetune.scorecard import eye_luma_shift
    points = _ring_face()
    _, eyes, _ = L.face_regions(points, 128, eye_grow=0)
    face = np.full((1, 128, 128, 3), 180, np.uint8)
    face[0][eyes[0].numpy() > 0.5] = 120                                                # the eye openings
    darker = (face.astype(np.int16) - 40).astype(np.uint8)                                 # the whole face darker
    holes = face.copy()
    holes[0][eyes[0].numpy() > 0.5] = 10                                                # black sockets
    pts = points[None]
    assert abs(eye_luma_shift(face, darker, pts, pts)[0]) < 1
    assert eye_luma_shift(face, holes, pts, pts)[0] < -80
    assert np.isnan(eye_luma_shift(face, holes, pts, np.full_like(pts, np.nan))[0])


def test_geometry_on_other_faces_moves_their_features_by_the_pairs_change(tiny_cfg):
    real, style = _synthetic_pair()
    _, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    angle = torch.linspace(0, 2 * torch.pi, 25)[:-1]
    ring = torch.stack([angle.cos(), angle.sin()], dim=1)
    real_px, style_px = 64 + 16 * ring, 64 + 21 * ring        # the pair's eye, 30 % wider in the style
    other = ring * 16 + torch.tensor([88.0, 80.0])             # another person's eye, elsewhere in the crop
    anchors, targets = loop.geometry_points({"real": real_px, "style": style_px, "faces": other[None]})
    assert np.allclose(anchors[24:], other.numpy()) and np.allclose(targets[24:] - anchors[24:], (style_px - real_px).numpy())
    on_other = L.PairGeometry(other, targets[24:], 128)
    one = torch.ones(1)
    opts = loop.FinetuneOptions(steps=30, batch=1, dir=0, rsc=0, rec=0, adv=0, smooth=0.1, warp_lr=0.02,
                                geometry=1.0, ema_halflife=1)

    def distance(points):
        G_ft, _ = loop.finetune(G_src, tiny_guide(), pool, {**pair, "points": points}, opts)
        with torch.no_grad():
            return on_other(G_ft.compose_flow([w.displacement(one) for w in G_ft.warps])).item()

    pair_only = distance({"real": real_px, "style": style_px})
    with_faces = distance({"real": real_px, "style": style_px, "faces": other[None]})
    assert with_faces < 0.7 * pair_only, (pair_only, with_faces)


def test_the_builder_landmarks_pool_faces_and_projections_with_the_runtimes_tool(monkeypatch):
    from finetune import build_pack, landmark_tool

    found = np.arange(2 * 478 * 2, dtype=np.float32).reshape(2, 478, 2)
    missing = np.full((1, 478, 2), np.nan, np.float32)
    monkeypatch.setattr(landmark_tool, "landmarks", lambda images: np.concatenate([found, missing])[:len(images)])
    warnings = []
    emit = lambda event: warnings.append(event["message"]) if event["event"] == "warning" else None
    faces = torch.zeros(3, 3, 16, 16)
    points = build_pack.face_points(faces, 478, emit)
    assert points.shape == (2, 478, 2) and not warnings            # the face it did not find is left out
    assert build_pack.face_points(faces, 68, emit) is None and "not the pair's" in warnings[-1]
    assert build_pack.projection_points(faces[:1], emit).shape == (478, 2)
    monkeypatch.setattr(landmark_tool, "landmarks", lambda images: missing)
    assert build_pack.projection_points(faces[:1], emit) is None and "no face found in the style's projection" in warnings[-1]


def _oval_face(width=40.0, height=52.0):
    """_ring_face with the face outline (FACE_OVAL) an ellipse `width` x `height` px around it."""
    points = _ring_face()
    for k, i in enumerate(L.FACE_OVAL):
        angle = 2 * np.pi * k / len(L.FACE_OVAL)
        points[i] = (64 + width * np.sin(angle), 68 - height * np.cos(angle))
    return points


def test_face_regions_oval_keeps_the_skin_inside_a_narrow_faces_outline():
    points = _oval_face(width=30.0)
    skin, _, _ = L.face_regions(points, 128)
    oval_skin, oval_eyes, oval_lips = L.face_regions(points, 128, oval=True)
    assert skin[0, 80, 30] == 1 and oval_skin[0, 80, 30] == 0        # beside the narrow face: hair, not skin
    assert oval_skin[0, 75, 50] == 1                                   # a cheek inside the outline
    assert (oval_skin <= skin).all()
    assert torch.equal(oval_eyes, L.face_regions(points, 128)[1]) and torch.equal(oval_lips, L.face_regions(points, 128)[2])


def _identity_flow(n=1, size=128):
    return F.affine_grid(torch.eye(2, 3)[None].expand(n, 2, 3), [n, 2, size, size], align_corners=False).permute(0, 3, 1, 2)


def test_face_detail_asks_a_photo_for_the_pairs_change_of_detail_region_by_region():
    points = _oval_face()
    torch.manual_seed(0)
    noise = torch.randn(1, 1, 128, 128).expand(1, 3, 128, 128)
    rough, smooth = (0.2 + 0.2 * noise).clamp(-1, 1), (0.2 + 0.1 * noise).clamp(-1, 1)
    skin, eyes, _ = L.face_regions(points, 128, oval=True)
    # the style half: half the real half's detail in the skin, the same in the eyes
    style = torch.where(eyes.bool(), rough, smooth)
    detail = L.FaceDetail(128, rough, points, style, points, regions=(0, 1))
    assert torch.allclose(detail.log_target.exp(), torch.tensor([0.5, 1.0]), atol=0.05)
    masks = detail.masks(points)
    assert masks.shape == (1, 2, 128, 128) and torch.equal(masks[0, 0], skin[0])
    source = L.FaceDetail.energy(rough, masks)
    assert (L.FaceDetail.energy(torch.full_like(rough, 0.3), masks) == 0).all()
    # an output with the pair's ratios is right; one as rough as its source is log(2)^2 / 2 off
    assert detail(style, source, masks, _identity_flow()).item() < 1e-3
    assert abs(detail(rough, source, masks, _identity_flow()).item() - np.log(2) ** 2 / 2) < 0.03
    # the masks follow the warps: a flow that samples the output from elsewhere moves them
    shifted = _identity_flow() + torch.tensor([0.5, 0.0]).view(1, 2, 1, 1)
    assert not torch.allclose(N.warp_like(masks, shifted), masks)


def test_face_detail_in_the_loop_on_the_steady_branchs_photos(tiny_cfg):
    real, style = _synthetic_pair()
    encoder, G_src, pool, pair = _pair_and_pool(tiny_cfg, real, style)
    points = _oval_face()
    style_smooth = F.avg_pool2d(pair["style"], 5, stride=1, padding=2)
    pair = {**pair, "style": style_smooth, "points": {"real": points, "style": points, "detail_real": points,
                                                      "pool": ([0, 2], np.stack([points, points]))}}
    opts = loop.FinetuneOptions(steps=2, batch=1, dir=0, rsc=0, rec=0, adv=0, smooth=0.1, steady=1.0,
                                detail_faces=1.0, ema_halflife=1)
    _, stats = loop.finetune(G_src, tiny_guide(), pool, pair, opts, encoder=encoder)
    assert "detail_faces" in stats["last"] and np.isfinite(stats["last"]["detail_faces"])
    opts3 = loop.FinetuneOptions(**{**opts.to_dict(), "detail_regions": [0, 1, 2]})
    _, stats = loop.finetune(G_src, tiny_guide(), pool, pair, opts3, encoder=encoder)
    assert np.isfinite(stats["last"]["detail_faces"])
    with pytest.raises(ValueError):     # it runs on the steady branch's faces
        loop.finetune(G_src, tiny_guide(), pool, pair, loop.FinetuneOptions(**{**opts.to_dict(), "steady": 0.0}), encoder=encoder)


def test_scorecard_skin_detail_sees_blotchy_skin_not_the_features():
    from finetune.scorecard import skin_detail
    points = _oval_face()
    openings = L.face_regions(points, 128, eye_grow=0)[1]
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(128, 128, 1))
    face = np.clip(150 + 10 * noise, 0, 255).repeat(3, 2)
    blotchy = np.clip(150 + 20 * noise, 0, 255).repeat(3, 2)                       # twice the skin's texture
    dark_eyes = np.where(openings[0].numpy()[..., None] > 0, 20.0, face)              # the eye openings alone painted dark
    ratios = skin_detail(np.stack([face] * 4).astype(np.uint8), np.stack([face, blotchy, dark_eyes, face]).astype(np.uint8),
                         np.stack([points] * 4), np.stack([points, points, points, np.full_like(points, np.nan)]))
    assert abs(ratios[0] - 1) < 1e-6 and abs(ratios[1] - 2) < 0.1
    assert abs(ratios[2] - 1) < 0.02 and np.isnan(ratios[3])                         # eyes are not skin; no face: NaN


def test_scorecard_face_gram_sees_the_face_core_not_the_background():
    from finetune.scorecard import RandomTextureNet, face_box, gram_distance
    rng = np.random.default_rng(0)
    style = rng.integers(0, 256, size=(1, 144, 144, 3)).astype(np.uint8)
    output = style.copy()
    output[:, :24] = 255                                            # another background above the face
    net = RandomTextureNet()
    assert gram_distance(net, output, style)[0] > 0.05                 # the whole crop sees it
    assert gram_distance(net, face_box(output), face_box(style))[0] < 1e-6   # the face core does not
    assert face_box(style).shape == (1, 77, 66, 3)                     # the box inscribed in the face ellipse
