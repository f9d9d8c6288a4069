"""The training loop: loss goes down, runs resume exactly, run folder contents."""

import json

import torch

import losses
import networks as N
import train
from conftest import TINY
from test_dataset import make_cache


def test_overfit_fixed_batch(tiny_cfg):
    torch.manual_seed(0)
    E, G = N.build(tiny_cfg)
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.interpolate(torch.rand(4, 3, 8, 8, generator=g) * 2 - 1, size=128, mode="bilinear")
    opt = torch.optim.Adam(list(E.parameters()) + list(G.parameters()), lr=2e-3)
    history = []
    for _ in range(25):
        fake, _ = G(*E(x), torch.ones(1))
        loss, _ = losses.reconstruction_loss(fake, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    assert history[-1] < 0.6 * history[0], history


def run(tmp_path, cache, name, *extra):
    args = ["--run", name, "--runs-dir", str(tmp_path / "runs"), "--data", str(cache), "--config", json.dumps(TINY),
            "--batch", "4", "--eval-images", "4", "--log-every", "2", "--threads", "1", "--device", "cpu", *extra]
    return train.train(args)


def test_resume_continues_exactly(tmp_path):
    cache = make_cache(tmp_path / "aligned", n_train=24, n_eval=4)
    adv = ["--adv", "0.1", "--r1-every", "2"]
    straight = run(tmp_path, cache, "straight", "--steps", "8", *adv)
    part = run(tmp_path, cache, "part", "--steps", "5", *adv)
    train.train(["--resume", str(part), "--steps", "8"])
    a = torch.load(straight / "checkpoint.pt")
    b = torch.load(part / "checkpoint.pt")
    assert a["step"] == b["step"] == 8 and a["stream_state"] == b["stream_state"]
    for key in ("generator", "encoder", "generator_ema", "encoder_ema", "discriminator"):
        for name, value in a[key].items():
            assert torch.equal(value, b[key][name]), f"{key}.{name}"

    # run folder: options, log with train and eval lines, a sample grid
    opts = json.loads((part / "options.json").read_text())
    assert opts["steps"] == 8 and opts["resume"] == str(part)
    log = [json.loads(line) for line in (part / "log.jsonl").read_text().splitlines()]
    kinds = {e["kind"] for e in log}
    assert kinds == {"train", "eval"}
    assert all("psnr" in e and "ssim" in e for e in log if e["kind"] == "eval")
    assert any("images_per_s" in e and "d_loss" in e for e in log if e["kind"] == "train")
    assert list(part.glob("samples-*.png"))
    assert not list(part.glob("*.tmp"))


def test_shared_resume_state_continues_the_run(tmp_path):
    """runs.share_resume (the committed models/base/resume): without an untrained
    discriminator and with bfloat16 Adam moments, resuming still gives the straight run's
    discriminator exactly and its weights to within the moments' rounding."""
    import runs
    cache = make_cache(tmp_path / "aligned", n_train=24, n_eval=4)
    straight = run(tmp_path, cache, "straight", "--steps", "8")
    part = run(tmp_path, cache, "part", "--steps", "5")
    shared = tmp_path / "shared"
    runs.share_resume(part, shared)
    saved = torch.load(shared / "checkpoint.pt")
    assert "discriminator" not in saved
    assert all(s["exp_avg_sq"].dtype == torch.bfloat16 for s in saved["opt"]["state"].values())
    assert (shared / "checkpoint.pt").stat().st_size < 0.75 * (part / "checkpoint.pt").stat().st_size
    train.train(["--resume", str(shared), "--steps", "8"])
    a, b = torch.load(straight / "checkpoint.pt"), torch.load(shared / "checkpoint.pt")
    assert a["step"] == b["step"] == 8 and a["stream_state"] == b["stream_state"]
    for name, value in a["discriminator"].items():
        assert torch.equal(value, b["discriminator"][name]), name
    for key in ("generator", "encoder", "generator_ema", "encoder_ema"):
        for name, value in a[key].items():
            if value.is_floating_point():
                assert torch.allclose(value, b[key][name], rtol=1e-2, atol=1e-3), f"{key}.{name}"


def test_shared_resume_state_can_leave_a_trained_discriminator_out(tmp_path):
    import runs
    cache = make_cache(tmp_path / "aligned", n_train=24, n_eval=4)
    part = run(tmp_path, cache, "part", "--steps", "3", "--adv", "0.1")
    assert torch.load(part / "checkpoint.pt")["d_opt"]["state"]   # the adversarial term trained D
    shared = tmp_path / "shared"
    runs.share_resume(part, shared, drop_discriminator=True)
    saved = torch.load(shared / "checkpoint.pt")
    assert "discriminator" not in saved and not saved["d_opt"]["state"]
    train.train(["--resume", str(shared), "--steps", "5"])   # a fresh D from the seed
    assert torch.load(shared / "checkpoint.pt")["step"] == 5


def test_compact_checkpoint(tmp_path):
    cache = make_cache(tmp_path / "aligned", n_train=8, n_eval=4)
    compact = tmp_path / "models" / "checkpoint-latest.pt"
    run(tmp_path, cache, "c", "--steps", "1", "--compact", str(compact))
    ck = torch.load(compact)
    assert ck["format"] == "face-stylizer-base-v1" and set(ck) >= {"config", "encoder", "generator"}
    E, G = N.build(N.make_config(**ck["config"]))
    E.load_state_dict(ck["encoder"]), G.load_state_dict(ck["generator"])


@torch.no_grad()
def test_init_from_a_model_with_another_top(tmp_path):
    """--init-from copies every tensor that fits and starts a new sub-pixel ToRGB at zero."""
    E_old, G_old = N.build(N.make_config(**{**TINY, "top_convs": 1}))
    torch.save(train.compact_state(G_old.cfg, E_old, G_old, 0, None), tmp_path / "old.pt")
    E, G = N.build(N.make_config(**{**TINY, "top_convs": 0}))
    train.init_from_checkpoint(tmp_path / "old.pt", E, G)
    for name, value in E_old.state_dict().items():
        assert torch.equal(E.state_dict()[name], value), name
    new, old = G.state_dict(), G_old.state_dict()
    copied = [k for k in new if k in old and new[k].shape == old[k].shape]
    assert "convs.3.conv.weight" in copied and "to_rgbs.2.conv.modulation.weight" in copied
    for name in copied:
        assert torch.equal(new[name], old[name]), name
    assert G.to_rgbs[2].subpixel and not G.to_rgbs[2].conv.weight.any()


def test_warp_augmented_steps_resume_exactly_and_keep_identity_warps(tmp_path):
    """--warp-aug renders some steps through random warps (seeded per step, so a resumed run
    matches a straight one) and leaves every saved warp at the identity."""
    cache = make_cache(tmp_path / "aligned", n_train=24, n_eval=4)
    aug = ["--warp-aug", "0.5", "--config", json.dumps({**TINY, "detail_ch": 2})]
    straight = run(tmp_path, cache, "straight", "--steps", "6", *aug)
    part = run(tmp_path, cache, "part", "--steps", "3", *aug)
    train.train(["--resume", str(part), "--steps", "6"])
    a, b = torch.load(straight / "checkpoint.pt"), torch.load(part / "checkpoint.pt")
    for key in ("generator", "encoder", "generator_ema"):
        for name, value in a[key].items():
            assert torch.equal(value, b[key][name]), f"{key}.{name}"
            if name.startswith("warps."):
                assert not value.any(), name


def test_warp_like_matches_the_generator_flow(tiny_cfg):
    """The target of a warped step is the crop sampled where the generator samples its
    features: on an image whose value is its own x coordinate, warp_like returns flow_x."""
    _, G = N.build(tiny_cfg)
    with torch.no_grad():
        for w in G.warps:
            w.affine.translation.copy_(torch.tensor([0.125, 0.0]))
            w.affine.theta.fill_(0.05)
    S = tiny_cfg["size"]
    x = ((torch.arange(S) + 0.5) / S * 2 - 1).view(1, 1, 1, S).expand(1, 3, S, S)
    _, flow = G(torch.zeros(1, G.n_latent, tiny_cfg["style_dim"]), torch.zeros(1, tiny_cfg["feature_ch"], 32, 32), torch.ones(1))
    moved = N.warp_like(x, flow)
    inner = (slice(None), slice(None), slice(24, S - 24), slice(24, S - 24))
    torch.testing.assert_close(moved[inner][:, 0], flow[inner][:, 0], atol=1e-4, rtol=0)
    assert (moved[inner] - x[inner]).mean() > 0.2   # both slots' shifts add up


def test_warped_metrics_leave_the_generator_as_they_found_it(tiny_cfg):
    """The warped columns of evaluate.py: positive finite numbers, and the generator's own
    warp parameters restored afterwards (a pack's generator can be measured too)."""
    import metrics

    E, G = N.build(tiny_cfg)
    with torch.no_grad():
        G.warps[0].affine.theta.fill_(0.02)
    before = [p.clone() for p in G.warp_parameters()]
    x = torch.rand(3, 3, 128, 128) * 2 - 1
    m = metrics.warped_metrics(E, G, x, batch=2)
    assert set(m) == {"warped_psnr", "warped_detail", "detail"} and all(v == v and v > 0 for v in m.values())
    assert all(torch.equal(a, b) for a, b in zip(before, G.warp_parameters()))
    assert torch.allclose(metrics.fine_detail(x), metrics.fine_detail(x.clone()))
    assert metrics.fine_detail(torch.zeros(1, 3, 16, 16)).item() == 0
