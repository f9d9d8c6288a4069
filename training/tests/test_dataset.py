"""Aligned crop cache reader, shared-raw fallback, deterministic resumable batches."""

import json

import numpy as np
import pytest
import torch

import dataset as data


def make_cache(root, n_train=40, n_eval=8, shards=2):
    """A tiny fake aligned cache (random pixels) in the documented format."""
    rng = np.random.default_rng(0)
    for split, n in [("train", n_train), ("eval", n_eval)]:
        (root / split).mkdir(parents=True)
        for k, part in enumerate(np.array_split(np.arange(n), shards)):
            np.save(root / split / f"{k:05d}.npy", rng.integers(0, 256, (len(part), 128, 128, 3), dtype=np.uint8))
    (root / "index.json").write_text(json.dumps({"size": 128}))
    return root


def test_aligned_cache(tmp_path):
    root = make_cache(tmp_path / "aligned")
    ds = data.open_dataset(str(root), "train")
    assert len(ds) == 40 and ds.meta == {"size": 128}
    shard1 = np.load(root / "train" / "00001.npy")
    np.testing.assert_array_equal(ds[20], shard1[0])       # index crosses into shard 1


def test_default_cache_of_each_framing_and_size():
    # 'aligned' resolves to the cache of the base's framing AND crop size (a 144^2 base must not
    # read 128^2 crops)
    assert data.aligned_cache() == data.DEFAULT_ALIGNED
    assert data.aligned_cache("face-core-v1").name == f"{data.DEFAULT_ALIGNED.name}-face-core-v1"
    assert data.aligned_cache("face-core-v1", 144).name == f"{data.DEFAULT_ALIGNED.name}-face-core-v1-144"
    assert data.aligned_cache("ffhq-v1", 144).name == f"{data.DEFAULT_ALIGNED.name}-144"


def test_missing_cache_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="shared-raw"):
        data.open_dataset(str(tmp_path), "train")


def test_batch_stream_resumes_exactly(tmp_path):
    ds = data.open_dataset(str(make_cache(tmp_path / "aligned")), "train")
    a = data.BatchStream(ds, 6, seed=3)
    first = [a.next() for _ in range(4)]                   # crosses an epoch (40 // 6 = 6 per epoch)
    state = a.state
    later = [a.next() for _ in range(5)]
    a.close()
    b = data.BatchStream(ds, 6, seed=3, state=state)
    again = [b.next() for _ in range(5)]
    b.close()
    for x, y in zip(later, again):
        assert torch.equal(x, y)
    assert first[0].shape == (6, 3, 128, 128) and first[0].min() >= -1 and first[0].max() <= 1


def test_augment_is_deterministic_and_in_range():
    x = torch.rand(8, 3, 128, 128) * 2 - 1
    a = data.augment(x, torch.Generator().manual_seed(5))
    b = data.augment(x, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.min() >= -1 and a.max() <= 1
    assert not torch.equal(a, x)


def test_shared_raw_fallback():
    if not data.DEFAULT_SHARED_FACES.exists():
        pytest.skip(f"shared data not present at {data.DEFAULT_SHARED_FACES}")
    ds = data.open_dataset("shared-raw", "eval")
    img = ds[0]
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8 and len(ds) > 100


def test_crop_sampling_fixture_matches_prepare_data():
    """The SDK's CPU crop is tested against this committed file; it must still say what training does."""
    from crop_fixture import FIXTURE, build_fixture
    committed = json.loads(FIXTURE.read_text())
    fresh = build_fixture()
    assert committed["rgb"] == fresh["rgb"]
    for old, new in zip(committed["cases"], fresh["cases"], strict=True):
        assert old["cropFromImage"] == new["cropFromImage"]
        np.testing.assert_allclose(old["crop"], new["crop"], atol=2e-3)
