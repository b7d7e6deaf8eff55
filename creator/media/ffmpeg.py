"""The ffmpeg shipped by imageio-ffmpeg: find it, probe a clip, run it, stream raw frames.

There is no ffprobe in that package, so :func:`probe` reads what ``ffmpeg -i`` prints about
its input. Every call passes paths as absolute file names (so a name starting with ``-``
or containing ``:`` is never read as an option or a protocol) and never writes to them.

Every ffmpeg the project starts goes through :func:`spawn`, so that it dies with the
Python process that started it (even on ``kill -9``), and every temporary file of a
stage lives in a :func:`work_folder` beside its output, which the next run cleans up
when its owner died.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Union

from ..errors import BackendUnavailable, Cancelled, MediaError

__all__ = ["ffmpeg_exe", "probe", "run_ffmpeg", "iter_raw_frames", "input_arg", "parse_time", "CancelToken",
           "spawn", "work_folder", "part_name", "clean_stale"]

#: What ``cancel=`` accepts: a ``threading.Event`` or a function returning True to stop.
CancelToken = Union[threading.Event, Callable[[], bool], None]

_POLL_S = 0.1
_TAIL_LINES = 8


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled by imageio-ffmpeg (``IMAGEIO_FFMPEG_EXE`` overrides it)."""
    try:
        import imageio_ffmpeg
    except ImportError as e:  # pragma: no cover - a core dependency
        raise BackendUnavailable(
            "Clips need the ffmpeg bundled by imageio-ffmpeg: pip install imageio-ffmpeg") from e
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as e:  # pragma: no cover - broken install
        raise BackendUnavailable(f"imageio-ffmpeg found no ffmpeg binary ({e}); "
                                 "reinstall it: pip install --force-reinstall imageio-ffmpeg") from e


def input_arg(path: str | os.PathLike) -> str:
    """An input file name ffmpeg cannot mistake for an option or a protocol (``a:b.mp4``)."""
    return os.path.abspath(os.fspath(path))


# --- child processes ---------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@functools.lru_cache(maxsize=1)
def _prctl():
    """libc's ``prctl``, resolved once in the parent (the child only calls it), or None
    where there is none (not Linux, no ctypes)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).prctl
        fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        fn.restype = ctypes.c_int
        return fn
    except (ImportError, OSError, AttributeError):  # pragma: no cover - unusual libc
        return None


def _die_with(parent: int, prctl) -> Callable[[], None]:
    kill = int(signal.SIGKILL)

    def child_setup() -> None:  # runs in the child between fork and exec: no imports, no locks
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os._exit(1)

    return child_setup


@functools.lru_cache(maxsize=1)
def _setpriv() -> str | None:
    """util-linux's ``setpriv`` when it knows ``--pdeathsig`` (2.33+), else None."""
    exe, true = shutil.which("setpriv"), shutil.which("true")
    if not (sys.platform.startswith("linux") and exe and true):
        return None
    try:
        ok = subprocess.run([exe, "--pdeathsig", "KILL", "--", true], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return exe if ok else None


def spawn(cmd: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen(cmd, ...)`` for a child that must not outlive this process.

    The child gets its own session and process group (a Ctrl-C in the terminal reaches
    Python, which stops the child itself) and, on Linux, a parent-death signal: the
    kernel sends it SIGKILL when the thread that started it ends, ``kill -9`` included.
    So start it and wait for it in the same thread. Elsewhere (macOS, Windows) it only
    gets the new session. stdin defaults to /dev/null. Every ffmpeg of the project is
    started here (:func:`run_ffmpeg`, :func:`iter_raw_frames`, the video render).

    The signal is set by util-linux's ``setpriv --pdeathsig KILL`` where there is one
    (it execs the command at once), else by a ``preexec_fn`` of two calls to a ``prctl``
    resolved beforehand (it takes no lock other threads could hold at fork time, but
    makes Python fork instead of vfork: some milliseconds more for a large process).
    """
    cmd = list(map(str, cmd))
    popen_kwargs.setdefault("stdin", subprocess.DEVNULL)
    if os.name == "posix":
        popen_kwargs.setdefault("start_new_session", True)
        if (wrapper := _setpriv()) is not None:
            cmd = [wrapper, "--pdeathsig", "KILL", "--", *cmd]
        elif (prctl := _prctl()) is not None:
            popen_kwargs.setdefault("preexec_fn", _die_with(os.getpid(), prctl))
    return subprocess.Popen(cmd, **popen_kwargs)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


# --- temporary files beside the output ----------------------------------------------------

_WORK_PREFIX = ".creator-tmp-"
_STALE_AGE_S = 24 * 3600.0
_WORK_RE = re.compile(r"^\.creator-tmp-(\d+)-")
# .NAME.PID-XXXXXXXX.part (part_name), or .NAME.XXXXXXXX.part without a pid (an atomic write
# through tempfile.mkstemp, a render before the pid was in the name); nothing else is touched
_PART_RE = re.compile(r"^\..+\.(?:(\d+)-[0-9a-f]{8}|[a-z0-9_]{8})\.part$")
_UNTOUCHED_S = 3600.0  # a .part without a pid: stale once untouched this long


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # someone else's process: alive
        return True
    return True


def _stale(path: Path, pid: int | None, now: float) -> bool:
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    if pid is None:  # a write takes seconds and keeps the file's time fresh
        return age > _UNTOUCHED_S
    return not _alive(pid) or age > _STALE_AGE_S


def clean_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove the work folders (``.creator-tmp-PID-*``) and partial outputs
    (``.NAME.PID-XXXXXXXX.part``) that a run which died left in ``folder``: those whose
    process is gone, or older than a day. A ``.NAME.XXXXXXXX.part`` without a pid (an
    interrupted atomic write) goes once untouched for an hour. Those of a live run are kept. Returns
    what was removed; what cannot be removed is left as it is."""
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        path = Path(e.path)
        if (m := _WORK_RE.match(e.name)) is not None and e.is_dir(follow_symlinks=False):
            if _stale(path, int(m.group(1)), now):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        elif (m := _PART_RE.match(e.name)) is not None and e.is_file(follow_symlinks=False):
            if _stale(path, int(m.group(1)) if m.group(1) else None, now):
                try:
                    path.unlink()
                    removed.append(path)
                except OSError:
                    pass
    return removed


def work_folder(folder: str | os.PathLike) -> tempfile.TemporaryDirectory:
    """A temporary folder ``.creator-tmp-PID-XXXX`` inside ``folder`` (the output's
    folder, not /tmp), removed when the ``with`` block ends; what dead runs left there is
    removed first (:func:`clean_stale`)."""
    clean_stale(folder)
    return tempfile.TemporaryDirectory(prefix=f"{_WORK_PREFIX}{os.getpid()}-", dir=os.fspath(folder))


def part_name(output: str | os.PathLike) -> Path:
    """The temporary name an output is written under before it is renamed:
    ``.NAME.PID-XXXXXXXX.part`` beside it (found and removed by :func:`clean_stale` if
    this process dies first)."""
    output = Path(output)
    return output.with_name(f".{output.name}.{os.getpid()}-{os.urandom(4).hex()}.part")


def _cancelled(cancel: CancelToken) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def _tail(text: str, lines: int = _TAIL_LINES) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])


def run_ffmpeg(args: Sequence[str], *, cancel: CancelToken = None, timeout: float | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
    """Run ``ffmpeg -hide_banner -nostdin <args>`` and wait for it.

    Parameters
    ----------
    args : the arguments after the executable (inputs, filters, outputs).
    cancel : a ``threading.Event`` or a callable; checked every 0.1 s, and when set the
        process is killed and :class:`~creator.errors.Cancelled` raised.
    timeout : seconds before the process is killed and MediaError raised.
    check : raise MediaError (with the tail of ffmpeg's messages) on a non-zero exit.

    Returns
    -------
    ``CompletedProcess`` with ``stdout`` as bytes and ``stderr`` as text.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *map(str, args)]
    proc = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    waited = 0.0
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=_POLL_S)
                break
            except subprocess.TimeoutExpired:
                waited += _POLL_S
                if _cancelled(cancel) or (timeout is not None and waited >= timeout):
                    proc.kill()
                    proc.communicate()
                    if _cancelled(cancel):
                        raise Cancelled("ffmpeg was cancelled") from None
                    raise MediaError(f"ffmpeg took longer than {timeout:.0f} s and was stopped") from None
    finally:  # KeyboardInterrupt and the like: ffmpeg is in its own group, stop it here
        _stop(proc)
    stderr = err.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise MediaError(f"ffmpeg failed (exit {proc.returncode}): {_tail(stderr)}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, stderr)


def iter_raw_frames(args: Sequence[str], frame_bytes: int, *, cancel: CancelToken = None,
                    log: list[str] | None = None) -> Iterator[bytes]:
    """Run ffmpeg with a rawvideo output on stdout (``-f rawvideo -``) and yield one frame's
    bytes at a time, so a clip is never held in memory whole.

    ffmpeg's messages go to a temporary file (a full stderr pipe would block it); when
    ``log`` is given, their lines are appended to it once the process has ended (used to
    read ``showinfo`` timestamps). Raises MediaError on a non-zero exit, Cancelled when
    ``cancel`` is set.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *map(str, args)]
    with tempfile.TemporaryFile() as errf:
        proc = spawn(cmd, stdout=subprocess.PIPE, stderr=errf, bufsize=0)
        try:
            assert proc.stdout is not None
            while True:
                if _cancelled(cancel):
                    raise Cancelled("ffmpeg was cancelled")
                buf = _read_exact(proc.stdout, frame_bytes)
                if len(buf) < frame_bytes:
                    break
                yield buf
            proc.wait()
        finally:
            _stop(proc)  # the consumer stopped early, or cancelled
            if proc.stdout is not None:
                proc.stdout.close()
        errf.seek(0)
        stderr = errf.read().decode("utf-8", "replace")
    if proc.returncode not in (0, None) and proc.returncode > 0:
        raise MediaError(f"ffmpeg failed (exit {proc.returncode}): {_tail(stderr)}")
    if log is not None:
        log.extend(stderr.splitlines())


def _read_exact(stream, n: int) -> bytes:
    chunks = []
    while n > 0:
        b = stream.read(n)
        if not b:
            break
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


# --- probe -------------------------------------------------------------------------------

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_START = re.compile(r"start:\s*(-?\d+(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #\d+:\d+.*?:\s*(Video|Audio|Subtitle|Data|Attachment):\s*(.*)$")
_SIZE = re.compile(r"(?:^|[\s,])(\d{2,5})x(\d{2,5})(?=[\s,\[]|$)")
_FPS = re.compile(r"(\d+(?:\.\d+)?)(k?) fps")
_TBR = re.compile(r"(\d+(?:\.\d+)?)(k?) tbr")
_ROT_MATRIX = re.compile(r"display\s*matrix:\s*rotation of\s*(-?\d+(?:\.\d+)?)", re.I)
_ROT_TAG = re.compile(r"^\s*rotate\s*:\s*(-?\d+)", re.M)
_META = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*:\s(.*)$")
_STREAM_DURATION = re.compile(r"^\s*DURATION\s*:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", re.M)
_TIME = re.compile(r"time=\s*(\d+):(\d+):(\d+(?:\.\d+)?)")


def _hms(m: re.Match) -> float:
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def _rate(m: re.Match | None) -> float | None:
    if m is None:
        return None
    return float(m.group(1)) * (1000 if m.group(2) else 1)


def parse_time(value: str) -> datetime | None:
    """A container date (``2024-05-01T10:00:00.000000Z``, ``2024-05-01T18:00:00+0800``,
    ``2024-05-01 10:00:00``) as a naive local wall-clock time, the same convention as EXIF.

    A UTC stamp (what phones write in ``creation_time``) is turned into this computer's
    local time; a stamp with its own offset (Apple's ``creationdate``) keeps its wall
    clock. Empty, unparsable or placeholder dates (before 1971) give None.
    """
    return parse_stamp(value)[0]


def parse_stamp(value: str) -> tuple[datetime | None, int | None]:
    """:func:`parse_time`'s wall-clock time and its offset from UTC in minutes (the
    stamp's own, or for a UTC stamp this computer's at that instant); None for a stamp
    without a zone."""
    v = value.strip()
    if not v:
        return None, None
    v = re.sub(r"Z$", "+00:00", v)
    v = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", v)  # +0800 -> +08:00
    v = re.sub(r"\.(\d{6})\d+", r".\1", v)  # more than microseconds
    try:
        dt = datetime.fromisoformat(v.replace(" ", "T", 1))
    except ValueError:
        return None, None
    if dt.year < 1971:  # 1904/1970 epochs: the camera had no date set
        return None, None
    if dt.tzinfo is None:
        return dt, None
    keep_wall_clock = value.strip()[-1:] != "Z" and dt.utcoffset().total_seconds() != 0
    if not keep_wall_clock:
        dt = dt.astimezone()
    offset = int(round(dt.utcoffset().total_seconds() / 60))
    return dt.replace(tzinfo=None), offset if -12 * 60 <= offset <= 14 * 60 else None


_ISO6709 = re.compile(r"^([+-]\d{1,2}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)(?:[+-]\d+(?:\.\d+)?)?(?:CRS[A-Z0-9_]+)?/?$")


def parse_location(value: str) -> tuple[float, float] | None:
    """(latitude, longitude) from a container's ISO 6709 location in decimal degrees, as
    phones write it (``+30.2500+120.1500+010.000/``); None when absent, in another form
    (degrees and minutes), out of range or 0,0 (no fix)."""
    m = _ISO6709.match(value.strip())
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (abs(lat) < 1e-6 and abs(lon) < 1e-6):
        return None
    return lat, lon


# HDR (HLG or PQ, BT.2020) to the SDR BT.709 every other picture is shown in: linear light
# with the HDR reference white (203 cd/m2, ITU-R BT.2408) as SDR's 100%, BT.2020 primaries
# to BT.709, then a Mobius curve that is linear up to 90% of that white and rolls the
# brighter highlights off instead of clipping them. An HDR clip read without it looks
# flat and grey (PQ also dark): its code values are not BT.709's.
TO_SDR = ("zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=bt709,"
          "tonemap=tonemap=mobius:param=0.9:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p")


def probe(path: str | os.PathLike) -> dict[str, Any]:
    """What ffmpeg knows about a clip, without decoding it.

    Returns a dict with ``duration`` (s), ``fps``, ``width``/``height`` (as displayed,
    rotation applied), ``coded_width``/``coded_height``, ``rotation`` (degrees clockwise
    to display it upright: 0, 90, 180, 270), ``codec``, ``has_audio``, ``creation_time``
    (naive local datetime or None) and its ``utc_offset`` (minutes, or None), ``location``
    ((lat, lon) from the container's ISO 6709 tag, or None), ``start`` (container start
    time, s), ``format`` and
    ``hdr`` ("hlg" or "pq" for a high-dynamic-range clip, as phones record by default;
    None for SDR).

    Raises MediaError (naming the file) when ffmpeg cannot read it or it has no video.
    """
    name = Path(path).name
    src = input_arg(path)
    if not os.path.exists(src):
        raise MediaError(f"{name}: file not found")
    res = run_ffmpeg(["-i", src], check=False)  # exits 1: no output file given
    text = res.stderr
    if "Input #0" not in text:
        why = _tail(text, 1).split(": ", 1)[-1] if text.strip() else "unknown error"
        raise MediaError(f"{name}: not a readable video ({why})")

    info: dict[str, Any] = {"duration": None, "fps": None, "width": None, "height": None,
                            "coded_width": None, "coded_height": None, "rotation": 0,
                            "codec": None, "has_audio": False, "creation_time": None,
                            "utc_offset": None, "location": None,
                            "start": 0.0, "format": None, "hdr": None}
    fmt = re.search(r"Input #0, ([^ ]+?),? from", text)
    info["format"] = fmt.group(1) if fmt else None
    if (m := _DURATION.search(text)) is not None:
        info["duration"] = _hms(m)
    if (m := _START.search(text)) is not None:
        info["start"] = float(m.group(1))

    # Split into the container header and one block per stream (its line plus the
    # indented Metadata / Side data lines that follow it).
    blocks: list[tuple[str, str, list[str]]] = []  # (kind, stream line, following lines)
    header: list[str] = []
    for line in text.splitlines():
        sm = _STREAM.match(line)
        if sm:
            blocks.append((sm.group(1), sm.group(2), []))
        elif blocks:
            blocks[-1][2].append(line)
        else:
            header.append(line)

    video = next((b for b in blocks if b[0] == "Video" and "attached pic" not in b[1]), None)
    if video is None:
        raise MediaError(f"{name}: no video stream (audio only, or not a video file)")
    _, desc, extra = video
    info["codec"] = desc.split()[0].strip(",") if desc.strip() else None
    if (m := _SIZE.search(desc)) is not None:
        info["coded_width"], info["coded_height"] = int(m.group(1)), int(m.group(2))
    info["fps"] = _rate(_FPS.search(desc)) or _rate(_TBR.search(desc))
    # the colour description after the pixel format: "yuv420p10le(tv, bt2020nc/bt2020/arib-std-b67)"
    info["hdr"] = "hlg" if "arib-std-b67" in desc else "pq" if "smpte2084" in desc else None
    extra_text = "\n".join(extra)
    if (m := _ROT_MATRIX.search(extra_text)) is not None:
        # The display matrix angle is counter-clockwise; the phone "rotate" tag is clockwise.
        info["rotation"] = int(round(-float(m.group(1)))) % 360
    elif (m := _ROT_TAG.search(extra_text)) is not None:
        info["rotation"] = int(m.group(1)) % 360
    if info["duration"] is None and (m := _STREAM_DURATION.search(extra_text)) is not None:
        info["duration"] = _hms(m)
    info["has_audio"] = any(b[0] == "Audio" for b in blocks)

    # Apple's creationdate keeps the local offset; creation_time is UTC. Prefer the first.
    meta: dict[str, str] = {}
    for line in header + [ln for b in blocks for ln in b[2]]:
        mm = _META.match(line)
        if mm:
            meta.setdefault(mm.group(1).lower(), mm.group(2))
    for key in ("com.apple.quicktime.creationdate", "creation_time", "date"):
        if key in meta and (stamp := parse_stamp(meta[key]))[0] is not None:
            info["creation_time"], info["utc_offset"] = stamp
            break
    for key in ("com.apple.quicktime.location.iso6709", "location", "location-eng"):
        if key in meta and (pos := parse_location(meta[key])) is not None:
            info["location"] = pos
            break

    w, h = info["coded_width"], info["coded_height"]
    if w and h and info["rotation"] in (90, 270):
        w, h = h, w
    info["width"], info["height"] = w, h
    if not (w and h):
        raise MediaError(f"{name}: the video stream has no readable frame size")
    if info["duration"] is None:
        info["duration"] = _decoded_duration(src)
    return info


def _decoded_duration(src: str) -> float | None:
    """Duration by reading the whole video stream without decoding (for files whose
    container does not say it)."""
    res = run_ffmpeg(["-i", src, "-map", "0:v:0", "-c", "copy", "-f", "null", "-"], check=False)
    times = list(_TIME.finditer(res.stderr))
    return _hms(times[-1]) if times else None
