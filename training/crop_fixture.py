"""The crop-sampling fixture: a small image, three crop transforms (inside the photo, rotated,
mostly outside it) and the crops dataset preparation cuts from them, before rounding. The SDK's
CPU crop is tested against it (packages/sdk/test/cpu-crop.test.ts), and the trainer's test checks
the committed file still matches prepare_data.py: together they keep runtime and training crops equal.

    /usr/bin/python3 training/crop_fixture.py    # rewrites packages/sdk/test/fixtures/crop-sampling.json
"""

import json
from pathlib import Path

import numpy as np

from prepare_data import FACE_CORE_FRAMING, reframe, sample_crop

FIXTURE = Path(__file__).resolve().parent.parent / "packages/sdk/test/fixtures/crop-sampling.json"
SIZE = 8


def build_fixture() -> dict:
    rng = np.random.default_rng(7)
    height, width = 14, 20
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    cases = []
    for name, crop_from_image in [
        ("inside", [0.9, 0.0, -4.0, 0.0, 0.9, -2.5]),
        ("rotated-and-shrunk", [0.55 * np.cos(0.4), 0.55 * np.sin(0.4), -3.0, -0.55 * np.sin(0.4), 0.55 * np.cos(0.4), 1.5]),
        ("outside-mirrored", [1.3, 0.2, 6.0, -0.1, 1.2, 9.0]),
    ]:
        crop, outside = sample_crop(rgb, crop_from_image, SIZE)
        cases.append({
            "name": name,
            "cropFromImage": [float(v) for v in crop_from_image],
            "outside": round(outside, 4),
            "crop": [round(float(v), 4) for v in crop.numpy().reshape(-1)],  # [S, S, 3], 0..255
        })
    # face-core-v1 reframing of an ffhq-v1 matrix (the TS reframe() must give the same matrix)
    ffhq = [0.31, 0.05, -12.0, -0.05, 0.31, -20.0]
    framing = {"framing": FACE_CORE_FRAMING, "size": 128, "ffhqCropFromImage": ffhq,
               "faceCoreCropFromImage": [round(v, 9) for v in reframe(ffhq, 128, "face-core-v1")]}
    return {"width": width, "height": height, "size": SIZE, "rgb": rgb.reshape(-1).tolist(), "cases": cases,
            "faceCore": framing}


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(build_fixture(), separators=(",", ":")) + "\n")
    print(f"wrote {FIXTURE}")
