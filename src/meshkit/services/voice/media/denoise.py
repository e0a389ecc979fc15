"""Noise suppression of a room's mix (``MESHKIT_VOICE_NOISE_SUPPRESSION``).

Two methods, because they remove different things (measured in
``tests/test_voice_denoise.py``):

``afftdn`` is FFmpeg's FFT denoiser, built into PyAV: it subtracts a stationary noise
spectrum (fan, hiss, hum) below ``MESHKIT_VOICE_NOISE_FLOOR`` and keeps anything steady
above it, tones included. About 0.6% of a core per mixed room.

``rnnoise`` is Xiph's RNNoise (a small recurrent network trained on speech and noise),
through the ``pyrnnoise`` wheel: the optional extra ``meshkit[denoise]``, since its
wheel bundles a 15 MB library and pulls in packages meshkit otherwise does not need.
It runs on 48 kHz mono in 10 ms frames, two per mixing tick, in the mix's worker thread,
at about 0.6 ms of CPU per 10 ms frame (6% of a core per mixed room, measured here):
only the summed mix is cleaned (what the listen stream and recordings carry), never the
forwarded packets, and only while the mix exists. It keeps speech and removes
everything else: a steady tone is "noise" to it and is removed too.
"""

from __future__ import annotations

import ctypes
import fractions
import importlib
import weakref
from collections.abc import Callable
from typing import Any, Literal

import av
import numpy as np

from meshkit.services.voice.media.mix import FRAME, RATE, Denoiser, Pcm

NoiseSuppression = Literal["off", "afftdn", "rnnoise"]
EXTRA = "pip install 'meshkit[denoise]'"


class DenoiseUnavailable(RuntimeError):
    """The configured suppressor cannot be loaded (its optional extra is missing)."""


def _rnnoise() -> Any:
    try:
        return importlib.import_module("pyrnnoise.rnnoise")  # the optional extra
    except (ImportError, OSError) as exc:
        raise DenoiseUnavailable(
            f"MESHKIT_VOICE_NOISE_SUPPRESSION=rnnoise needs pyrnnoise ({EXTRA}): {exc}"
        ) from exc


class Rnnoise:
    """One RNNoise state (it adapts to the noise it hears): one per mix."""

    def __init__(self) -> None:
        self._lib = _rnnoise().lib
        self._frame: int = self._lib.rnnoise_get_frame_size()
        state = self._lib.rnnoise_create(None)
        if not state:
            raise DenoiseUnavailable("rnnoise_create failed")
        self._state = state
        self._finalizer = weakref.finalize(self, self._lib.rnnoise_destroy, state)
        self.speech = 0.0
        """The voice-activity probability RNNoise gave the last frame (0..1)."""

    def __call__(self, pcm: Pcm) -> Pcm:
        """Clean ``pcm`` (int16 mono 48 kHz, a multiple of 480 samples)."""
        samples = pcm.astype(np.float32)  # RNNoise works on int16-scaled floats
        pointer = ctypes.POINTER(ctypes.c_float)
        for start in range(0, samples.size - self._frame + 1, self._frame):
            chunk = samples[start : start + self._frame]
            buffer = chunk.ctypes.data_as(pointer)
            self.speech = float(self._lib.rnnoise_process_frame(self._state, buffer, buffer))
        out: Pcm = np.clip(samples, -32768, 32767).astype(np.int16)
        return out

    def close(self) -> None:
        """Free the state now (else when the object is collected)."""
        self._finalizer()


class Afftdn:
    """FFmpeg's ``afftdn`` over 20 ms frames; what it holds back (its FFT window) comes
    out with later frames, so each call returns exactly one frame, silence at first."""

    def __init__(self, noise_floor: float) -> None:
        graph = av.filter.Graph()
        source = graph.add_abuffer(
            format="s16", sample_rate=RATE, layout="mono", time_base=fractions.Fraction(1, RATE)
        )
        source.link_to(denoise := graph.add("afftdn", f"nr=40:nf={noise_floor:g}"))
        denoise.link_to(fmt := graph.add("aformat", "sample_fmts=s16:channel_layouts=mono"))
        fmt.link_to(graph.add("abuffersink"))
        graph.configure()
        self._graph = graph
        self._pts = 0
        self._pending = np.zeros(0, dtype=np.int16)

    def __call__(self, pcm: Pcm) -> Pcm:
        """Clean one frame of int16 mono 48 kHz."""
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        self._pts += pcm.size
        self._graph.push(frame)
        chunks: list[Any] = [self._pending]
        while True:
            try:
                out = self._graph.pull()
            except (av.BlockingIOError, av.EOFError):
                break
            chunks.append(out.to_ndarray().reshape(-1))
        pending = np.concatenate(chunks)
        if pending.size < pcm.size:
            self._pending = pending
            silence: Pcm = np.zeros(pcm.size, dtype=np.int16)
            return silence
        cleaned: Pcm = pending[: pcm.size].astype(np.int16)
        self._pending = pending[pcm.size :]
        return cleaned


def denoiser_factory(
    mode: NoiseSuppression, noise_floor: float = -50.0
) -> Callable[[], Denoiser] | None:
    """What makes each mix's suppressor for ``mode`` (None for ``off``); checks at once
    that it loads, so a missing extra stops the service at start with the fix named."""
    if mode == "off":
        return None
    if mode == "afftdn":
        Afftdn(noise_floor)(np.zeros(FRAME, dtype=np.int16))
        return lambda: Afftdn(noise_floor)
    Rnnoise().close()
    return Rnnoise
