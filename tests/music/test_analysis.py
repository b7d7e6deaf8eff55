"""Analysis against generated audio whose truth we know."""

import numpy as np
import pytest

from creator.music.analysis import analyse, choose_excerpt
from creator.music.decode import DEFAULT_SR, decode
from tests.factories import make_click_track, make_tone


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
