"""The sound of the video, as part of the one ffmpeg filter graph.

Music: the chosen excerpt of the track, faded in and out, ducked while a clip's own
sound plays. Clip sound: each kept clip's audio at its place on the timeline, with
short fades at the transitions. Everything is mixed and loudness-normalised (EBU R128,
``loudnorm``) to ``settings.loudness`` LUFS. Without music or clip sound the result is
silence, so the file always has an AAC track.
"""

from __future__ import annotations

from dataclasses import dataclass

from creator.config import VideoSettings

__all__ = ["ClipSound", "duck_expression", "audio_filters"]

DUCK_RAMP = 0.25  # seconds the music takes to go down or come back up
RATE = 48000


@dataclass(frozen=True)
class ClipSound:
    """The audio of a clip input (``input_index``) placed from ``start`` for ``duration`` s."""

    input_index: int
    start: float
    duration: float
    fade_in: float
    fade_out: float


def duck_expression(windows: list[tuple[float, float]], gain: float, ramp: float = DUCK_RAMP) -> str:
    """A ``volume`` expression of ``t``: 1 outside the windows, ``gain`` inside, with ramps.

    Example: ``duck_expression([(2, 4)], 0.25)`` is 0.25 from t=2 to 4 and 1 before 1.75
    and after 4.25.
    """
    if not windows:
        return "1"
    parts = [f"clip(min((t-{a - ramp:.4f})/{ramp},({b + ramp:.4f}-t)/{ramp}),0,1)" for a, b in windows]
    depth = parts[0]
    for p in parts[1:]:
        depth = f"max({depth},{p})"
    return f"1-{1 - gain:.4f}*{depth}"


def audio_filters(
    *,
    length: float,
    music_input: int | None,
    silence_input: int | None,
    clips: list[ClipSound],
    settings: VideoSettings,
    music_available: float | None = None,
) -> tuple[list[str], str]:
    """Filter chains producing the final audio, and the label of the output pad.

    ``music_input`` is the index of the (already seeked) music input, ``silence_input``
    an ``anullsrc`` input used when there is no music. ``music_available`` is how many
    seconds of music the input holds; the fade-out ends there if it is short.
    """
    fmt = f"aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
    chains: list[str] = []
    labels: list[str] = []
    if music_input is not None:
        end = min(length, music_available or length)
        fo = min(settings.music_fade_out, end / 3)
        fi = min(settings.music_fade_in, end / 3)
        duck = duck_expression([(c.start, c.start + c.duration) for c in clips], settings.duck_gain)
        chain = f"[{music_input}:a]{fmt},atrim=0:{end:.4f},asetpts=PTS-STARTPTS"
        if fi > 0:
            chain += f",afade=t=in:st=0:d={fi:.3f}"
        if fo > 0:
            chain += f",afade=t=out:st={end - fo:.4f}:d={fo:.3f}"
        if clips:
            chain += f",volume='{duck}':eval=frame"
        chain += f",apad=whole_dur={length:.4f}[mus]"
        chains.append(chain)
        labels.append("[mus]")
    elif silence_input is not None:
        chains.append(f"[{silence_input}:a]{fmt},atrim=0:{length:.4f}[mus]")
        labels.append("[mus]")
    for k, c in enumerate(clips):
        ms = round(c.start * 1000)
        chain = (f"[{c.input_index}:a]{fmt},atrim=0:{c.duration:.4f},asetpts=PTS-STARTPTS"
                 f",afade=t=in:st=0:d={max(0.02, c.fade_in):.3f}"
                 f",afade=t=out:st={max(0.0, c.duration - max(0.02, c.fade_out)):.4f}:d={max(0.02, c.fade_out):.3f}"
                 f",adelay=delays={ms}:all=1[cs{k}]")
        chains.append(chain)
        labels.append(f"[cs{k}]")
    if len(labels) > 1:
        # normalize=0: amix would otherwise divide every input by their number
        chains.append(f"{''.join(labels)}amix=inputs={len(labels)}:duration=first:normalize=0:dropout_transition=0[mixed]")
        mixed = "[mixed]"
    else:
        mixed = labels[0]
    # loudnorm needs 3 s (its window) and sound: on shorter pure silence it outputs NaN,
    # which the AAC encoder refuses
    sound = music_input is not None or bool(clips)
    norm = f"loudnorm=I={settings.loudness}:TP=-1.5:LRA=11,aresample={RATE}," if sound and length >= 3.0 else ""
    chains.append(f"{mixed}{norm}apad=whole_dur={length:.4f},atrim=0:{length:.4f}[aout]")
    return chains, "[aout]"
