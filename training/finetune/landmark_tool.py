"""The runtime's MediaPipe face landmarker (scripts/lib/face-landmarks.mjs, headless Chromium)
called from Python: the scorecard's transfer and the builder's style-only geometry use it, so
both see faces exactly as the runtime does."""
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
LANDMARK_TOOL = REPO / "scripts" / "lib" / "face-landmarks.mjs"


def run_landmark_tool(args):
    """scripts/lib/face-landmarks.mjs on image files: its JSON result per file."""
    done = subprocess.run(["node", str(LANDMARK_TOOL), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"face-landmarks.mjs failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def landmarks(images):
    """MediaPipe landmarks [N, 478, 2] in crop pixels of uint8 NHWC crops (NaN where no face
    was found), from the runtime's landmarker in headless Chromium. The crops' mirrored
    borders can hold a second, partial 'face': the one nearest the crop centre counts."""
    with tempfile.TemporaryDirectory(prefix="scorecard-") as tmp:
        files = []
        for i, im in enumerate(images):
            files.append(str(Path(tmp) / f"{i:04d}.png"))
            Image.fromarray(im).save(files[-1])
        results = run_landmark_tool(["--crop-size", str(images.shape[1]), *files])
    out = np.full((len(images), 478, 2), np.nan, np.float32)
    centre = images.shape[1] / 2
    for i, r in enumerate(results):
        faces = [np.array([[p["x"], p["y"]] for p in f["points"]], np.float32) for f in r.get("faces", [])]
        if faces:
            out[i] = min(faces, key=lambda pts: np.linalg.norm(pts.mean(0) - centre))
    return out
