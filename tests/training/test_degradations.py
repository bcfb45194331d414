"""The damage functions do what their names claim, at every strength, deterministically."""
from __future__ import annotations

import numpy as np
import pytest

from photocritic.imaging.decode import decode_for_model
from photocritic.models.technical import technical_measures
from photocritic.training.degradations import DAMAGES, STRENGTHS, apply_damage, damage_at, motion_kernel, seed_for


@pytest.fixture(scope="module")
def photo(shared_data) -> np.ndarray:
    return decode_for_model(shared_data / "photos" / "Nikon D3100.jpg").pixels


def measure(pixels, name):
    return technical_measures(pixels)[name]


@pytest.mark.parametrize("damage", DAMAGES)
def test_every_damage_is_deterministic_keeps_the_shape_and_changes_the_photo(photo, damage):
    a = damage_at(photo, damage, 1, seed=7)
    b = damage_at(photo, damage, 1, seed=7)
    assert a.shape == photo.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - photo.astype(int)).mean() > 0.5


@pytest.mark.parametrize(
    "damage, name, direction",
    [
        ("defocus", "sharpness", -1),
        ("motion_blur", "sharpness", -1),
        ("noise", "noise", +1),
        ("underexposure", "exposure_ev", -1),
        ("overexposure", "exposure_ev", +1),
        ("overexposure", "channels_clipped", +1),
        ("low_contrast", "contrast", -1),
        ("desaturation", "saturation", -1),
    ],
)
def test_damage_moves_its_measure_further_with_strength(photo, damage, name, direction):
    values = [measure(photo, name)] + [measure(damage_at(photo, damage, s, seed=1), name) for s in range(3)]
    steps = np.diff(values) * direction
    assert (steps > 0).all(), (damage, values)


def test_jpeg_adds_8x8_block_edges(photo):
    def blockiness(pixels):
        luma = pixels.astype(np.float32).mean(axis=2)
        d = np.abs(np.diff(luma, axis=1))
        at_edges = d[:, 7::8].mean()
        inside = np.delete(d, np.s_[7::8], axis=1).mean()
        return at_edges / inside

    values = [blockiness(photo)] + [blockiness(damage_at(photo, "jpeg", s)) for s in range(3)]
    assert values[3] > values[0] * 1.2 and values[3] > values[1]


def test_channels_clipped_sees_blown_colour_that_luminance_misses():
    image = np.full((40, 60, 3), 90, dtype=np.uint8)
    image[:10, :, 0] = 255  # a saturated red sky: the red channel is blown, its luminance is ~140
    measures = technical_measures(image)
    assert measures["highlights_clipped"] == 0.0
    assert np.isclose(measures["channels_clipped"], 0.25)


def test_white_balance_casts_a_neutral_grey(photo):
    grey = np.full((64, 96, 3), 128, dtype=np.uint8)
    for seed in range(4):
        cast = technical_measures(apply_damage(grey, "white_balance", STRENGTHS["white_balance"][1], seed))["colour_cast"]
        assert cast > 0.05


def test_tilt_rotates_a_horizon():
    image = np.zeros((200, 300, 3), dtype=np.uint8)
    image[100:] = 255  # a level horizon across the middle
    tilted = damage_at(image, "tilt", 2, seed=0)
    rows = [(tilted[:, x].mean(axis=1) > 127).argmax() for x in (60, 240)]  # first bright row, left and right
    assert abs(rows[0] - rows[1]) > 10  # the horizon is no longer level
    assert tilted.shape == image.shape


def test_noise_seeds_differ_and_seed_for_is_stable():
    flat = np.full((32, 32, 3), 100, dtype=np.uint8)
    assert not np.array_equal(apply_damage(flat, "noise", 10, 1), apply_damage(flat, "noise", 10, 2))
    assert seed_for("a.jpg", "noise", 1) == seed_for("a.jpg", "noise", 1) != seed_for("a.jpg", "noise", 2)


def test_motion_kernel_is_a_normalised_streak():
    k = motion_kernel(11, 0.0)
    assert np.isclose(k.sum(), 1.0)
    assert (k.sum(axis=1) > 0).sum() <= 2  # horizontal: one row (two when anti-aliased)


def test_unknown_damage_is_refused(photo):
    with pytest.raises(ValueError):
        apply_damage(photo, "sepia", 1.0)
