"""Audio descriptors of a track, as plain functions over arrays.

One magnitude STFT is computed per track and nearly everything is derived from it (mel
spectrogram, onset envelope, chroma, RMS, centroid, a cheap harmonic/percussive split on
the mel bands); only the key reads a second, long STFT with few frames (bass notes need
fine frequency bins). That keeps the analysis well above 60x realtime on one core.

The entry point is :func:`analyse` (mono samples in, :class:`TrackAnalysis` out); the
other functions are its steps and can be used on their own with precomputed inputs.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ANALYSIS_VERSION",
    "HOP",
    "N_FFT",
    "TrackAnalysis",
    "analyse",
    "stft_magnitude",
    "onset_envelope",
    "tempo_and_beats",
    "estimate_tempo",
    "downbeats",
    "key_and_mode",
    "key_chroma",
    "percussive_ratio",
    "energy_curve",
    "descriptor_vector",
    "DESCRIPTOR_NAMES",
    "BAND_EDGES",
    "CURVE_STEP",
    "N_MFCC",
    "TEMPO_BANDS",
    "tempo_bands",
    "choose_excerpt",
    "LONG_TRACK_S",
    "WINDOW_S",
    "N_WINDOWS",
    "window_starts",
    "analyse_windows",
]

#: Bump when the analysis changes, so that indexes re-analyse their tracks.
ANALYSIS_VERSION = 3
N_FFT = 2048
HOP = 512
#: Resolution of the stored energy curve, seconds.
CURVE_STEP = 0.5
#: Edges (Hz) of the bands whose energy shares are stored in ``TrackAnalysis.bands``.
BAND_EDGES = (0, 150, 400, 1000, 2500, 6000, 11025)
#: Octave bands of the spectral contrast (librosa's ``fmin``/``n_bands``): 6 bands + the rest.
CONTRAST_FMIN = 100.0
CONTRAST_BANDS = 6
#: Centres (BPM, 1.2x apart, fixed in advance, not fitted) of the tempo bands of
#: :func:`tempo_bands`, and their width in octaves.
TEMPO_BANDS = (60, 72, 86, 103, 124, 148, 178)
TEMPO_BAND_WIDTH = 0.25
#: How many MFCCs (after c0) are summarised.
N_MFCC = 12
#: Frames per block of the STFT and the per-frame statistics (memory, not results).
FRAME_BLOCK = 4096
#: Tracks longer than LONG_TRACK_S seconds are not decoded whole: N_WINDOWS windows of
#: WINDOW_S seconds, evenly spaced from the start to the end, are decoded and analysed
#: one at a time and their descriptors combined (:func:`analyse_windows`), so memory and
#: time stay bounded whatever the length (a DJ mix, a 3 h ambient track). Beats, downbeats
#: and the energy curve then exist inside those windows only, and excerpts are chosen
#: inside one window (:func:`choose_excerpt`). Shorter tracks are analysed whole.
LONG_TRACK_S = 480.0
WINDOW_S = 60.0
N_WINDOWS = 6

_KEYS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
# Key profiles of Albrecht & Shanahan (2013, "The use of large corpora to train a new
# type of key-finding algorithm"): pitch-class distributions of major / minor pieces, C
# tonic. On the 28 demo tracks they found the recorded key and mode more often than the
# Krumhansl-Kessler probe-tone profiles (key 0.64 vs 0.50, mode 0.82 vs 0.79).
_MAJOR = np.array([0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081])
_MINOR = np.array([0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052])
#: Chroma for the key comes from a long STFT (2.7 Hz bins at 22.05 kHz: semitones are
#: resolved down to the bass), and the bass chroma (below BASS_HZ) adds BASS_WEIGHT x its
#: share at the candidate tonic: the tonic is the usual bass note, which is what tells
#: a minor key from its relative major (same notes).
KEY_N_FFT = 8192
BASS_HZ = (30.0, 250.0)
BASS_WEIGHT = 0.3


class TrackAnalysis(BaseModel):
    """What the analysis found in one track. Times in seconds from the track start."""

    model_config = ConfigDict(extra="forbid")

    version: int = ANALYSIS_VERSION
    duration: float
    silent: bool = False
    tempo: float | None = None  # beats per minute
    beats: list[float] = Field(default_factory=list)
    downbeats: list[float] = Field(default_factory=list)
    beats_per_bar: int = 4
    energy_curve: list[float] = Field(default_factory=list)  # RMS every CURVE_STEP s, 0..1 (track max = 1)
    loudness_db: float = -80.0  # mean RMS in dBFS
    dynamic_range_db: float = 0.0  # 90th - 10th percentile of frame RMS, dB
    brightness: float = 0.0  # mean spectral centroid, Hz
    rolloff: float = 0.0  # mean 85% roll-off, Hz
    flatness: float = 0.0  # mean spectral flatness, 0..1 (noise-like = 1)
    percussiveness: float = 0.0  # percussive share of the mel energy, 0..1
    onset_rate: float = 0.0  # detected onsets per second
    beat_strength: float = 0.0  # onset strength on beats / mean onset strength
    low_energy: float = 0.0  # share of frames quieter than the mean RMS
    bass: float = 0.0  # share of the energy below 250 Hz
    bands: list[float] = Field(default_factory=list)  # energy shares of BAND_EDGES bands
    flux: float = 0.0  # mean onset strength (spectral flux of the mel dB spectrogram)
    flux_high: float = 0.0  # mean positive flux of the upper mel bands (hi-hats, strums)
    harmonic_change: float = 0.0  # mean frame-to-frame chroma change per second
    # timbre and texture summaries (version 2); all from the same STFT
    mfcc_mean: list[float] = Field(default_factory=list)  # MFCC 1..12 (c0 = level left out), mean
    mfcc_std: list[float] = Field(default_factory=list)  # MFCC 1..12, standard deviation over time
    contrast: list[float] = Field(default_factory=list)  # spectral contrast of CONTRAST_BANDS, dB
    tempo_confidence: float = 0.0  # onset autocorrelation at the beat period / at lag 0, 0..1
    onset_cv: float = 0.0  # variation of the onset rate over 4 s windows (std / mean)
    energy_std: float = 0.0  # std of the energy curve (0..1): how much the level moves
    chroma_entropy: float = 0.0  # mean normalised entropy of the chroma frames (0: one note, 1: noise)
    key: str | None = None  # e.g. "A"
    mode: str | None = None  # "major" or "minor"
    mode_strength: float = 0.0  # best major minus best minor key score (>0: major)
    key_strength: float = 0.0  # correlation of the best key profile
    moods: dict[str, float] = Field(default_factory=dict)  # filled by creator.music.mood
    valence: float = 0.5
    arousal: float = 0.5
    # [start, end] of each analysed window (s) when the track was longer than LONG_TRACK_S;
    # empty: the whole track was analysed. Beats and downbeats lie inside these windows,
    # and energy_curve holds one equal block of steps per window, in order.
    windows: list[list[float]] = Field(default_factory=list)


def stft_magnitude(y: np.ndarray, *, n_fft: int = N_FFT, hop_length: int = HOP,
                   block: int | None = None) -> np.ndarray:
    """Magnitude STFT (centred frames, zero padding), shape (1 + n_fft // 2, frames), float32.

    Computed ``block`` frames at a time (default FRAME_BLOCK) into the result, so the
    complex STFT of the whole signal is never held; the values are librosa's.
    """
    import librosa

    block = block or FRAME_BLOCK
    n = 1 + y.size // hop_length
    if n <= block:
        return np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)).astype(np.float32)
    yp = np.pad(y, n_fft // 2, mode="constant")
    out = np.empty((1 + n_fft // 2, n), dtype=np.float32)
    for i in range(0, n, block):
        j = min(n, i + block)
        seg = yp[i * hop_length:(j - 1) * hop_length + n_fft]
        out[:, i:j] = np.abs(librosa.stft(seg, n_fft=n_fft, hop_length=hop_length, center=False))
    return out


def onset_envelope(mel_db: np.ndarray, *, sr: int, hop_length: int = HOP) -> np.ndarray:
    """Onset strength (spectral flux of a mel spectrogram in dB), shape (frames,)."""
    import librosa

    return librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=hop_length)


#: Global tempo search range (BPM), and the metrical levels the comb reads: (multiple of
#: the beat period, weight). Half a beat counts half: eighth notes support a beat, but
#: they must not make a slower, three-eighths "beat" look as good as the real one.
TEMPO_RANGE = (50.0, 200.0)
METRIC_LEVELS = ((0.5, 0.5), (1, 1.0), (2, 1.0), (4, 1.0), (8, 1.0))
#: A weak log-normal preference for tempi near TEMPO_PRIOR_BPM (penalty per octave^2).
#: Studies of preferred/perceived tempo put its centre between 100 and 120 BPM; 110 and
#: the weights were chosen on the recorded tempi of the 28 demo tracks together with
#: synthetic grooves (tests/factories.make_song) at 70-160 BPM.
TEMPO_PRIOR_BPM = 110.0
TEMPO_PRIOR_WEIGHT = 0.2
_TEMPO_GRID = np.exp(np.linspace(np.log(TEMPO_RANGE[0]), np.log(TEMPO_RANGE[1]), 480))


def _autocorrelation(x: np.ndarray) -> np.ndarray:
    """Autocorrelation of the mean-removed ``x`` (lags 0..n-1) over its value at lag 0."""
    x = np.asarray(x, dtype=np.float64) - float(np.mean(x))
    n = x.size
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    return ac / ac[0] if ac[0] > 0 else ac


def estimate_tempo(onset_env: np.ndarray, *, sr: int, hop_length: int = HOP) -> float | None:
    """The global tempo (BPM) of an onset envelope, or None when it has no pulse.

    A beat period is credible when the onsets repeat at one, two, four and eight beats
    (beat, half bar, bar, two bars) and, less strictly, at half a beat: each candidate
    tempo is scored by the weighted mean autocorrelation peak at those lags
    (METRIC_LEVELS), minus a weak preference for tempi near TEMPO_PRIOR_BPM. Reading the bar levels is what removes the 4/3 errors of a
    single-lag tracker (a dotted-eighth pulse repeats at 3/4 of a beat, never at a bar).
    """
    if onset_env.size < 16 or float(np.max(onset_env)) <= 1e-6:
        return None
    ac = _autocorrelation(onset_env)
    # the best value within one frame of each lag (the peak rarely falls on a frame)
    peak = np.maximum(np.maximum(ac, np.roll(ac, 1)), np.roll(ac, -1))
    peak[0] = 0.0
    fps = sr / hop_length
    periods = 60.0 / _TEMPO_GRID * fps  # frames per beat
    score = np.zeros(_TEMPO_GRID.size)
    weight = np.zeros(_TEMPO_GRID.size)
    limit = int(0.75 * ac.size)  # longer lags rest on too few frames to be trusted
    for k, w in METRIC_LEVELS:
        lag = np.round(k * periods).astype(int)
        ok = lag < limit
        score[ok] += w * peak[lag[ok]]
        weight[ok] += w
    valid = weight > 0
    if not np.any(valid):
        return None
    score = np.where(valid, score / np.maximum(weight, 1e-9), -np.inf)
    score -= TEMPO_PRIOR_WEIGHT * np.log2(_TEMPO_GRID / TEMPO_PRIOR_BPM) ** 2
    best = int(np.argmax(score))
    return float(_TEMPO_GRID[best]) if score[best] > 0 else None


def tempo_and_beats(onset_env: np.ndarray, *, sr: int, hop_length: int = HOP
                    ) -> tuple[float | None, np.ndarray]:
    """Tempo (BPM) and beat times (s) from an onset envelope.

    The global tempo comes from :func:`estimate_tempo`; librosa's dynamic-programming
    tracker then places beats at that tempo. Its beats sit on the frame grid, so each is
    moved to the parabolic peak of the onset envelope within two frames, and the tempo
    returned is the slope of a straight line through the tracked beats (sub-frame).
    """
    import librosa

    if onset_env.size < 8 or float(onset_env.max()) <= 1e-6:
        return None, np.zeros(0)
    bpm = estimate_tempo(onset_env, sr=sr, hop_length=hop_length)
    kwargs = {"bpm": bpm} if bpm else {}
    _, frames = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr, hop_length=hop_length,
                                        trim=False, **kwargs)
    frames = np.asarray(frames, dtype=int)
    if frames.size < 4:
        return None, np.zeros(0)
    refined = []
    n = onset_env.size
    for f in frames:
        lo, hi = max(0, f - 2), min(n, f + 3)
        k = lo + int(np.argmax(onset_env[lo:hi]))
        if 0 < k < n - 1:
            a, b, c = onset_env[k - 1], onset_env[k], onset_env[k + 1]
            den = a - 2 * b + c
            off = 0.5 * (a - c) / den if den < 0 else 0.0
            refined.append(k + float(np.clip(off, -0.5, 0.5)))
        else:
            refined.append(float(k))
    # Beats the tracker extrapolated into silence (start, end) carry no onset: drop them.
    strength = onset_env[frames]
    strong = np.nonzero(strength >= 0.1 * float(np.median(strength)))[0]
    if strong.size:
        refined = refined[strong[0]: strong[-1] + 1]
    # The flux of a centred frame peaks about one frame after the onset that caused it.
    times = (np.asarray(refined) - 1.0) * hop_length / sr
    times = np.unique(np.round(np.clip(times, 0.0, None), 4))
    if times.size < 4:
        return None, times
    # Robust line fit: drop intervals far from the median before fitting.
    ibi = np.diff(times)
    med = float(np.median(ibi))
    idx = np.concatenate([[0], np.cumsum(np.round(ibi / med))])
    slope, _ = np.polyfit(idx, times, 1)
    tempo = 60.0 / float(slope) if slope > 0 else None
    return tempo, times


def downbeats(beats: np.ndarray, onset_env: np.ndarray, low_env: np.ndarray, chroma: np.ndarray,
              *, sr: int, hop_length: int = HOP, beats_per_bar: int = 4) -> np.ndarray:
    """Beat times that start a bar: the phase (of ``beats_per_bar``) whose beats carry the
    strongest accents, bass and harmonic changes."""
    if beats.size < beats_per_bar:
        return beats[:1]
    frames = np.clip(np.round(beats * sr / hop_length).astype(int), 0, onset_env.size - 1)
    acc = onset_env[frames] / (onset_env.mean() + 1e-9)
    bass = low_env[frames] / (low_env.mean() + 1e-9)
    ch = chroma / (np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9)
    prev = np.clip(frames - 4, 0, None)
    change = 1.0 - np.sum(ch[:, frames] * ch[:, prev], axis=0)
    change = change / (change.mean() + 1e-9)
    score = acc + bass + change
    phase = max(range(beats_per_bar), key=lambda p: float(score[p::beats_per_bar].mean()))
    return beats[phase::beats_per_bar]


def key_chroma(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean chroma (12,) of ``y`` and of its bass (below BASS_HZ), from one long STFT."""
    import librosa

    S = np.abs(librosa.stft(y, n_fft=KEY_N_FFT, hop_length=KEY_N_FFT // 2)) ** 2
    freqs = librosa.fft_frequencies(sr=sr, n_fft=KEY_N_FFT)
    chroma = librosa.feature.chroma_stft(S=S, sr=sr, n_fft=KEY_N_FFT, tuning=0.0).mean(axis=1)
    low = ((freqs >= BASS_HZ[0]) & (freqs < BASS_HZ[1]))[:, None]
    bass = librosa.feature.chroma_stft(S=S * low, sr=sr, n_fft=KEY_N_FFT, tuning=0.0).mean(axis=1)
    return chroma, bass


def key_and_mode(chroma_mean: np.ndarray, bass_chroma: np.ndarray | None = None
                 ) -> tuple[str, str, float, float]:
    """Key, mode, mode strength and key strength from a mean chroma vector (12,).

    Each of the 24 keys scores the correlation of the chroma with its rotated profile
    (Albrecht-Shanahan), plus, given ``bass_chroma``, BASS_WEIGHT x the bass share of its
    tonic (relative to the strongest bass pitch class). ``mode strength`` is the best
    major score minus the best minor one (>0: major); ``key strength`` the best
    correlation.
    """
    chroma_mean = np.asarray(chroma_mean, dtype=np.float64)
    if not np.any(chroma_mean - chroma_mean.mean()):
        return _KEYS[0], "major", 0.0, 0.0
    bass = np.zeros(12)
    if bass_chroma is not None and float(np.max(bass_chroma)) > 1e-9:
        bass = np.asarray(bass_chroma, dtype=np.float64) / float(np.max(bass_chroma))
    best = {}
    for mode, prof in (("major", _MAJOR), ("minor", _MINOR)):
        corr = np.nan_to_num([np.corrcoef(chroma_mean, np.roll(prof, k))[0, 1] for k in range(12)])
        score = corr + BASS_WEIGHT * bass
        k = int(np.argmax(score))
        best[mode] = (k, float(score[k]), float(corr[k]))
    mode = "major" if best["major"][1] >= best["minor"][1] else "minor"
    return _KEYS[best[mode][0]], mode, best["major"][1] - best["minor"][1], best[mode][2]


def percussive_ratio(mel_power: np.ndarray) -> float:
    """Share of mel energy in the percussive part of a median-filter HPSS.

    Done on the mel bands (tens of rows) instead of the full STFT: the same split at a
    small fraction of the cost.
    """
    import librosa

    h, p = librosa.decompose.hpss(mel_power, kernel_size=(17, 9))
    tot = float(h.sum() + p.sum())
    return float(p.sum() / tot) if tot > 0 else 0.0


def _tempo_confidence(onset_env: np.ndarray, tempo: float | None, frames_per_s: float) -> float:
    """How periodic the onsets are at the tracked tempo: the autocorrelation of the
    (mean-removed) onset envelope at one beat period, over its value at lag 0."""
    if not tempo or onset_env.size < 16:
        return 0.0
    lag = 60.0 / tempo * frames_per_s
    if lag >= onset_env.size - 1:
        return 0.0
    ac = _autocorrelation(onset_env)
    lo = int(np.floor(lag))
    frac = lag - lo
    return float(np.clip((1 - frac) * ac[lo] + frac * ac[lo + 1], 0.0, 1.0))


def energy_curve(rms: np.ndarray, *, sr: int, hop_length: int = HOP, step: float = CURVE_STEP,
                 normalise: bool = True) -> np.ndarray:
    """Mean RMS per ``step`` seconds, scaled so the loudest step is 1 (unless not ``normalise``)."""
    per = max(1, int(round(step * sr / hop_length)))
    n = int(np.ceil(rms.size / per))
    pad = np.pad(rms, (0, n * per - rms.size))
    curve = pad.reshape(n, per).mean(axis=1)
    if not normalise:
        return curve
    top = float(curve.max()) if curve.size else 0.0
    return curve / top if top > 0 else curve


def _by_frames(fn, S: np.ndarray, power: np.ndarray) -> np.ndarray:
    """``fn(S, power)`` of a per-frame statistic, computed FRAME_BLOCK frames at a time
    and joined (each frame's value depends on its own column only)."""
    n = S.shape[1]
    if n <= FRAME_BLOCK:
        return fn(S, power)
    return np.concatenate([fn(S[:, i:i + FRAME_BLOCK], power[:, i:i + FRAME_BLOCK])
                           for i in range(0, n, FRAME_BLOCK)])


def analyse(y: np.ndarray, sr: int) -> TrackAnalysis:
    """Analyse mono audio.

    Parameters
    ----------
    y : np.ndarray, shape (n,), float32 mono samples.
    sr : sample rate of ``y``.

    Returns
    -------
    TrackAnalysis with tempo, beats, downbeats, energy curve and descriptors; moods are
    left empty (see :func:`creator.music.mood.mood_scores`). A silent input returns
    ``silent=True`` and no beats.

    Example
    -------
    >>> from creator.music.decode import decode, DEFAULT_SR
    >>> a = analyse(decode("song.opus"), DEFAULT_SR)      # doctest: +SKIP
    >>> a.tempo, a.mode                                   # doctest: +SKIP
    """
    return _analyse(y, sr)[0]


def _analyse(y: np.ndarray, sr: int) -> tuple[TrackAnalysis, dict]:
    """:func:`analyse`, plus what :func:`analyse_windows` needs to combine windows: the
    un-normalised energy curve and the key chroma (empty for a silent input)."""
    import librosa

    y = np.asarray(y, dtype=np.float32)
    duration = y.size / sr
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if y.size < N_FFT or peak < 1e-4:
        return TrackAnalysis(duration=duration, silent=True), {}

    # 1. one STFT; every other representation derives from it
    S = stft_magnitude(y)
    power = S ** 2
    freqs = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64)
    mel_db = librosa.power_to_db(mel, ref=np.max)

    # 2. rhythm: onset envelope -> beats -> tempo -> downbeats
    oenv = onset_envelope(mel_db, sr=sr)
    tempo, beats = tempo_and_beats(oenv, sr=sr)
    low = power[freqs < 250].sum(axis=0)
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0)
    bars = downbeats(beats, oenv, low, chroma, sr=sr)
    onsets = librosa.onset.onset_detect(onset_envelope=oenv, sr=sr, hop_length=HOP)

    # 3. level and timbre
    # per-frame statistics, a block of frames at a time: the same numbers as over the
    # whole spectrogram at once, without its full-size temporaries
    rms = _by_frames(lambda s, p: librosa.feature.rms(S=s, frame_length=N_FFT)[0], S, power)
    rms_db = 20 * np.log10(rms + 1e-6)
    loud = rms > 0.05 * rms.max()  # ignore leading/trailing silence in the statistics
    total = power.sum(axis=0) + 1e-12
    centroid = _by_frames(lambda s, p: (freqs[:, None] * p).sum(axis=0), S, power) / total

    def _rolloff(s, p):
        cum = np.cumsum(p, axis=0)
        return freqs[np.argmax(cum >= 0.85 * cum[-1:], axis=0)]

    rolloff = _by_frames(_rolloff, S, power)
    flat = _by_frames(lambda s, p: librosa.feature.spectral_flatness(S=s)[0], S, power)

    # 4. harmony
    kchroma, kbass = key_chroma(y, sr)
    key, mode, mode_strength, key_strength = key_and_mode(kchroma, kbass)
    chn = chroma / (np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9)
    change = 1.0 - np.sum(chn[:, 1:] * chn[:, :-1], axis=0)

    band_energy = np.array([power[(freqs >= lo) & (freqs < hi)][:, loud].sum()
                            for lo, hi in zip(BAND_EDGES[:-1], BAND_EDGES[1:])])
    band_share = band_energy / max(float(band_energy.sum()), 1e-12)
    flux_high = np.maximum(0.0, np.diff(mel_db[40:], axis=1)).mean()
    del power  # no longer needed: one spectrogram less at the next (largest) step

    # 5. timbre and texture: MFCCs of the mel spectrogram, spectral contrast, how steady
    # the rhythm and the level are, how clearly tonal the harmony is
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC + 1)[1:, loud]
    contrast = librosa.feature.spectral_contrast(S=S[:, loud], sr=sr, n_fft=N_FFT, fmin=CONTRAST_FMIN,
                                                 n_bands=CONTRAST_BANDS)  # not per frame: top_db
    frames_per_s = sr / HOP
    tempo_conf = _tempo_confidence(oenv, tempo, frames_per_s)
    win = max(1, int(round(4.0 * frames_per_s)))
    counts = np.bincount(onsets // win, minlength=int(np.ceil(oenv.size / win)))[:max(1, oenv.size // win)]
    onset_cv = float(counts.std() / counts.mean()) if counts.size > 1 and counts.mean() > 0 else 0.0
    curve_raw = energy_curve(rms, sr=sr, normalise=False)
    top = float(curve_raw.max()) if curve_raw.size else 0.0
    curve = curve_raw / top if top > 0 else curve_raw
    cp = chroma[:, loud] / (chroma[:, loud].sum(axis=0, keepdims=True) + 1e-9)
    chroma_entropy = float((-(cp * np.log(cp + 1e-12)).sum(axis=0) / np.log(12)).mean())

    beat_frames = np.clip(np.round(beats * frames_per_s).astype(int), 0, oenv.size - 1)
    extras = {"curve_raw": curve_raw, "key_chroma": kchroma, "bass_chroma": kbass}
    return TrackAnalysis(
        duration=round(duration, 3),
        tempo=round(tempo, 2) if tempo else None,
        beats=[round(float(b), 3) for b in beats],
        downbeats=[round(float(b), 3) for b in bars],
        energy_curve=[round(float(v), 3) for v in curve],
        loudness_db=round(float(20 * np.log10(rms[loud].mean() + 1e-6)), 2),
        dynamic_range_db=round(float(np.percentile(rms_db[loud], 90) - np.percentile(rms_db[loud], 10)), 2),
        brightness=round(float(centroid[loud].mean()), 1),
        rolloff=round(float(rolloff[loud].mean()), 1),
        flatness=round(float(flat[loud].mean()), 4),
        percussiveness=round(percussive_ratio(mel), 4),
        onset_rate=round(onsets.size / duration, 3),
        beat_strength=round(float(oenv[beat_frames].mean() / (oenv.mean() + 1e-9)), 3) if beats.size else 0.0,
        low_energy=round(float(np.mean(rms[loud] < rms[loud].mean())), 3),
        bass=round(float(low[loud].sum() / total[loud].sum()), 4),
        bands=[round(float(b), 6) for b in band_share],
        flux=round(float(oenv.mean()), 4),
        flux_high=round(float(flux_high), 4),
        harmonic_change=round(float(change.mean() * frames_per_s), 3),
        mfcc_mean=[round(float(v), 3) for v in mfcc.mean(axis=1)],
        mfcc_std=[round(float(v), 3) for v in mfcc.std(axis=1)],
        contrast=[round(float(v), 3) for v in contrast.mean(axis=1)],
        tempo_confidence=round(tempo_conf, 4),
        onset_cv=round(onset_cv, 4),
        energy_std=round(float(curve[curve > 0.05].std()) if np.any(curve > 0.05) else 0.0, 4),
        chroma_entropy=round(chroma_entropy, 4),
        key=key,
        mode=mode,
        mode_strength=round(mode_strength, 4),
        key_strength=round(key_strength, 4),
    ), extras


def window_starts(duration: float, *, length: float = WINDOW_S, n: int = N_WINDOWS) -> list[float]:
    """Start times (s) of ``n`` windows of ``length`` s spread evenly over ``duration``:
    the first at 0, the last ending at the end (fewer when the track is short)."""
    if duration <= length:
        return [0.0]
    n = max(1, min(n, int(duration // length)))
    if n == 1:
        return [round((duration - length) / 2, 3)]
    return [round(float(t), 3) for t in np.linspace(0.0, duration - length, n)]


def analyse_windows(windows, sr: int, duration: float) -> TrackAnalysis:
    """One analysis of a long track from some of its windows.

    Parameters
    ----------
    windows : iterable of ``(start_seconds, samples)``, in time order (a generator, so
        that only one window is in memory at a time).
    sr : sample rate of the samples.
    duration : length of the whole track, seconds.

    Every window is analysed with :func:`analyse`; then the tempo is the median of the
    windows' tempi, beats and downbeats are the windows' own (in track time), the energy
    curve is the windows' curves one after the other (one block of equal length each,
    scaled by the loudest step of any window), the key is read from the mean key chroma
    of the windows, loudness from the mean RMS, MFCC spreads are pooled, and the other
    descriptors are the mean over the windows that are not silent. ``windows`` records
    where each one lies.
    """
    parts: list[tuple[float, float, TrackAnalysis, dict]] = []
    for start, y in windows:
        a, extras = _analyse(y, sr)
        parts.append((float(start), float(start) + y.size / sr, a, extras))
    spans = [[round(s, 3), round(e, 3)] for s, e, _, _ in parts]
    live = [(s, a, x) for s, _, a, x in parts if not a.silent]
    if not live:
        return TrackAnalysis(duration=round(duration, 3), silent=True, windows=spans)

    def mean(name: str) -> float:
        return float(np.mean([getattr(a, name) for _, a, _ in live]))

    def mean_list(name: str) -> list[float]:
        rows = [getattr(a, name) for _, a, _ in live if getattr(a, name)]
        n = min((len(r) for r in rows), default=0)
        return [float(v) for v in np.mean([r[:n] for r in rows], axis=0)] if n else []

    tempi = [a.tempo for _, a, _ in live if a.tempo]
    tempo = float(np.median(tempi)) if tempi else None
    beats = [round(s + b, 3) for s, a, _ in live for b in a.beats]
    bars = [round(s + b, 3) for s, a, _ in live for b in a.downbeats]
    # the energy curve: an equal block per window (silent windows are zeros)
    block = max(len(x["curve_raw"]) for _, _, x in live)
    raw = []
    for _, _, a, x in parts:
        c = np.asarray(x.get("curve_raw", np.zeros(0)), dtype=np.float64)[:block]
        raw.append(np.pad(c, (0, block - c.size)))
    curve = np.concatenate(raw)
    top = float(curve.max())
    curve = curve / top if top > 0 else curve
    key, mode, mode_strength, key_strength = key_and_mode(
        np.mean([x["key_chroma"] for _, _, x in live], axis=0),
        np.mean([x["bass_chroma"] for _, _, x in live], axis=0))
    loud = float(np.mean([10 ** (a.loudness_db / 20) for _, a, _ in live]))
    mfcc_mean = np.asarray(mean_list("mfcc_mean"))
    sq = [np.asarray(a.mfcc_std[:mfcc_mean.size]) ** 2 + np.asarray(a.mfcc_mean[:mfcc_mean.size]) ** 2
          for _, a, _ in live if len(a.mfcc_std) >= mfcc_mean.size and len(a.mfcc_mean) >= mfcc_mean.size]
    mfcc_std = np.sqrt(np.maximum(np.mean(sq, axis=0) - mfcc_mean ** 2, 0.0)) if sq else np.zeros(0)
    return TrackAnalysis(
        duration=round(duration, 3),
        tempo=round(tempo, 2) if tempo else None,
        beats=beats,
        downbeats=bars,
        energy_curve=[round(float(v), 3) for v in curve],
        loudness_db=round(float(20 * np.log10(loud + 1e-6)), 2),
        dynamic_range_db=round(mean("dynamic_range_db"), 2),
        brightness=round(mean("brightness"), 1),
        rolloff=round(mean("rolloff"), 1),
        flatness=round(mean("flatness"), 4),
        percussiveness=round(mean("percussiveness"), 4),
        onset_rate=round(mean("onset_rate"), 3),
        beat_strength=round(mean("beat_strength"), 3),
        low_energy=round(mean("low_energy"), 3),
        bass=round(mean("bass"), 4),
        bands=[round(v, 6) for v in mean_list("bands")],
        flux=round(mean("flux"), 4),
        flux_high=round(mean("flux_high"), 4),
        harmonic_change=round(mean("harmonic_change"), 3),
        mfcc_mean=[round(float(v), 3) for v in mfcc_mean],
        mfcc_std=[round(float(v), 3) for v in mfcc_std],
        contrast=[round(v, 3) for v in mean_list("contrast")],
        tempo_confidence=round(mean("tempo_confidence"), 4),
        onset_cv=round(mean("onset_cv"), 4),
        energy_std=round(float(curve[curve > 0.05].std()) if np.any(curve > 0.05) else 0.0, 4),
        chroma_entropy=round(mean("chroma_entropy"), 4),
        key=key,
        mode=mode,
        mode_strength=round(mode_strength, 4),
        key_strength=round(key_strength, 4),
        windows=spans,
    )


#: Names of the entries of :func:`descriptor_vector`, in order: rhythm, timbre and
#: harmony summaries, then the MFCC means and spreads and the spectral contrast.
DESCRIPTOR_NAMES = (
    "log2_tempo", "percussiveness", "onset_rate", "flux", "flux_high", "log2_brightness",
    "harmonic_change", "mode_strength", "log_mid_share", "log_presence_share", "log_air_share",
    "tempo_confidence", "onset_cv", "energy_std", "chroma_entropy", "dynamic_range_db",
    "low_energy", "log_flatness", "key_strength", "log_bass", "log2_rolloff",
    *(f"mfcc{k}_mean" for k in range(1, N_MFCC + 1)),
    *(f"mfcc{k}_std" for k in range(1, N_MFCC + 1)),
    *(f"contrast{k}" for k in range(CONTRAST_BANDS + 1)),
    *(f"tempo_band_{b}" for b in TEMPO_BANDS),
)


def tempo_bands(tempo: float | None) -> np.ndarray:
    """Soft membership (0..1) of ``tempo`` in each of TEMPO_BANDS: a Gaussian in log2
    tempo of TEMPO_BAND_WIDTH octaves around each centre; all zero without a tempo.

    Mood does not rise or fall steadily with tempo (tender sits between calm and happy),
    so a linear model reads these bands rather than the tempo itself.
    """
    if not tempo:
        return np.zeros(len(TEMPO_BANDS))
    d = (np.log2(tempo) - np.log2(np.asarray(TEMPO_BANDS, float))) / TEMPO_BAND_WIDTH
    return np.exp(-0.5 * d ** 2)


def _fixed(values: list[float], n: int) -> list[float]:
    return (list(values) + [0.0] * n)[:n]


def descriptor_vector(a: TrackAnalysis) -> np.ndarray:
    """The descriptors the mood model reads, as a float vector (see DESCRIPTOR_NAMES).

    Log scales where perception is logarithmic (tempo, frequency, band energy). Loudness
    is left out on purpose: libraries are often loudness-normalised, so it says little.
    """
    bands = _fixed(a.bands, 6)
    return np.array([
        np.log2(max(a.tempo or 100.0, 30.0)),
        a.percussiveness,
        a.onset_rate,
        a.flux,
        a.flux_high,
        np.log2(max(a.brightness, 20.0)),
        a.harmonic_change,
        a.mode_strength,
        np.log(bands[2] + 1e-6),  # 400-1000 Hz: body of voices and melody instruments
        np.log(bands[4] + 1e-6),  # 2.5-6 kHz: presence, attack
        np.log(bands[5] + 1e-6),  # above 6 kHz: air, cymbals
        a.tempo_confidence,
        a.onset_cv,
        a.energy_std,
        a.chroma_entropy,
        a.dynamic_range_db,
        a.low_energy,
        np.log(a.flatness + 1e-6),
        a.key_strength,
        np.log(a.bass + 1e-6),
        np.log2(max(a.rolloff, 20.0)),
        *_fixed(a.mfcc_mean, N_MFCC),
        *_fixed(a.mfcc_std, N_MFCC),
        *_fixed(a.contrast, CONTRAST_BANDS + 1),
        *tempo_bands(a.tempo),
    ], dtype=np.float64)


def choose_excerpt(a: TrackAnalysis, length: float
                   ) -> tuple[float, float, list[float], list[float]]:
    """The best ``length``-second stretch of a track, aligned to bars.

    Candidates start on downbeats (beats, then 0, when there are none) and end on the
    beat closest to ``start + length``. Each is scored by its mean energy (the climax
    draws the eye in a short video) plus how much it looks like the whole track (its
    energy profile is representative, not a quiet intro or a fade-out). Returns (start,
    end, beats inside the excerpt and downbeats inside it, both relative to its start).
    A track shorter than ``length`` is returned whole. For a track analysed in windows
    (``a.windows``) the excerpt lies inside one window, where its beats are known.
    """
    dur = a.duration
    beats = np.asarray(a.beats, dtype=float)

    def inside(times, s: float, e: float) -> list[float]:
        return [round(float(t - s), 3) for t in times if s - 1e-6 <= t < e - 1e-6]

    if length <= 0 or length >= dur or a.silent:
        return 0.0, round(dur, 3), inside(a.beats, 0.0, dur), inside(a.downbeats, 0.0, dur)
    curve = np.asarray(a.energy_curve, dtype=float)
    step = CURVE_STEP
    whole = float(curve.mean()) if curve.size else 0.0
    # where beats are known: the whole track, or (a long track) each analysed window with
    # its own block of the energy curve
    if a.windows:
        block = curve.size // len(a.windows)
        spans = [(float(ws), min(float(we), dur), curve[k * block:(k + 1) * block])
                 for k, (ws, we) in enumerate(a.windows)]
    else:
        spans = [(0.0, dur, curve)]
    marks = np.asarray(a.downbeats or a.beats or [0.0], dtype=float)
    cands = [(marks[(marks >= ws - 1e-6) & (marks + length <= we + 1e-6)], ws, we, c)
             for ws, we, c in spans]
    if not any(st.size for st, _, _, _ in cands):
        cands = [(np.array([max(ws, we - length)]), ws, we, c) for ws, we, c in spans]
    first = next(float(st[0]) for st, _, _, _ in cands if st.size)
    best, best_score = (first, first + length), -np.inf
    for starts, ws, we, seg_curve in cands:
        for s in starts:
            e = min(s + length, dur) if a.windows else s + length
            if beats.size:
                near = beats[np.argmin(np.abs(beats - e))]
                if abs(near - e) <= 0.6 * (60.0 / (a.tempo or 120.0)) and near <= dur:
                    e = float(near)
            i0 = int((s - ws) / step)
            seg = seg_curve[i0: max(i0 + 1, int(np.ceil((e - ws) / step)))]
            if seg.size == 0:
                continue
            # energy (climax) plus representativeness: a quiet intro or outro scores low
            score = float(seg.mean()) - 0.5 * abs(float(seg.mean()) - whole) + 0.25 * float(seg.min())
            if score > best_score:
                best, best_score = (float(s), float(e)), score
    s, e = best
    return round(s, 3), round(e, 3), inside(a.beats, s, e), inside(a.downbeats, s, e)
