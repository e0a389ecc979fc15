"""Noise suppression of the mix, measured: white noise is reduced, what matters is kept."""

from __future__ import annotations

import importlib.util
import platform
import sys

import numpy as np
import pytest

from meshkit.services.voice.media.denoise import Afftdn, DenoiseUnavailable, denoiser_factory
from meshkit.testing import strict

RATE = 48_000
SECONDS = 4


def tone_and_noise(noise: float = 0.05, tone: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(RATE * SECONDS) / RATE
    rng = np.random.default_rng(7)
    clean = tone * np.sin(2 * np.pi * 440 * t)
    noisy = clean + noise * rng.standard_normal(t.size)
    return clean, np.clip(noisy * 32767, -32768, 32767).astype(np.int16)


def run(denoise: object, samples: np.ndarray) -> np.ndarray:
    return np.concatenate([denoise(samples[i : i + 960]) for i in range(0, samples.size, 960)])  # type: ignore[operator]


def snr_db(samples: np.ndarray) -> float:
    """Energy at 440 Hz (±10 Hz) over the rest of the spectrum, after a 1 s settling."""
    settled = samples[RATE:].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(settled)) ** 2
    hz = np.fft.rfftfreq(settled.size, 1 / RATE)
    band = (hz > 430) & (hz < 450)
    return float(10 * np.log10(spectrum[band].sum() / spectrum[~band].sum()))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean((samples[RATE:].astype(np.float64) / 32768) ** 2)))


def test_afftdn_reduces_white_noise_and_keeps_a_tone() -> None:
    clean, noisy = tone_and_noise()
    cleaned = run(Afftdn(-25.0), noisy)
    before, after = snr_db(noisy), snr_db(cleaned)
    assert after - before > 10, (before, after)  # measured: 12.6 -> 27.7 dB
    assert abs(rms(cleaned) / (np.sqrt(np.mean(clean**2))) - 1) < 0.15  # the tone's level kept
    _, noise_only = tone_and_noise(tone=0.0)
    assert rms(run(Afftdn(-25.0), noise_only)) < rms(noise_only) / 5  # measured: -20 dB


def test_off_is_nothing_and_a_missing_extra_is_named() -> None:
    assert denoiser_factory("off") is None
    factory = denoiser_factory("afftdn", -30.0)
    assert factory is not None
    assert factory()(np.zeros(960, dtype=np.int16)).shape == (960,)
    if importlib.util.find_spec("pyrnnoise") is None:
        with pytest.raises(DenoiseUnavailable, match=r"meshkit\[denoise\]"):
            denoiser_factory("rnnoise")


def test_rnnoise_removes_white_noise_and_keeps_speech_only() -> None:
    if importlib.util.find_spec("pyrnnoise") is None:
        reason = "pyrnnoise (the optional extra meshkit[denoise]) is not installed"
        if strict() and platform.machine() == "x86_64" and sys.platform == "linux":
            pytest.fail(f"{reason}, but .[dev] installs it on this platform")
        pytest.skip(reason)
    factory = denoiser_factory("rnnoise")
    assert factory is not None
    _, noise_only = tone_and_noise(tone=0.0)
    assert rms(run(factory(), noise_only)) < rms(noise_only) / 20  # measured: -34 dB
    # RNNoise keeps speech only: a steady tone is noise to it (measured: removed too)
    _, noisy = tone_and_noise()
    assert rms(run(factory(), noisy)) < rms(noisy) / 10
