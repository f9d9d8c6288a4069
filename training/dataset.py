"""Training data: the aligned crop cache, or (fallback) raw shared face shards.

Aligned cache (produced by the data-preparation tool, not by this trainer):
    $FACE_STYLIZER_ALIGNED or <repo>/.cache/aligned/
        index.json                 metadata (read and passed through, not required)
        train/*.npy, eval/*.npy    uint8 [N, 128, 128, 3] RGB shards

Fallback `shared-raw`: the WebP images in ../shared/data/faces/*.tar, whole image resized
to 128 (they are already tight face crops, but NOT ffhq-aligned: use it to test the loop
and measure throughput, not for the model we ship). Eval split = names whose CRC32 % 100
== 0 (about 1%), fixed forever.

Both give uint8 HWC arrays; `BatchStream` turns them into deterministic, resumable
augmented batches of float NCHW tensors in [-1, 1].
"""

import glob
import io
import json
import os
import queue
import tarfile
import threading
import zlib
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ALIGNED = Path(os.environ.get("FACE_STYLIZER_ALIGNED", REPO / ".cache" / "aligned"))


def aligned_cache(alignment=None, size=128):
    """The crop cache of an alignment and crop size: ffhq-v1 crops at 128² (and landmarks.jsonl)
    in .cache/aligned, other framings beside it in .cache/aligned-<alignment>, other sizes with a
    -<size> suffix (.cache/aligned-face-core-v1-144: prepare_data.py --alignment X --size N)."""
    name = DEFAULT_ALIGNED.name if alignment in (None, "ffhq-v1") else f"{DEFAULT_ALIGNED.name}-{alignment}"
    return DEFAULT_ALIGNED.with_name(name if size == 128 else f"{name}-{size}")
DEFAULT_SHARED_FACES = Path(os.environ.get("FACE_STYLIZER_SHARED_FACES", REPO.parent / "shared" / "data" / "faces"))


class AlignedCrops:
    """Memory-mapped .npy shards; image i is found through cumulative shard sizes."""

    def __init__(self, root, split, size=128):
        root = Path(root)
        # (skip half-written "*.tmp.npy" shards of a cache that is still being built)
        self.files = sorted(f for f in glob.glob(str(root / split / "*.npy")) if ".tmp" not in Path(f).name)
        if not self.files:
            raise FileNotFoundError(f"no {split}/*.npy shards in {root} (aligned cache not built yet? "
                                    f"try --data shared-raw)")
        index = root / "index.json"
        self.meta = json.loads(index.read_text()) if index.exists() else {}
        self.shards = [np.load(f, mmap_mode="r") for f in self.files]
        for f, s in zip(self.files, self.shards):
            if s.dtype != np.uint8 or s.shape[1:] != (size, size, 3):
                raise ValueError(f"{f}: expected uint8 [N,{size},{size},3], got {s.dtype} {s.shape}")
        self.starts = np.cumsum([0] + [len(s) for s in self.shards])
        self.name = f"aligned:{root}:{split}"

    def __len__(self):
        return int(self.starts[-1])

    def __getitem__(self, i):
        k = int(np.searchsorted(self.starts, i, side="right") - 1)
        return np.asarray(self.shards[k][i - self.starts[k]])


class SharedRawFaces:
    """Images straight from the shared tar shards, decoded with PIL (WebP) on access."""

    def __init__(self, root=DEFAULT_SHARED_FACES, split="train", size=128, limit=None):
        from PIL import Image  # noqa: F401  (fail early if PIL is missing)

        root = Path(root)
        shards = sorted(glob.glob(str(root / "*.tar")))
        if not shards:
            raise FileNotFoundError(f"no *.tar shards in {root}")
        self.size = size
        self.items = []          # (shard path, byte offset, byte size)
        for path in shards:
            with tarfile.open(path) as tf:
                for m in tf.getmembers():
                    if not m.isfile():
                        continue
                    is_eval = zlib.crc32(m.name.encode()) % 100 == 0
                    if is_eval == (split == "eval"):
                        self.items.append((path, m.offset_data, m.size))
        if limit:
            # spread a limited subset over all shards (both sources), deterministically
            step = max(1, len(self.items) // limit)
            self.items = self.items[::step][:limit]
        self.handles = {}
        self.meta = {"source": str(root), "aligned": False}
        self.name = f"shared-raw:{root}:{split}"

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        from PIL import Image

        path, offset, size = self.items[i]
        key = (path, threading.get_ident())  # one file handle per thread: seek+read is not atomic
        if key not in self.handles:
            self.handles[key] = open(path, "rb")
        f = self.handles[key]
        f.seek(offset)
        image = Image.open(io.BytesIO(f.read(size))).convert("RGB")
        if image.size != (self.size, self.size):
            image = image.resize((self.size, self.size), Image.BICUBIC)
        return np.asarray(image)


def open_dataset(data, split, size=128, limit=None, alignment=None):
    """--data: 'aligned' (the default cache of `alignment`, see aligned_cache), 'shared-raw', or a
    cache folder path."""
    if data == "shared-raw":
        return SharedRawFaces(split=split, size=size, limit=limit)
    return AlignedCrops(aligned_cache(alignment, size) if data == "aligned" else data, split, size)


def to_tensor(images):
    """uint8 [B, H, W, 3] -> float [B, 3, H, W] in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1


def augment(x, generator, flip=True, jitter=0.1):
    """Horizontal flip (p = 0.5) and mild colour jitter (brightness, contrast, saturation
    each scaled by U[1 - jitter, 1 + jitter]) on a [-1, 1] batch. Uses its own RNG so
    batches are reproducible from (seed, step) alone."""
    B = x.shape[0]
    r = torch.rand(B, 4, generator=generator)
    if flip:
        x = torch.where((r[:, 0] < 0.5).view(B, 1, 1, 1), x.flip(3), x)
    if jitter > 0:
        f = 1 + (r[:, 1:] * 2 - 1) * jitter                           # [B, 3]
        x = (x + 1) * f[:, 0].view(B, 1, 1, 1) - 1                    # brightness
        mean = x.mean(dim=[1, 2, 3], keepdim=True)
        x = (x - mean) * f[:, 1].view(B, 1, 1, 1) + mean              # contrast
        gray = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        x = (x - gray) * f[:, 2].view(B, 1, 1, 1) + gray              # saturation
        x = x.clamp(-1, 1)
    return x


class BatchStream:
    """Endless batches in a seeded per-epoch permutation. `state` = (epoch, position) of the
    next batch to be consumed, so a resumed run sees exactly the same sequence. Loading
    runs one batch ahead in a background thread (decoding overlaps the training step)."""

    def __init__(self, dataset, batch, seed, state=(0, 0), prefetch=2):
        self.dataset, self.batch, self.seed = dataset, batch, seed
        self.state = tuple(state)
        self._queue = queue.Queue(maxsize=prefetch)
        self._stop = False
        self._thread = threading.Thread(target=self._producer, args=(self.state,), daemon=True)
        self._thread.start()

    def _perm(self, epoch):
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.dataset))

    def _producer(self, state):
        epoch, pos = state
        perm = self._perm(epoch)
        while not self._stop:
            if pos + self.batch > len(perm):   # drop the ragged tail, start a new epoch
                epoch, pos = epoch + 1, 0
                perm = self._perm(epoch)
            idx = perm[pos:pos + self.batch]
            pos += self.batch
            try:
                images = np.stack([self.dataset[int(i)] for i in idx])
            except Exception as e:  # surface loader errors in the training thread
                self._queue.put(e)
                return
            self._queue.put((images, (epoch, pos)))

    def next(self):
        item = self._queue.get()
        if isinstance(item, Exception):
            raise item
        images, self.state = item
        return to_tensor(images)

    def close(self):
        self._stop = True
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass


def fixed_images(dataset, count):
    """The first `count` images of a (held-out) dataset as one [-1, 1] tensor."""
    count = min(count, len(dataset))
    return to_tensor(np.stack([dataset[i] for i in range(count)]))
