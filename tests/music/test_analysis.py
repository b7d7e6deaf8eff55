"""Analysis against generated audio whose truth we know."""

import numpy as np
import pytest

from creator.music.analysis import TEMPO_BANDS, analyse, choose_excerpt, tempo_bands
from creator.music.decode import DEFAULT_SR, decode
from tests.factories import make_click_track, make_song, make_tone


@pytest.mark.parametrize("bpm", [90.0, 120.0, 140.0])
def test_click_track_tempo_and_beats(tmp_path, bpm):
    path, truth = make_click_track(tmp_path / f"点击_{bpm:.0f}.wav", bpm=bpm, duration=12.0)
    a = analyse(decode(path), DEFAULT_SR)
    assert a.tempo is not None and abs(a.tempo - bpm) / bpm < 0.02, a.tempo
    beats = np.array(a.beats)
    # every tracked beat lies within 50 ms of a true beat, and most true beats are found
    err = np.abs(beats[:, None] - truth[None, :]).min(axis=1)
    assert err.max() < 0.05, err.max()
    found = np.abs(truth[:, None] - beats[None, :]).min(axis=1) < 0.05
    assert found.mean() > 0.8
    # downbeats land on the accented clicks (every 4th, starting at 0)
    accents = truth[::4]
    d = np.abs(np.array(a.downbeats)[:, None] - accents[None, :]).min(axis=1)
    assert len(a.downbeats) >= 2 and d.max() < 0.05


def _chord(root_hz, minor):
    third = 2 ** ((3 if minor else 4) / 12)
    fifth = 2 ** (7 / 12)
    return (root_hz, root_hz * third, root_hz * fifth, root_hz * 2)


@pytest.mark.parametrize("root,minor", [(523.25, False), (523.25, True), (440.0, False), (440.0, True)])
def test_mode_of_chords(tmp_path, root, minor):
    path = make_tone(tmp_path / "chord.flac", freqs=_chord(root, minor), duration=4.0)
    a = analyse(decode(path), DEFAULT_SR)
    assert a.mode == ("minor" if minor else "major"), (a.key, a.mode, a.mode_strength)
    assert a.key == {523.25: "C", 440.0: "A"}[root]


def test_silence_is_reported_not_crashing():
    a = analyse(np.zeros(DEFAULT_SR * 3, np.float32), DEFAULT_SR)
    assert a.silent and a.beats == [] and a.tempo is None


def test_excerpt_is_bar_aligned_and_beats_relative(tmp_path):
    path, truth = make_click_track(tmp_path / "c.wav", bpm=120.0, duration=30.0)
    y = decode(path)
    # make the second half louder: the excerpt should favour it
    y[len(y) // 2:] *= 3.0
    a = analyse(y, DEFAULT_SR)
    start, end, beats, downbeats = choose_excerpt(a, 8.0)
    assert abs((end - start) - 8.0) < 0.3
    assert min(abs(start - d) for d in a.downbeats) < 1e-6  # starts on a bar
    assert start >= 14.0
    assert beats and beats[0] == pytest.approx(0.0, abs=1e-3) and all(0 <= b < end - start for b in beats)
    assert downbeats[0] == pytest.approx(0.0, abs=1e-3)
    whole = choose_excerpt(a, 100.0)
    assert whole[0] == 0.0 and whole[1] == pytest.approx(a.duration)


@pytest.mark.parametrize("bpm,hats", [(78.0, "332"), (90.0, "332"), (110.0, "332"),
                                      (120.0, "eighths"), (145.0, "eighths")])
def test_groove_keeps_the_beat(tmp_path, bpm, hats):
    # hats on 3+3+2 sixteenths pulse at 4/3 of the tempo: librosa's tracker alone
    # follows them (78 -> ~103, 90 -> ~118, 110 -> ~144 BPM); straight eighths repeat at
    # 3/2 of a beat too, which a comb without the half-beat level took for a ~97 BPM
    # beat at 145. The metrical comb must keep the beat in both.
    path = make_song(tmp_path / "节奏.wav", bpm=bpm, root_midi=67, hats=hats)
    a = analyse(decode(path), DEFAULT_SR)
    assert a.tempo is not None and abs(a.tempo - bpm) / bpm < 0.02, a.tempo


@pytest.mark.parametrize("root,minor,key", [(60, False, "C"), (65, True, "F"), (67, True, "G"),
                                             (69, False, "A"), (62, True, "D")])
def test_key_and_mode_of_a_chord_progression(tmp_path, root, minor, key):
    path = make_song(tmp_path / "和弦.flac", bpm=100.0, root_midi=root, minor=minor, hats=None)
    a = analyse(decode(path), DEFAULT_SR)
    assert (a.key, a.mode) == (key, "minor" if minor else "major"), (a.key, a.mode, a.mode_strength)
    assert (a.mode_strength < 0) == minor


def test_tempo_bands_are_soft_and_empty_without_tempo():
    assert not tempo_bands(None).any()
    b = tempo_bands(TEMPO_BANDS[2])
    assert b.argmax() == 2 and b[2] == pytest.approx(1.0) and 0.2 < b[1] < 0.8 and b[5] < 0.01


def test_blocked_spectrogram_and_frame_statistics_change_nothing(tmp_path, monkeypatch):
    """A long track's STFT and per-frame statistics are computed FRAME_BLOCK frames at a
    time (memory); the numbers must be exactly those of the whole spectrogram at once."""
    from creator.music import analysis

    path = make_song(tmp_path / "分块.wav", bpm=100.0, root_midi=62, minor=True, hats="eighths")
    y = decode(path)
    whole = analyse(y, DEFAULT_SR)  # ~20 s: one block
    assert np.array_equal(analysis.stft_magnitude(y, block=97), analysis.stft_magnitude(y, block=10 ** 6))
    monkeypatch.setattr(analysis, "FRAME_BLOCK", 97)
    assert analyse(y, DEFAULT_SR).model_dump() == whole.model_dump()
