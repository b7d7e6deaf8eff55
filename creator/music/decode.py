"""Decoding audio files to mono float32 at one sample rate.

soundfile (libsndfile) reads wav, flac, ogg/vorbis and ogg/opus directly; anything it
cannot read (mp3 on old libsndfile builds, m4a/aac, opus in odd containers) goes through
the ffmpeg binary bundled by ``imageio-ffmpeg``. Both paths give the same thing: a 1-D
float32 array in -1..1 at ``sr``.

A long track is never decoded whole for analysis: :func:`probe_duration` reads its length
without decoding it (the header, else one streamed pass that keeps nothing), and
:func:`decode_windows` decodes only the windows asked for, one at a time (a seek in
soundfile, an input seek in ffmpeg).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..errors import MediaError

__all__ = ["AUDIO_SUFFIXES", "DEFAULT_SR", "decode", "decode_ffmpeg", "decode_soundfile",
           "probe_duration", "decode_windows"]

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


def decode_soundfile(path: Path | str, *, sr: int = DEFAULT_SR, max_seconds: float | None = None
                     ) -> np.ndarray:
    """Decode with soundfile; mono float32 at ``sr`` (at most ``max_seconds`` from the
    start when given). Raises whatever soundfile raises."""
    import soundfile as sf

    if max_seconds is None:
        data, sr_in = sf.read(str(path), dtype="float32", always_2d=True)
    else:
        with sf.SoundFile(str(path)) as f:
            sr_in = f.samplerate
            data = f.read(int(max_seconds * sr_in), dtype="float32", always_2d=True)
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return _resample(np.ascontiguousarray(y), int(sr_in), sr)


def decode_ffmpeg(path: Path | str, *, sr: int = DEFAULT_SR, timeout: float = 120.0,
                  offset: float | None = None, duration: float | None = None) -> np.ndarray:
    """Decode with the bundled ffmpeg; mono float32 at ``sr`` (only ``duration`` seconds
    from ``offset`` when given).

    Raises :class:`MediaError` with ffmpeg's message when it cannot read the file.
    """
    import imageio_ffmpeg

    window = []
    if offset is not None:
        window += ["-ss", f"{max(0.0, offset):.3f}"]
    if duration is not None:
        window += ["-t", f"{max(0.0, duration):.3f}"]
    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", *window, "-i", str(path),
            "-vn", "-ac", "1", "-ar", str(sr), "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    try:
        proc = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise MediaError(f"decoding {path} took longer than {timeout:.0f} s") from e
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MediaError(f"cannot decode {path}: {msg[-1] if msg else 'ffmpeg failed'}")
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)


def decode(path: Path | str, *, sr: int = DEFAULT_SR, max_seconds: float | None = None) -> np.ndarray:
    """Decode an audio file to a mono float32 array at ``sr``.

    Parameters
    ----------
    path : the file (any suffix in :data:`AUDIO_SUFFIXES`).
    sr : target sample rate.
    max_seconds : decode at most this much from the start (memory stays bounded even
        when a header understates the length).

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
        y = decode_soundfile(path, sr=sr, max_seconds=max_seconds)
    except Exception:  # noqa: BLE001 - any libsndfile failure means "try ffmpeg"
        y = decode_ffmpeg(path, sr=sr, duration=max_seconds)
    if y.size == 0:
        raise MediaError(f"{path} holds no audio samples")
    if not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    return y


#: libsndfile reports this many frames (SF_COUNT_MAX) when it does not know the length.
_UNKNOWN_FRAMES = 1 << 62


def _sf_duration(path: Path) -> float | None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - not a libsndfile format: ask ffmpeg
        return None
    if info.samplerate <= 0 or not 0 < info.frames < _UNKNOWN_FRAMES:
        return None
    return info.frames / info.samplerate


def _ffmpeg_duration(path: Path, *, timeout: float = 600.0, exact: bool = False) -> float | None:
    """The container's duration as ffmpeg reads it (unless ``exact``, or ffmpeg only
    estimates it from the bitrate and it is long), else the length of one streamed
    decode at a low rate (nothing is kept: memory stays flat), else None."""
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    try:
        head = subprocess.run([exe, "-nostdin", "-hide_banner", "-i", str(path)], capture_output=True,
                              timeout=60, check=False).stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None
    if "Audio:" not in head:
        return None
    m = re.search(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", head)
    if m and not exact:
        h, mi, se = m.groups()
        d = int(h) * 3600 + int(mi) * 60 + float(se)
        from .analysis import LONG_TRACK_S

        # an estimate from the bitrate (headerless mp3/aac) is kept for a track that will be
        # decoded whole anyway; a long one is measured, so its windows lie inside it
        if "Estimating duration" not in head or d <= LONG_TRACK_S:
            return d
    rate = 8000  # count samples of a cheap decode: s16 mono at 8 kHz
    proc = subprocess.Popen([exe, "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "1",
                             "-ar", str(rate), "-f", "s16le", "pipe:1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    try:
        while block := proc.stdout.read(1 << 20):
            n += len(block)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return n / 2 / rate if proc.returncode == 0 and n else None


def probe_duration(path: Path | str, *, exact: bool = False) -> float | None:
    """Length of an audio file in seconds, without decoding it into memory.

    From libsndfile's header, else ffmpeg's, else (or with ``exact``) one streamed decode
    that keeps nothing. None when neither can read the file (decoding it then raises the
    reason).
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"no such audio file: {path}")
    d = None if exact else _sf_duration(path)
    return d if d is not None else _ffmpeg_duration(path, exact=exact)


def decode_windows(path: Path | str, starts: Sequence[float], length: float, *,
                   sr: int = DEFAULT_SR) -> Iterator[tuple[float, np.ndarray]]:
    """Decode ``length`` seconds from each of ``starts``, one window at a time.

    Yields ``(start, samples)``: mono float32 at ``sr``, as :func:`decode` gives. Only
    one window is held at a time. soundfile seeks when it can read the file; ffmpeg
    seeks on its input otherwise. Raises :class:`MediaError` when neither can.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"no such audio file: {path}")
    import soundfile as sf

    try:
        f = sf.SoundFile(str(path))
    except Exception:  # noqa: BLE001 - not a libsndfile format
        f = None
    if f is not None:
        with f:
            for start in starts:
                try:
                    f.seek(max(0, int(start * f.samplerate)))
                    data = f.read(int(round(length * f.samplerate)), dtype="float32", always_2d=True)
                except Exception:  # noqa: BLE001 - seeking failed: this window through ffmpeg
                    yield float(start), decode_ffmpeg(path, sr=sr, offset=start, duration=length)
                    continue
                y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
                del data
                y = np.nan_to_num(_resample(np.ascontiguousarray(y), int(f.samplerate), sr),
                                  nan=0.0, posinf=0.0, neginf=0.0)
                yield float(start), y
        return
    for start in starts:
        y = decode_ffmpeg(path, sr=sr, offset=start, duration=length)
        yield float(start), np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
