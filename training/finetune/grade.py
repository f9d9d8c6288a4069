"""A pack's frame grade (packages/sdk/src/blend/grade.ts): the style's colour world over the whole
frame, fitted to what the pack's generator does to faces' chroma.

The runtime lays one flat colour over the frame in the W3C `color` blend mode at an opacity:
each pixel keeps its luminosity and its chroma (RGB minus Lum) becomes
(1 - opacity) * chroma + opacity * chroma(colour). So the fit is a linear model of chroma,
out = s * in + k, over the skin band of held-out faces (input crop -> the pack's output at
alpha 0, where the warps are off and the pixels correspond): s from the ratio of the chroma
spreads (the style's own saturation; a regression slope would be diluted by the style's strokes,
which do not follow the camera), k so that the mean skin chroma maps onto the pack's. The skin
band is the outer part of the inner face (cheeks, jaw, temples, forehead), without the eyes,
brows and lips: it is the skin the outline's seam joins to the graded neck and forehead beyond
it. Fitted over the whole inner face, a style that paints lips red and eyes dark (pixar-3d)
got a grade between its skin and its features, and its salmon cheeks met a paler graded neck
(colour step across the outline 15.9 levels on talking-1, camera 6.1; session 28).
Then opacity = 1 - s and chroma(colour) = k / opacity.

Before the colour, the style's tone (each sRGB component c -> gain * c + offset): the brightness
and contrast the pack gives faces, fitted as moments of their luminosity over the same pixels
(gain = ratio of spreads, offset so that the mean maps onto the pack's); the chroma fit then
starts from the toned inputs. Without it the runtime's seam match gave every face the camera's
brightness back (an anime face pale in the crop came out at the camera's skin tone).

    /usr/bin/python3 training/finetune/grade.py models/packs/ID...   # (re)fit packs' grades in place
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from finetune.losses import inner_face_mask, inner_face_radius_squared  # noqa: E402

LUM = np.array([0.3, 0.59, 0.11])    # the W3C compositing Lum() weights (grade.ts)
MIN_OPACITY = 0.05                   # below this the grade is not worth a pass over the frame
# A style's contrast over the whole frame: flatter than the camera's at most to 0.75, never harder.
# A harder tone hardens every change from frame to frame with it (the default pack's flicker ratio
# on talking-1: 1.21 -> 1.51 at gain 1.25, `npm run eval:display`, session 20); the pack's own
# bolder drawing stays in the face.
TONE_GAIN = (0.75, 1.0)
TONE_OFFSET = 0.3                    # and its brightness shift (manifest limits are wider: 0.5-1.5, +-0.4)
MIN_TONE = 0.01                      # a tone closer than this to the identity is left out


SKIN_BAND = 0.78   # of the inner face ellipse's radius: the eyes, brows and mouth lie inside it


def skin_band_mask(size):
    """[S * S] bool: the inner face ellipse outside SKIN_BAND of its radius."""
    r2 = inner_face_radius_squared(size).numpy()
    return ((r2 > SKIN_BAND ** 2) & (r2 <= 1)).reshape(-1)


def masked_pixels(images, mask):
    """[K, 3] RGB in [0, 1] of the pixels under `mask` of [N, 3, S, S] images in [-1, 1]."""
    x = ((np.asarray(images, np.float64) + 1) / 2).clip(0, 1)
    return x.transpose(1, 0, 2, 3).reshape(3, len(x), -1)[:, :, mask].reshape(3, -1).T


def chroma(images, mask):
    """[K, 3] chroma (RGB minus Lum) of the pixels under `mask`."""
    x = masked_pixels(images, mask)
    return x - (x @ LUM)[:, None]


def clip_color(c):
    """W3C ClipColor: the colour moved toward its own Lum until it is inside [0, 1]."""
    lum = float(c @ LUM)
    lo, hi = float(c.min()), float(c.max())
    if lo < 0:
        c = lum + (c - lum) * lum / (lum - lo)
    if hi > 1:
        c = lum + (c - lum) * (1 - lum) / (hi - lum)
    return c


def fit_tone(inputs, outputs, mask):
    """{"gain", "offset"} of the tone (or None), from the luminosity of the masked pixels."""
    l_in, l_out = masked_pixels(inputs, mask) @ LUM, masked_pixels(outputs, mask) @ LUM
    gain = float(np.clip(l_out.std() / max(l_in.std(), 1e-6), *TONE_GAIN))
    offset = float(np.clip(l_out.mean() - gain * l_in.mean(), -TONE_OFFSET, TONE_OFFSET))
    if abs(gain - 1) < MIN_TONE and abs(offset) < MIN_TONE:
        return None
    return {"gain": round(gain, 4), "offset": round(offset, 4)}


def apply_tone(images, tone):
    """[N, 3, S, S] images in [-1, 1] through the tone (as the runtime draws it, clamped)."""
    if not tone:
        return np.asarray(images)
    x = ((np.asarray(images, np.float64) + 1) / 2 * tone["gain"] + tone["offset"]).clip(0, 1)
    return x * 2 - 1


def fit(inputs, outputs):
    """The grade ({"color": [r, g, b], "opacity": o[, "tone": {"gain", "offset"}]}, or None when
    the pack keeps the camera's colours and tone) from input crops and the pack's outputs at
    alpha 0, both [N, 3, S, S] in [-1, 1]."""
    size = np.shape(inputs)[-1]
    tone = fit_tone(inputs, outputs, inner_face_mask(size)[0, 0].numpy().reshape(-1) > 0)
    skin = skin_band_mask(size)
    c_in, c_out = chroma(apply_tone(inputs, tone), skin), chroma(outputs, skin)
    m_in, m_out = c_in.mean(0), c_out.mean(0)
    spread_in = ((c_in - m_in) ** 2).sum()
    s = float(np.clip(np.sqrt(((c_out - m_out) ** 2).sum() / max(spread_in, 1e-12)), 0, 1))
    opacity = 1 - s
    if opacity < MIN_OPACITY:
        return {"color": [0.5, 0.5, 0.5], "opacity": 0, "tone": tone} if tone else None
    target = (m_out - s * m_in) / opacity          # the colour's chroma
    color = clip_color(0.5 + target - float(target @ LUM))
    grade = {"color": [round(float(v), 4) for v in color], "opacity": round(opacity, 4)}
    return {**grade, "tone": tone} if tone else grade


def refit(pack_dirs, faces=48, seed=0, data="aligned"):
    """Fits each pack's grade on `faces` held-out crops and writes it into its manifest.json."""
    from finetune.scorecard import BASE, base_crop   # (heavy imports only for the CLI)
    from finetune.networks import LatentPool
    import export

    held_out = LatentPool.real_faces(faces, "eval", seed, data, *base_crop()).numpy()
    codes, _ = export.run_ort(BASE / "encoder.onnx", {"image": held_out}, runs=0)
    for pack in map(Path, pack_dirs):
        manifest_path = pack / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        out, _ = export.run_ort(pack / manifest["files"]["generator"]["path"],
                                {"w_plus": codes["w_plus"], "features": codes["features"],
                                 "alpha": np.array([0.0], np.float32)}, runs=0)
        grade = fit(held_out, out["image"])
        manifest.pop("grade", None)
        if grade:
            manifest["grade"] = grade
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"{manifest['id']}: {grade}", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("packs", nargs="+", help="pack directories whose manifest.json gets the grade")
    ap.add_argument("--faces", type=int, default=48)
    ap.add_argument("--data", default="aligned")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    refit(args.packs, args.faces, data=args.data)


if __name__ == "__main__":
    main()
