"""The frame grade's fit (training/finetune/grade.py) against a known chroma map."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from finetune import grade  # noqa: E402
from finetune.losses import inner_face_radius_squared  # noqa: E402


def skin_like(n=6, size=32, seed=0):
    rng = np.random.default_rng(seed)
    base = np.array([0.7, 0.5, 0.4])[None, :, None, None]
    x = base + 0.12 * rng.standard_normal((n, 1, size, size)) + 0.04 * rng.standard_normal((n, 3, size, size))
    return np.clip(x, 0.05, 0.95) * 2 - 1


def chroma_map(images, s, colour):
    """What a grade of opacity 1 - s and this colour does to each pixel (no clipping needed here)."""
    x = (images + 1) / 2
    lum = np.einsum("c,nchw->nhw", grade.LUM, x)[:, None]
    c_out = s * (x - lum) + (1 - s) * (np.array(colour) - np.array(colour) @ grade.LUM)[None, :, None, None]
    return (lum + c_out) * 2 - 1


def test_fit_recovers_opacity_and_chroma_of_a_known_grade():
    inputs = skin_like()
    colour = [0.45, 0.55, 0.52]
    fitted = grade.fit(inputs, chroma_map(inputs, 0.3, colour))
    assert abs(fitted["opacity"] - 0.7) < 1e-3
    want = np.array(colour) - np.array(colour) @ grade.LUM
    got = np.array(fitted["color"]) - np.array(fitted["color"]) @ grade.LUM
    assert np.abs(got - want).max() < 2e-3
    assert all(0 <= v <= 1 for v in fitted["color"])


def test_the_colour_is_the_skins_not_the_painted_features():
    """A style that paints lips and eyes (red and black here, over the centre of the inner face)
    still gets its skin's grade: the seam joins the skin to the graded frame, not the features."""
    inputs = skin_like(size=48)
    colour = [0.6, 0.45, 0.42]
    outputs = chroma_map(inputs, 0.4, colour)
    features = inner_face_radius_squared(48).numpy() < 0.6 ** 2
    outputs[:, 0][:, features], outputs[:, 1:][:, :, features] = 0.8, -0.9
    fitted = grade.fit(inputs, outputs)
    assert abs(fitted["opacity"] - 0.6) < 1e-3
    want = np.array(colour) - np.array(colour) @ grade.LUM
    got = np.array(fitted["color"]) - np.array(fitted["color"]) @ grade.LUM
    assert np.abs(got - want).max() < 2e-3


def test_a_pack_that_keeps_the_camera_colours_gets_no_grade():
    inputs = skin_like(seed=1)
    assert grade.fit(inputs, inputs) is None
    # more saturated than the camera: opacity would be negative, so none either
    assert grade.fit(inputs, chroma_map(inputs, 1.5, [0.5, 0.5, 0.5])) is None


def test_fit_recovers_a_known_tone_and_the_colour_after_it():
    inputs = skin_like(seed=2)
    colour = [0.45, 0.55, 0.52]
    tone = {"gain": 0.9, "offset": 0.12}                       # a paler, flatter style (anime's kind)
    toned = grade.apply_tone(inputs, tone)
    fitted = grade.fit(inputs, chroma_map(toned, 0.4, colour))
    assert abs(fitted["tone"]["gain"] - 0.9) < 0.01
    assert abs(fitted["tone"]["offset"] - 0.12) < 0.01
    assert abs(fitted["opacity"] - 0.6) < 0.01
    # a darker style: the offset as fitted, a colour fitted after it
    darker = grade.fit(inputs, chroma_map(grade.apply_tone(inputs, {"gain": 0.95, "offset": -0.15}), 0.5, colour))
    assert abs(darker["tone"]["gain"] - 0.95) < 0.01 and abs(darker["tone"]["offset"] + 0.15) < 0.01
    assert abs(darker["opacity"] - 0.5) < 0.01
    # a harder style: the frame's contrast is not raised (it would raise its flicker with it); the mean still maps
    harder = grade.fit(inputs, grade.apply_tone(inputs, {"gain": 1.2, "offset": -0.15}))
    assert harder["tone"]["gain"] == 1.0
    mean_in = float(((inputs + 1) / 2).mean(axis=(0, 2, 3)) @ grade.LUM)
    assert abs(harder["tone"]["offset"] - (0.2 * mean_in - 0.15)) < 0.01
    # the tone's limits: a style that blacks out the face does not black out the frame
    extreme = grade.fit(inputs, grade.apply_tone(inputs, {"gain": 2.0, "offset": -0.6}))
    assert grade.TONE_GAIN[0] <= extreme["tone"]["gain"] <= grade.TONE_GAIN[1]
    assert -grade.TONE_OFFSET <= extreme["tone"]["offset"] <= grade.TONE_OFFSET
