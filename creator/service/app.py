"""The HTTP API over the SDK: ``create_app(settings)`` is a FastAPI app.

Bodies and responses are the SDK's own pydantic types (NoteContext, Caption,
TrackMatch, Cover, CarouselEntry, Draft, VideoResult). The client never names a file
on the server: it uploads media (``POST /uploads``, streamed to disk, size limits from
``Settings.service``) and gets back a *media id* per file; a NoteContext it sends back
names its items by those ids, and every id goes through :class:`Store`, which finds the
file only inside the uploads folder and checks that its content is still the item's
(creator.drafts.media_file). What the server renders is fetched by id (``GET
/covers/{id}/{name}``, ``GET /videos/{job}/note.mp4``, through creator.drafts.own_file).
Responses carry no server path: item paths become media ids, a cover's path the URL of
its image (relative to the server's root), a track's path its file name, and messages
lose the folders of the paths they name.

Errors: a CreatorError becomes a 4xx with its message (``{"error", "kind"}``; a missing
backend is 503); anything else is a 500 that says only "internal error". A video is a
background job (``POST /videos`` → its id; ``GET`` → state and progress 0..1; ``DELETE``
→ cancelled), run through the Assistant's own ``progress``/``cancel``. Nothing is kept
forever: uploads, covers and videos not used for ``Settings.service.keep_hours`` (each use
of an id renews it) are deleted, and finished jobs forgotten, at start and on each upload
and video request (:meth:`Store.sweep`, :meth:`Jobs.sweep`); a video being rendered stays.

``stages`` (``create_app(settings, assistant)``) is anything with the Assistant's
methods: the Assistant itself in one process, creator.service.ray_serve's proxy to the
Ray Serve deployments otherwise.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from creator.service import is_loopback, require_extra

require_extra("fastapi", "python_multipart", "fastapi_offline", what="the HTTP API (creator.service)")

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi_offline import FastAPIOffline  # noqa: E402  (/docs with its script and style served here, no CDN)
from fastapi.responses import FileResponse, JSONResponse  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402

from creator import __version__  # noqa: E402
from creator.config import Settings  # noqa: E402
from creator.errors import (  # noqa: E402
    BackendUnavailable,
    Cancelled,
    CreatorError,
    DraftError,
    InputError,
    MediaError,
)
from creator.types import Caption, CarouselEntry, Cover, Draft, NoteContext, TrackMatch, VideoResult  # noqa: E402

__all__ = ["create_app", "Store", "Jobs", "VideoJob", "UploadResult"]

log = logging.getLogger("creator.service")

MB = 1024 * 1024
_HEX = r"[0-9a-f]{16}"
_MEDIA_ID = re.compile(rf"({_HEX})-([0-9]{{1,5}})")  # matched whole (fullmatch): no trailing newline
_ID = re.compile(_HEX)
MAX_NAME = 200  # bytes of an uploaded file's stored name, in UTF-8 (file systems allow 255)
MAX_TEXT = 500  # characters of a soundtrack query or one hint: what the text encoder reads
MAX_HINTS = 20
MAX_SHOWN = 60  # characters of a client's name or id echoed in a message


def _short(text: object) -> str:
    """A client's value as a message shows it: at most MAX_SHOWN characters."""
    text = str(text)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


# --- request and response bodies ---------------------------------------------------------

class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# the user's own words, which the text encoders read: capped (a 200 KB query is minutes of CPU)
_Text = Annotated[str, Field(max_length=MAX_TEXT)]
_Texts = Annotated[list[_Text], Field(max_length=MAX_HINTS)]
_Word = Annotated[str, Field(max_length=100)]  # a style, a tone, a keyword


class UploadedFile(_Body):
    id: str  # the media id: what understand takes and what item paths are in responses
    name: str
    size: int


class UploadResult(_Body):
    upload: str
    files: list[UploadedFile]


class UnderstandBody(_Body):
    media: list[str] = Field(min_length=1)  # media ids from POST /uploads
    hints: _Texts = Field(default_factory=list)


class CaptionBody(_Body):
    context: NoteContext
    language: Literal["zh", "en"] | None = None
    style: _Word | None = None
    n: int = Field(1, ge=1, le=10)
    seed: int = 0
    hints: _Texts | None = None
    keywords: Annotated[list[_Word], Field(max_length=MAX_HINTS)] = Field(default_factory=list)
    tone: _Word | None = None


class SoundtrackBody(_Body):
    context: NoteContext | None = None
    query: _Text | None = None
    length: float | None = Field(None, gt=0, le=600)
    top: int | None = Field(None, ge=1, le=50)
    language: Literal["zh", "en"] | None = None
    exclude: list[str] = Field(default_factory=list)
    pin: list[str] = Field(default_factory=list)


class CoverBody(_Body):
    context: NoteContext
    title: str | None = None
    style: _Word | None = None
    n: int | None = Field(None, ge=1, le=8)
    ratio: Literal["3:4", "1:1", "9:16"] | None = None
    seed: int = 0
    language: Literal["zh", "en"] | None = None


class CarouselBody(_Body):
    context: NoteContext
    n: int = Field(9, ge=1, le=20)
    ratio: Literal["3:4", "1:1", "4:3"] | None = None
    labels: bool = False
    language: Literal["zh", "en"] | None = None


class VideoBody(_Body):
    draft: Draft  # items by media id, the cover by its URL (covers/<id>/<name>), the track by its id
    length: float | None = Field(None, gt=0, le=120)


class VideoJob(_Body):
    id: str
    state: Literal["queued", "running", "cancelling", "done", "failed", "cancelled"]
    progress: float = 0.0
    error: str | None = None
    video: VideoResult | None = None


class _TooLarge(Exception):
    pass


# --- files: uploads in, renders out, all by id ---------------------------------------------

def _cut(text: str, size: int) -> str:
    """``text`` cut to at most ``size`` bytes of UTF-8, on a character boundary."""
    return text.encode("utf-8")[:size].decode("utf-8", "ignore")


def _safe_name(raw: str) -> str:
    """An uploaded file's name as stored: its last component only, no control characters,
    at most MAX_NAME bytes in UTF-8 (its suffix kept; 84 Chinese characters are 252)."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    if not name:
        return "upload"
    if len(name.encode("utf-8")) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = dot + ext if dot and len(ext) <= 10 else ""
        name = _cut(name[: len(name) - len(keep)], MAX_NAME - len(keep.encode("utf-8"))) + keep
    return name


class Store:
    """The service's folder (``Settings.service_root``): ``uploads/<upload>/<k>/<name>``,
    ``covers/<id>/``, ``videos/<job>/``, and the only ways from an id to a file."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(os.path.realpath(os.path.abspath(os.fspath(root))))
        self.uploads, self.covers, self.videos = (self.root / n for n in ("uploads", "covers", "videos"))
        sep = re.escape(os.sep)  # an uploaded file's folder in a message: uploads/<upload>/<k>/
        self._uploaded = re.compile(re.escape(str(self.uploads)) + rf"{sep}({_HEX}){sep}([0-9]{{1,5}}){sep}")
        for d in (self.uploads, self.covers, self.videos):
            d.mkdir(parents=True, exist_ok=True)
        self._known = sorted({str(self.root), os.path.abspath(os.fspath(root)), os.path.expanduser("~")},
                             key=len, reverse=True)

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8)

    # uploads
    def media_path(self, media_id: object, *, field: str = "media") -> Path:
        """The uploaded file of a media id; InputError for anything else (a path, ``..``)."""
        m = _MEDIA_ID.fullmatch(media_id) if isinstance(media_id, str) else None
        if m is None:
            shown = repr(media_id[:MAX_SHOWN]) if isinstance(media_id, str) else type(media_id).__name__
            raise InputError(f"{field}: {shown} is not a media id from POST /uploads "
                             "(the API never reads a path on the server)")
        folder = self.uploads / m.group(1) / m.group(2)
        files = [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()] if folder.is_dir() else []
        if len(files) != 1:
            raise InputError(f"{field}: no upload {media_id}")
        real = Path(os.path.realpath(files[0]))
        if self.uploads not in real.parents:
            raise InputError(f"{field}: no upload {media_id}")
        self._used(self.uploads / m.group(1))
        return real

    # keeping
    @staticmethod
    def _used(folder: Path) -> None:
        """Marks an id's folder as just used (its mtime), so :meth:`sweep` keeps it."""
        with contextlib.suppress(OSError):
            os.utime(folder)

    def sweep(self, max_age: float, *, keep: Iterable[str] = ()) -> int:
        """Deletes the upload, cover and video folders not used for ``max_age`` seconds
        (their mtime; every use of an id renews it), except the ids in ``keep`` (videos
        being rendered). Returns how many were deleted; a folder that cannot be read or
        removed is left for the next sweep."""
        keep, cutoff, gone = set(keep), time.time() - max_age, 0
        for base in (self.uploads, self.covers, self.videos):
            with contextlib.suppress(OSError):
                for d in base.iterdir():
                    with contextlib.suppress(OSError):
                        if (_ID.fullmatch(d.name) and d.name not in keep and not d.is_symlink() and d.is_dir()
                                and d.stat().st_mtime < cutoff):
                            shutil.rmtree(d)
                            gone += 1
        return gone

    def media_id(self, path: str | None) -> str | None:
        """The media id of a file under uploads/ (None for any other path)."""
        if not path:
            return None
        with contextlib.suppress(ValueError, OSError):
            parts = Path(os.path.realpath(path)).relative_to(self.uploads).parts
            if len(parts) == 3 and _MEDIA_ID.fullmatch(f"{parts[0]}-{parts[1]}"):
                return f"{parts[0]}-{parts[1]}"
        return None

    def resolve_context(self, ctx: NoteContext, *, field: str = "context") -> NoteContext:
        """A client's NoteContext with its items' media ids turned into the uploaded files,
        each checked to hold the content its item was understood from. InputError /
        DraftError (both 400) for a path, an unknown id or a changed file, InputError for
        hints over MAX_TEXT characters or more than MAX_HINTS of them (the text encoders
        read them)."""
        from creator.drafts import media_file

        if len(ctx.hints) > MAX_HINTS:
            raise InputError(f"{field}.hints: more than {MAX_HINTS} hints")
        for k, hint in enumerate(ctx.hints):
            if len(hint) > MAX_TEXT:
                raise InputError(f"{field}.hints[{k}]: over {MAX_TEXT} characters")
        items = []
        for k, item in enumerate(ctx.items):
            where = f"{field}.items[{k}].path"
            real = self.media_path(item.path, field=where)
            if item.ok:
                real = media_file(item.model_copy(update={"path": str(real)}), self.uploads, [self.uploads])
            items.append(item.model_copy(update={"path": str(real)}))
        return ctx.model_copy(update={"items": items})

    def public_context(self, ctx: NoteContext) -> NoteContext:
        """``ctx`` as it leaves the server: item paths as media ids, messages scrubbed."""
        items = [i.model_copy(update={
            "path": self.media_id(i.path) or PurePosixPath(i.path.replace("\\", "/")).name,
            "warnings": [self.scrub(w) for w in i.warnings],
            "error": self.scrub(i.error) if i.error else None}) for i in ctx.items]
        return ctx.model_copy(update={"items": items, "warnings": [self.scrub(w) for w in ctx.warnings]})

    # what the server renders
    def _own(self, base: Path, ident: str, name: str, field: str) -> Path:
        """The file ``name`` in the folder of id ``ident`` under ``base``; InputError for
        anything else, a symlinked folder or file among them (as :meth:`media_path` and
        :meth:`sweep`, nothing is followed out of the service folder)."""
        from creator.drafts import own_file

        if not isinstance(ident, str) or not _ID.fullmatch(ident):
            raise InputError(f"{field}: {_short(ident)!r} is not an id this server gave")
        folder = base / ident
        if folder.is_symlink() or not folder.is_dir():
            raise InputError(f"{field}: no {field} {ident}")
        missing = InputError(f"{field}: no file {_short(name)!r} in {field} {ident}")
        if len(name.encode("utf-8")) > 255 or (folder / name).is_symlink():
            raise missing
        found = own_file(folder, name, field=field)
        if not found.is_file():
            raise missing
        self._used(folder)
        return found

    def new_cover_dir(self) -> tuple[str, Path]:
        cid = self.new_id()
        folder = self.covers / cid
        folder.mkdir()
        return cid, folder

    def cover_file(self, cover_id: str, name: str) -> Path:
        return self._own(self.covers, cover_id, name, "cover")

    def cover_url(self, path: str) -> Path:
        """The file of a cover URL as this server gives them (``covers/<id>/<name>``)."""
        parts = PurePosixPath(str(path).lstrip("/")).parts
        if len(parts) != 3 or parts[0] != "covers":
            raise InputError(f"draft.cover.path: {str(path)[:60]!r} is not a cover URL from POST /cover")
        return self.cover_file(parts[1], parts[2])

    def public_cover(self, cover: Cover, cover_id: str) -> Cover:
        name = Path(cover.path).name if cover.path else None
        return cover.model_copy(update={"path": f"covers/{cover_id}/{name}" if name else None})

    def video_file(self, job_id: str, name: str) -> Path:
        return self._own(self.videos, job_id, name, "video")

    def scrub(self, text: str, files: dict[str, str] | None = None) -> str:
        """``text`` without a server path: known files (``files``: path → what to say) and
        uploaded files by their id, the service's folders and any other absolute folder
        dropped (creator.drafts' message scrubbing)."""
        from creator.drafts import _scrub

        for real, ident in (files or {}).items():
            text = text.replace(real, ident)
        for upload, k in set(self._uploaded.findall(text)):
            with contextlib.suppress(OSError):
                for f in (self.uploads / upload / k).iterdir():
                    text = text.replace(str(f), f"{upload}-{k}")
        for root in self._known:
            text = text.replace(root + os.sep, "").replace(root, "")
        return _scrub(text, [])


# --- video jobs --------------------------------------------------------------------------------

class _Job:
    FINAL = ("done", "failed", "cancelled")

    def __init__(self, job_id: str):
        self.id = job_id
        self.ended: float | None = None  # time.monotonic() when it reached a final state
        self.state = "queued"
        self.progress = 0.0
        self.error: str | None = None
        self.video: VideoResult | None = None
        self.cancel = threading.Event()

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value
        if value in self.FINAL and self.ended is None:
            self.ended = time.monotonic()

    def view(self) -> VideoJob:
        return VideoJob(id=self.id, state=self.state, progress=round(self.progress, 4), error=self.error,
                        video=self.video)


class Jobs:
    """Background renders, ``workers`` at a time; each with its progress and cancel Event."""

    def __init__(self, workers: int = 1):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="creator-video")
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def start(self, job_id: str, work, scrub) -> VideoJob:
        """Run ``work(progress, cancel) -> VideoResult`` in the background."""
        job = _Job(job_id)
        with self._lock:
            self._jobs[job_id] = job

        def progress(_stage: str, done: float, total: float) -> None:
            if total:
                job.progress = max(job.progress, min(1.0, done / total))

        def run() -> None:
            if job.cancel.is_set():
                job.state = "cancelled"
                return
            job.state = "running"
            try:
                job.video = work(progress, job.cancel)
                job.progress, job.state = 1.0, "done"
            except Cancelled:
                job.state = "cancelled"
            except CreatorError as e:
                job.error, job.state = scrub(str(e)), ("cancelled" if job.cancel.is_set() else "failed")
            except Exception:  # noqa: BLE001 - said as an internal error, logged here
                log.exception("video job %s failed", job_id)
                job.error, job.state = "internal error", "failed"

        self._pool.submit(run)
        return job.view()

    def sweep(self, max_age: float) -> list[str]:
        """Forgets the jobs finished more than ``max_age`` seconds ago; returns the ids of
        the jobs still queued or running (whose files must be kept)."""
        now = time.monotonic()
        with self._lock:
            for job_id, job in list(self._jobs.items()):
                if job.ended is not None and now - job.ended > max_age:
                    del self._jobs[job_id]
            return [j for j, job in self._jobs.items() if job.ended is None]

    def get(self, job_id: str) -> _Job:
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise _NotFound(f"video job: no job {str(job_id)[:40]!r}")
        return job

    def cancel(self, job_id: str) -> VideoJob:
        job = self.get(job_id)
        job.cancel.set()
        if job.state == "queued":
            job.state = "cancelled"
        elif job.state == "running":
            job.state = "cancelling"
        return job.view()

    def shutdown(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


class _NotFound(InputError):
    kind = "not_found"  # what the error body says (not the private class name)


_STATUS = ((_NotFound, 404), (Cancelled, 409), (BackendUnavailable, 503), (MediaError, 422),
           (InputError, 400), (DraftError, 400), (CreatorError, 400))


def status_of(error: CreatorError) -> int:
    return next(code for cls, code in _STATUS if isinstance(error, cls))


def _problem(err: dict) -> str:
    """One problem of a 422: its place in the body and what is wrong, never its value
    (the body itself when it is empty or not a JSON object)."""
    where = "/".join(str(x) for x in err.get("loc", ()) if x != "body")
    if err.get("type") == "json_invalid":
        return f"request body: not valid JSON ({err.get('ctx', {}).get('error', 'unreadable')})"
    if not where:
        return ("request body: empty (send a JSON object)" if err.get("type") == "missing"
                else f"request body: {err.get('msg', '')}")
    return f"{where}: {err.get('msg', '')}"


# --- the app --------------------------------------------------------------------------------------

def create_app(settings: Settings | None = None, assistant: Any = None) -> FastAPI:
    """The API over ``assistant`` (default: ``Assistant(settings)``), keeping its files
    under ``settings.service_root``."""
    settings = settings or Settings()
    if assistant is None:
        from creator.assistant import Assistant

        assistant = Assistant(settings)
    stages = assistant
    conf = settings.service
    store = Store(settings.service_root)
    jobs = Jobs(conf.video_jobs)
    max_file, max_request = int(conf.max_upload_mb * MB), int(conf.max_request_mb * MB)

    keep_s = conf.keep_hours * 3600.0

    def sweep() -> None:
        """What has not been used for ``keep_hours`` goes (a video being rendered stays)."""
        try:
            store.sweep(keep_s, keep=jobs.sweep(keep_s))
        except Exception:  # noqa: BLE001 - housekeeping never fails a request
            log.exception("sweeping the service folder failed")

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        sweep()
        yield
        jobs.shutdown()

    app = FastAPIOffline(title="travel-note-creator", version=__version__, lifespan=lifespan,
                  description="The travel-note creation assistant over HTTP: upload photos and clips, "
                              "then understand, caption, soundtrack, cover, carousel and video. "
                              "Bodies are the SDK's types; media are named by the ids uploads return.")
    app.state.store, app.state.jobs, app.state.stages = store, jobs, stages

    @app.exception_handler(CreatorError)
    async def creator_error(_request: Request, e: CreatorError):
        kind = getattr(e, "kind", None) or type(e).__name__
        return JSONResponse({"error": store.scrub(str(e)), "kind": kind}, status_code=status_of(e))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        # the router's own answers (no such endpoint, another method) in the same shape
        where = f"{request.method} {_short(request.url.path)}"
        message = {404: f"{where}: no such endpoint", 405: f"{where}: method not allowed"}.get(
            e.status_code, f"{where}: {_short(e.detail)}")
        kind = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code, "http_error")
        return JSONResponse({"error": message, "kind": kind}, status_code=e.status_code, headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(_request: Request, e: RequestValidationError):
        # the SDK's error shape, and the fields named without the body echoed back (a
        # 300 MB request is not returned in its 422)
        problems = [_problem(err) for err in e.errors()[:5]]
        more = f" (and {len(e.errors()) - 5} more)" if len(e.errors()) > 5 else ""
        return JSONResponse({"error": store.scrub("; ".join(problems) + more), "kind": "ValidationError"},
                            status_code=422)

    app.add_middleware(_InternalErrors)
    if is_loopback(conf.host):  # this computer only: a web page's DNS-rebound name is not let in
        app.add_middleware(_LoopbackHosts)
    app.add_middleware(_JsonBodies, limit=int(conf.max_json_mb * MB), limit_mb=conf.max_json_mb)

    def too_large(message: str) -> JSONResponse:
        return JSONResponse({"error": message, "kind": "too_large"}, status_code=413)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "version": __version__}

    @app.post("/uploads", response_model=UploadResult, status_code=201,
              summary="Upload photos and clips (multipart/form-data, any field name)")
    async def upload(request: Request):
        from python_multipart.multipart import MultipartParser, parse_options_header

        kind, options = parse_options_header(request.headers.get("content-type", ""))
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise InputError("upload: send the files as multipart/form-data")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_request:
            return too_large(f"upload: the request is {int(declared) / MB:.1f} MB, over the "
                             f"{conf.max_request_mb:g} MB limit of one upload request")
        sweep()
        upload_id = store.new_id()
        folder = store.uploads / upload_id
        folder.mkdir()
        sink = _UploadSink(folder, max_file=max_file, max_files=conf.max_files, limit_mb=conf.max_upload_mb)
        parser = MultipartParser(boundary, sink.callbacks())
        stream = request.stream()
        total = 0
        try:
            async for chunk in stream:
                total += len(chunk)
                if total > max_request:
                    raise _TooLarge(f"upload: the request is over the {conf.max_request_mb:g} MB limit "
                                    "of one upload request")
                parser.write(chunk)
            parser.finalize()
            if sink.current is not None:
                raise InputError("upload: the request ended inside a file")
        except _TooLarge as e:
            sink.discard()
            async for chunk in stream:  # read the rest (bounded) so the client hears the answer
                total += len(chunk)
                if total > max_request:
                    break
            return too_large(str(e))
        except CreatorError:
            sink.discard()
            raise
        except Exception as e:  # a malformed body, a client that went away, a full disk
            sink.discard()
            if type(e).__name__ in ("MultipartParseError", "FormParserError", "ClientDisconnect"):
                raise InputError(f"upload: not a readable multipart/form-data body ({type(e).__name__})") from None
            raise
        if not sink.files:
            sink.discard()
            raise InputError("upload: no file in the request (send each as a multipart file part)")
        return UploadResult(upload=upload_id, files=[
            UploadedFile(id=f"{upload_id}-{k}", name=f.name, size=f.size) for k, f in enumerate(sink.files)])

    @app.post("/understand", response_model=NoteContext, summary="Understand uploaded media → NoteContext")
    def understand(body: UnderstandBody):
        if len(body.media) > conf.max_media:
            raise InputError(f"media: more than {conf.max_media} media ids in one request")
        paths = [store.media_path(m, field=f"media[{k}]") for k, m in enumerate(body.media)]
        ctx = stages.understand(paths, hints=body.hints)
        return store.public_context(ctx)

    @app.post("/caption", response_model=list[Caption], summary="Caption drafts for a NoteContext")
    def caption(body: CaptionBody):
        ctx = store.resolve_context(body.context)
        caps = stages.caption(ctx, language=body.language, style=body.style, n=body.n, seed=body.seed,
                              hints=body.hints, keywords=body.keywords, tone=body.tone)
        return [c.model_copy(update={"notes": [store.scrub(n) for n in c.notes]}) for c in caps]

    @app.post("/soundtrack", response_model=list[TrackMatch], summary="Tracks of the music library for a note or a query")
    def soundtrack(body: SoundtrackBody):
        if body.context is None and not body.query:
            raise InputError("soundtrack: give a context, a query or both")
        ctx = store.resolve_context(body.context) if body.context is not None else None
        tracks = stages.soundtrack(ctx, query=body.query, length=body.length, top=body.top,
                                   language=body.language, exclude=body.exclude, pin=body.pin)
        return [t.model_copy(update={"path": PurePosixPath(t.path.replace("\\", "/")).name,
                                     "reason": store.scrub(t.reason)}) for t in tracks]

    @app.post("/cover", response_model=list[Cover],
              summary="Cover candidates; each path is the URL of its image (GET it)")
    def cover(body: CoverBody):
        ctx = store.resolve_context(body.context)
        cover_id, folder = store.new_cover_dir()
        covers = stages.cover(ctx, title=body.title, style=body.style, n=body.n, ratio=body.ratio,
                              seed=body.seed, language=body.language, out_dir=folder)
        return [store.public_cover(c, cover_id) for c in covers]

    @app.get("/covers/{cover_id}/{name}", summary="A cover's image", response_class=FileResponse)
    def cover_image(cover_id: str, name: str):
        return FileResponse(store.cover_file(cover_id, name))

    @app.post("/carousel", response_model=list[CarouselEntry], summary="The image note's photos, chosen and cropped")
    def carousel(body: CarouselBody):
        ctx = store.resolve_context(body.context)
        return stages.carousel(ctx, n=body.n, ratio=body.ratio, labels=body.labels, language=body.language)

    @app.post("/videos", response_model=VideoJob, status_code=202, summary="Start rendering a draft's video")
    def video_start(body: VideoBody):
        sweep()
        draft = body.draft
        ctx = store.resolve_context(draft.context, field="draft.context")
        cover_src = store.cover_url(draft.cover.path) if draft.cover is not None and draft.cover.path else None
        job_id = store.new_id()
        folder = store.videos / job_id
        folder.mkdir()
        cover = draft.cover
        if cover_src is not None:
            target = folder / ("cover" + cover_src.suffix.lower())
            shutil.copyfile(cover_src, target)
            cover = cover.model_copy(update={"path": str(target)})
        server_draft = draft.model_copy(update={"context": ctx, "cover": cover, "covers": [], "video": None})
        files = {str(folder / "note.mp4"): f"videos/{job_id}/note.mp4"}

        def work(progress, cancel) -> VideoResult:
            result = stages.video(server_draft, out=folder / "note.mp4", draft_dir=folder,
                                  media_roots=[store.uploads], progress=progress, cancel=cancel,
                                  length=body.length)
            return result.model_copy(update={"path": f"videos/{job_id}/note.mp4",
                                              "warnings": [store.scrub(w, files) for w in result.warnings]})

        return jobs.start(job_id, work, store.scrub)

    @app.get("/videos/{job_id}", response_model=VideoJob, summary="A video job's state and progress (0..1)")
    def video_status(job_id: str):
        return jobs.get(job_id).view()

    @app.delete("/videos/{job_id}", response_model=VideoJob, summary="Cancel a video job")
    def video_cancel(job_id: str):
        return jobs.cancel(job_id)

    @app.get("/videos/{job_id}/{name}", summary="A rendered video (note.mp4)", response_class=FileResponse)
    def video_file(job_id: str, name: str):
        job = jobs.get(job_id)
        if name != "note.mp4":  # the job's folder holds its draft's files too: only the video is served
            raise _NotFound(f"video: job {job_id} has no file {_short(name)!r} (its video is note.mp4)")
        if job.state != "done":
            raise InputError(f"video: job {job_id} is {job.state}, not done")
        return FileResponse(store.video_file(job_id, name), media_type="video/mp4")

    return app


def _host_name(header: str) -> str:
    """The name in a Host header, without its port ("[::1]:8000" → "::1")."""
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class _LoopbackHosts:
    """On a server bound to this computer only (any loopback address), a request whose
    Host is not ``localhost`` or a loopback address (the bound one among them) is refused
    (400): a page on attacker.example that rebinds its name to 127.0.0.1 would otherwise
    reach the API from the user's browser. A request a web page sends from another site
    (its ``Origin`` is not one of these names: a form posting files to /uploads needs no
    preflight) is refused too (403); the SDK and other programs send no Origin."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        host = headers.get(b"host", b"").decode("latin-1")
        if not is_loopback(_host_name(host.strip().lower())):
            return await JSONResponse({"error": f"Host {host[:80]!r}: this server answers to localhost and "
                                                "loopback addresses (127.0.0.1, ::1) only", "kind": "InputError"},
                                      status_code=400)(scope, receive, send)
        origin = headers.get(b"origin")
        if origin is not None and not is_loopback(_origin_host(origin.decode("latin-1"))):
            return await JSONResponse({"error": "a request from a web page of another site: refused",
                                       "kind": "InputError"}, status_code=403)(scope, receive, send)
        await self.app(scope, receive, send)


def _origin_host(origin: str) -> str:
    """The host of an Origin header ("http://localhost:8501" → "localhost"; "null" → "")."""
    from urllib.parse import urlsplit

    try:
        return (urlsplit(origin.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _not_a_number(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


MAX_DIGITS = 100  # of an integer in a JSON body: no count, seed or size is longer


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a number too large ({len(text.lstrip('-'))} digits)")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"a number too large ({_short(text)})")
    return value


class _JsonBodies:
    """Every request body but an upload's (POST /uploads counts its own limits), checked
    before the app reads it: over ``limit`` bytes a 413, whatever its type; a type that is
    not JSON a 415; NaN, Infinity (which Python's json reads, and no coordinate, length or
    score may be) or a number too large for any field a 400; all in the SDK's error shape."""

    def __init__(self, app, *, limit: int, limit_mb: float):
        self.app, self.limit, self.limit_mb = app, limit, limit_mb

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "").removeprefix(scope.get("root_path", ""))
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH") or path == "/uploads":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()

        async def refuse(message: str, kind: str, status: int):
            await JSONResponse({"error": message, "kind": kind}, status_code=status)(scope, receive, send)

        too_large = f"request body: over the {self.limit_mb:g} MB limit of a JSON request"
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            return await refuse(too_large, "too_large", 413)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await refuse(too_large, "too_large", 413)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        if ctype and not ctype.endswith("json"):  # no type at all is read as JSON, as the app does
            return await refuse(f"request body: send JSON (content-type: application/json), not "
                                f"{_short(ctype)}", "unsupported_media_type", 415)
        body = b"".join(chunks)
        try:
            json.loads(body, parse_constant=_not_a_number, parse_int=_bounded_int, parse_float=_finite_float)
        except ValueError as e:  # JSONDecodeError too: the app answers a malformed body itself
            if not isinstance(e, json.JSONDecodeError):
                return await refuse(f"request body: {e}", "InputError", 400)
        except RecursionError:  # "[[[[..." past the parser's stack: no request is that deep
            return await refuse("request body: nested too deeply", "InputError", 400)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class _InternalErrors:
    """Any error that is not the SDK's: a 500 that says "internal error" and nothing more
    (no traceback, no path); the error itself goes to the server's log."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as e:  # noqa: BLE001 - answered as a 500, logged in full
            log.error("internal error on %s %s", scope.get("method"), scope.get("path"), exc_info=e)
            if started:
                raise
            await JSONResponse({"error": "internal error", "kind": "internal"}, status_code=500)(scope, receive, send)


class _Part:
    def __init__(self, path: Path, name: str):
        self.file = open(path, "xb")  # noqa: SIM115 - closed at the part's end, or by discard()
        self.name, self.size = name, 0


class _UploadSink:
    """python-multipart's callbacks for one upload request: each file part streamed into
    ``<folder>/<k>/<name>`` as it arrives, refused (_TooLarge) once over ``max_file``
    bytes or past ``max_files`` files; plain form fields are read and dropped. A part the
    disk refuses (OSError) is an InputError naming it, never a 500."""

    def __init__(self, folder: Path, *, max_file: int, max_files: int, limit_mb: float):
        self.folder, self.max_file, self.max_files, self.limit_mb = folder, max_file, max_files, limit_mb
        self.files: list[_Part] = []
        self.current: _Part | None = None
        self._headers: dict[bytes, bytes] = {}
        self._field, self._value = b"", b""

    def callbacks(self) -> dict:
        return {"on_part_begin": self._part_begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data,
                "on_part_end": self._part_end}

    def _part_begin(self):
        self._headers, self.current = {}, None

    def _header_field(self, data, start, end):
        self._field += data[start:end]

    def _header_value(self, data, start, end):
        self._value += data[start:end]

    def _header_end(self):
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field, self._value = b"", b""

    def _headers_finished(self):
        from python_multipart.multipart import parse_options_header

        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"filename" not in options:
            return  # a plain form field
        if len(self.files) >= self.max_files:
            raise _TooLarge(f"upload: more than {self.max_files} files in one request")
        name = _safe_name(options[b"filename"].decode("utf-8", "replace"))
        part_dir = self.folder / str(len(self.files))
        try:
            part_dir.mkdir()
            self.current = _Part(part_dir / name, name)
        except OSError as e:
            raise self._refused(len(self.files), name, e) from None
        self.files.append(self.current)

    def _data(self, data, start, end):
        part = self.current
        if part is None:
            return
        part.size += end - start
        if part.size > self.max_file:
            raise _TooLarge(f"upload: {part.name} is over the {self.limit_mb:g} MB limit of one file")
        try:
            part.file.write(data[start:end])
        except OSError as e:  # a full disk
            raise self._refused(len(self.files) - 1, part.name, e) from None

    @staticmethod
    def _refused(k: int, name: str, error: OSError) -> InputError:
        return InputError(f"upload: file {k} ({_short(name)}) cannot be stored on the server "
                          f"({error.strerror or type(error).__name__}); nothing of this request was kept")

    def _part_end(self):
        if self.current is not None:
            self.current.file.close()
            self.current = None

    def discard(self) -> None:
        """Everything a refused request wrote: its open files and its whole folder."""
        for part in self.files:
            with contextlib.suppress(OSError):
                part.file.close()
        shutil.rmtree(self.folder, ignore_errors=True)
