"""Decoding audio files to mono float32 at one sample rate.

soundfile (libsndfile) reads wav, flac, ogg/vorbis and ogg/opus directly; anything it
cannot read (mp3 on old libsndfile builds, m4a/aac, opus in odd containers) goes through
the ffmpeg binary bundled by ``imageio-ffmpeg``. Both paths give the same thing: a 1-D
float32 array in -1..1 at ``sr``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from ..errors import MediaError

__all__ = ["AUDIO_SUFFIXES", "DEFAULT_SR", "decode", "decode_ffmpeg", "decode_soundfile"]

#: File suffixes the library scanner picks up.
AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".opus", ".oga", ".flac", ".wav", ".aif", ".aiff")

#: Sample rate of every analysis (librosa's default; enough for tempo, key and timbre).
DEFAULT_SR = 22050


def _resample(y: np.ndarray, sr_in: int, sr: int) -> np.ndarray:
    if sr_in == sr:
        return y
    import soxr  # a librosa dependency; fast C resampler

    # "HQ" is ample for analysis and several times faster than "VHQ".
    return soxr.resample(y, sr_in, sr, quality="HQ").astype(np.float32, copy=False)


def decode_soundfile(path: Path | str, *, sr: int = DEFAULT_SR) -> np.ndarray:
    """Decode with soundfile; mono float32 at ``sr``. Raises whatever soundfile raises."""
    import soundfile as sf

    data, sr_in = sf.read(str(path), dtype="float32", always_2d=True)
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return _resample(np.ascontiguousarray(y), int(sr_in), sr)


def decode_ffmpeg(path: Path | str, *, sr: int = DEFAULT_SR, timeout: float = 120.0) -> np.ndarray:
    """Decode with the bundled ffmpeg; mono float32 at ``sr``.

    Raises :class:`MediaError` with ffmpeg's message when it cannot read the file.
    """
    import imageio_ffmpeg

    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path),
            "-vn", "-ac", "1", "-ar", str(sr), "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    try:
        proc = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise MediaError(f"decoding {path} took longer than {timeout:.0f} s") from e
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MediaError(f"cannot decode {path}: {msg[-1] if msg else 'ffmpeg failed'}")
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)


def decode(path: Path | str, *, sr: int = DEFAULT_SR) -> np.ndarray:
    """Decode an audio file to a mono float32 array at ``sr``.

    Parameters
    ----------
    path : the file (any suffix in :data:`AUDIO_SUFFIXES`).
    sr : target sample rate.

    Returns
    -------
    y : np.ndarray, shape (n,), float32.

    Raises :class:`MediaError` when neither soundfile nor ffmpeg can read it, or when the
    file holds no samples.

    Example
    -------
    >>> y = decode("song.opus")            # doctest: +SKIP
    >>> y.shape[0] / DEFAULT_SR            # seconds      # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"no such audio file: {path}")
    try:
        y = decode_soundfile(path, sr=sr)
    except Exception:  # noqa: BLE001 - any libsndfile failure means "try ffmpeg"
        y = decode_ffmpeg(path, sr=sr)
    if y.size == 0:
        raise MediaError(f"{path} holds no audio samples")
    if not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    return y
