"""The cover stage: NoteContext + title → cover candidates (image + :class:`creator.types.Cover`).

``Pipeline(settings)(CoverRequest(context=..., title=...)) -> CoverOutput``

Photo backend (lite, default): rank the photos (choose.py), crop around faces and
subject (crop.py), lay out the style (full-bleed, framed, collage), set the title
(typography.py). Diffusion backend (full): a prompt from the context (diffusion.py),
a generated image per seed (img2img from the best photo as an option), then the same
layouts and typography.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from creator.config import CoverSettings
from creator.drafts import atomic_write_bytes
from creator.errors import ConfigError, InputError, MediaError
from creator.media import open_photo
from creator.resources import load_prompt
from creator.types import Box, Cover, NoteContext

from .choose import PhotoChoice, rank_photos, title_themes
from .crop import RATIOS, crop_to_ratio, output_size, parse_ratio
from .typography import TitleSpec, clean_title, set_title, title_language

__all__ = ["CoverRequest", "CoverCandidate", "CoverOutput", "Pipeline", "open_photo", "save_image", "styles",
           "distinct", "same_shot", "shot_signature", "photo_signature"]

Ratio = Literal["3:4", "1:1", "9:16"]


class CoverRequest(BaseModel):
    """What to make. Unset fields come from :class:`creator.config.CoverSettings`.

    ``style`` None: one candidate per style in turn; ``kicker`` None: place · dates from
    the context, "" for none; ``out_dir``: where to save the candidates (not saved when
    None); ``steps``/``guidance``/``diffusion_size``: override the model family's
    (diffusion only).
    """

    model_config = ConfigDict(extra="forbid")

    context: NoteContext
    title: str | None = None
    language: Literal["zh", "en"] | None = None  # of the default title and kicker; else from the title
    style: str | None = None
    ratio: Ratio | None = None
    n: int | None = Field(None, ge=1, le=16)
    seed: int = 0
    backend: Literal["photo", "diffusion"] | None = None
    width: int | None = Field(None, ge=64, le=4096)
    kicker: str | None = None
    out_dir: Path | None = None
    format: Literal["png", "jpeg"] | None = None
    img2img: bool | None = None
    steps: int | None = Field(None, ge=1)
    diffusion_size: int | None = Field(None, ge=32)  # side of the square area generated; default per family
    guidance: float | None = Field(None, ge=0)
    safety_check: bool | None = None


class CoverCandidate(BaseModel):
    """One rendered cover: the :class:`Cover` record, the image, and how it was made."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    cover: Cover
    image: Any = Field(exclude=True)  # PIL.Image.Image, RGB, exactly the output size
    score: float = 0.0  # the source photo's cover score (photo backend)
    layout: dict = Field(default_factory=dict)  # typography.TitleLayout as a dict
    safety: float | None = None  # P(not safe for work) of the source, when checked
    notes: list[str] = Field(default_factory=list)


class CoverOutput(BaseModel):
    candidates: list[CoverCandidate]
    warnings: list[str] = Field(default_factory=list)

    @property
    def covers(self) -> list[Cover]:
        return [c.cover for c in self.candidates]


def styles() -> dict[str, dict]:
    """The style presets of prompts/cover/styles.yaml, by id."""
    return load_prompt("cover/styles.yaml")["styles"]


def save_image(image: Image.Image, path: Path, fmt: str = "png") -> Path:
    """Write ``image`` atomically (temp file + rename) as PNG or JPEG, with no metadata."""
    # a fresh image carries no EXIF, GPS, ICC or text chunks from the source photo
    clean = Image.frombytes("RGB", image.size, image.convert("RGB").tobytes())
    buf = io.BytesIO()
    if fmt == "jpeg":
        clean.save(buf, format="JPEG", quality=92, optimize=True)
    else:
        clean.save(buf, format="PNG", compress_level=4)
    return atomic_write_bytes(path, buf.getvalue())


#: the longest cover title taken: a post's title runs to about 20 characters, a long
#: English one to 60-100; the layout search grows with the length
MAX_TITLE = 200


def _default_title(context: NoteContext, lang: str) -> str:
    """The title the caption stage would give this trip first (its template draft, seed
    0): the cover and the caption agree, in the CLI and the SDK alike."""
    from pipelines.caption import CaptionRequest
    from pipelines.caption import Pipeline as CaptionPipeline

    try:
        return CaptionPipeline()(CaptionRequest(context=context, language=lang, n=1)).captions[0].title
    except InputError:  # nothing to say about the trip: the styles' plain fallback
        return load_prompt("cover/styles.yaml")["default_title"][lang][-1]


def _kicker(context: NoteContext, lang: str) -> str | None:
    parts = []
    if context.places:
        parts.append(context.places[0].name(lang))
    if context.start:
        s, e = context.start, context.end
        when = f"{s:%Y.%m.%d}"
        if e and e != s:
            when += f"–{e:%m.%d}" if e.year == s.year else f"–{e:%Y.%m.%d}"
        parts.append(when)
    return " · ".join(parts) or None


def _collage_cells(k: int, W: int, H: int, gutter: int, strip: int) -> tuple[list[tuple[int, int, int, int]], tuple]:
    """Cells of a k-photo collage (2..4) around a horizontal title strip; and the strip."""
    top_h = (H - strip) // 2
    y_strip, y_bottom = top_h, top_h + strip
    g = gutter

    def row(y0: int, y1: int, count: int) -> list[tuple[int, int, int, int]]:
        w = (W - g * (count + 1)) // count
        return [(g + i * (w + g), y0, g + i * (w + g) + w, y1) for i in range(count)]

    top_count, bottom_count = {2: (1, 1), 3: (1, 2), 4: (2, 2)}[k]
    cells = row(g, y_strip, top_count) + row(y_bottom, H - g, bottom_count)
    return cells, (0, y_strip, W, y_bottom)


class Pipeline:
    """Cover candidates for a trip. Backends are injected or built from settings:
    ``diffusion`` (a :class:`~pipelines.cover.diffusion.DiffusionBackend`) and ``safety``
    (a :class:`~pipelines.cover.safety.SafetyChecker`) are created on first need."""

    def __init__(self, settings: CoverSettings | None = None, *, diffusion=None, safety=None) -> None:
        self.settings = settings or CoverSettings()
        self._diffusion = diffusion
        self._safety = safety

    # --- backends, built lazily ----------------------------------------------------
    def diffusion(self):
        if self._diffusion is None:
            from .diffusion import DiffusionBackend

            self._diffusion = DiffusionBackend(self.settings.diffusion_model, device=self.settings.device,
                                               precision=self.settings.precision)
        return self._diffusion

    def safety(self):
        if self._safety is None:
            from .safety import SafetyChecker

            self._safety = SafetyChecker()
        return self._safety

    # --- the stage -------------------------------------------------------------------
    def __call__(self, request: CoverRequest) -> CoverOutput:
        s = self.settings
        presets = styles()
        warnings: list[str] = []

        # 1. check inputs
        ratio = request.ratio or s.ratio
        if ratio not in RATIOS:
            raise InputError(f"ratio must be one of {RATIOS}, got {ratio!r}")
        style = request.style if request.style is not None else s.style
        if style is not None and style not in presets:
            raise InputError(f"style {style!r} is unknown: choose one of {sorted(presets)}")
        backend = request.backend or s.backend
        n = request.n or s.n
        fmt = request.format or s.format
        out = output_size(ratio, request.width or s.width)
        check = s.safety_check if request.safety_check is None else request.safety_check
        if request.title is not None and not request.title.strip():
            raise InputError("title is empty: give a title or leave it unset for a default one",
                             code="cover_title_empty")
        if request.title is not None and len(request.title) > MAX_TITLE:
            raise InputError(f"title: {len(request.title)} characters; a cover takes at most {MAX_TITLE} "
                             "(a title of thousands never fits a cover and took minutes to lay out)",
                             code="cover_title_too_long", n=len(request.title), limit=MAX_TITLE)

        # 2. title, language and kicker
        lang = request.language or (title_language(request.title) if request.title else "zh")
        title = request.title or _default_title(request.context, lang)
        if not clean_title(title)[0]:
            raise InputError(f"title {title!r} has no character the cover font can draw")
        kicker = _kicker(request.context, lang) if request.kicker is None else (request.kicker or None)

        # 3. which styles, in turn
        if style is not None:
            if backend == "diffusion" and not presets[style].get("diffusion", True):
                raise InputError(f"style {style!r} needs photos; it cannot be used with the diffusion backend")
            plan = [style] * n
        else:
            order = [x for x in load_prompt("cover/styles.yaml").get("default_order", list(presets))
                     if backend == "photo" or presets[x].get("diffusion", True)]
            plan = list(itertools.islice(itertools.cycle(order), n))

        # 4. the sources: ranked photos (both backends: img2img starts from the best one)
        ranked = rank_photos(request.context, parse_ratio(ratio), out[0], themes=title_themes(title, request.context))
        if backend == "photo" and not ranked:
            raise InputError("context has no readable photo to make a cover from")
        photos = _PhotoCache(max_side=int(max(out) * 1.34))
        if check and ranked:
            kept = []
            for choice in ranked:
                p = self.safety().probability(photos.get(choice.item.path))
                if p > 0.8:
                    warnings.append(f"photo {Path(choice.item.path).name} left out of the covers: "
                                    f"the safety check rated it unsafe ({p:.2f})")
                else:
                    kept.append(choice)
            ranked = kept
            if backend == "photo" and not ranked:
                raise InputError("no photo passed the safety check")
        ranked, n_distinct = _distinct(ranked)

        # 5. render each candidate: background, then the title
        candidates: list[CoverCandidate] = []
        single = 0  # the next photo for one-photo styles
        for i, st in enumerate(plan):
            preset = presets[st]
            spec = TitleSpec.from_dict(preset.get("title"))
            notes: list[str] = []
            if backend == "diffusion":
                bg, faces, subject, area, record, safety = self._generated(
                    request, st, preset, out, ratio, ranked, photos, request.seed + i, check, notes)
                if bg is None:
                    warnings.extend(notes)
                    continue
                score = 0.0
            else:
                layout = preset.get("layout", "full")
                if layout == "collage":
                    lo, hi = preset.get("collage", {}).get("photos", [2, 4])
                    # distinct shots only, unless there are too few of them
                    k = min(hi, n_distinct if n_distinct >= lo else len(ranked))
                    if k < lo:
                        warnings.append(f"style {st!r} needs {lo} photos, the trip has {len(ranked)}: skipped")
                        continue
                    chosen = ranked[:k]
                else:
                    chosen = [ranked[single % len(ranked)]]
                    single += 1
                bg, faces, subject, area = self._compose(preset, out, chosen, photos, notes)
                record = dict(source=",".join(c.item.id for c in chosen), backend="photo")
                score = sum(c.score for c in chosen) / len(chosen)
                safety = None
            image, layout_info = set_title(bg, title, spec, area=area, avoid=faces, subject=subject,
                                           kicker=kicker if preset.get("kicker") else None)
            notes += layout_info.notes
            cover = Cover(title=title, style=st, ratio=ratio, **record)
            candidates.append(CoverCandidate(cover=cover, image=image, score=round(score, 4),
                                             layout=asdict(layout_info), safety=safety, notes=notes))

        # 6. save atomically
        if request.out_dir is not None:
            ext = "jpg" if fmt == "jpeg" else "png"
            for i, c in enumerate(candidates):
                path = save_image(c.image, Path(request.out_dir) / f"cover-{i + 1:02d}-{c.cover.style}.{ext}", fmt)
                c.cover.path = str(path)
        if not candidates:
            raise InputError("no cover could be made: " + "; ".join(warnings))
        return CoverOutput(candidates=candidates, warnings=warnings)

    # --- layouts -----------------------------------------------------------------------
    def _compose(self, preset: dict, out: tuple[int, int], chosen: list[PhotoChoice], photos: "_PhotoCache",
                 notes: list[str], images: list[Image.Image] | None = None):
        """The picture under the title: (image, faces, subject, title area) in cover pixels."""
        W, H = out
        layout = preset.get("layout", "full")
        images = images or [photos.get(c.item.path) for c in chosen]
        quals = [c.item.quality if c is not None else None for c in (chosen or [None] * len(images))]
        faces_of = [list(q.faces) if q else [] for q in quals]
        subj_of = [q.subject if q else None for q in quals]
        if layout == "full":
            img, faces, subject, plan = crop_to_ratio(images[0], out, faces_of[0], subj_of[0])
            notes += plan.notes
            return img, faces, subject, None
        paper = preset.get("paper", "#FFFFFF")
        canvas = Image.new("RGB", out, paper)
        if layout == "frame":
            fr = preset.get("frame", {})
            side, top, bottom = int(fr.get("side", 0.06) * W), int(fr.get("top", 0.06) * W), int(fr.get("bottom", 0.22) * H)
            rect = (side, top, W - side, H - bottom)
            img, faces, subject, plan = crop_to_ratio(images[0], (rect[2] - rect[0], rect[3] - rect[1]),
                                                      faces_of[0], subj_of[0])
            notes += plan.notes
            canvas.paste(img, rect[:2])
            return canvas, [_to_canvas(f, rect, out) for f in faces], None, (0, rect[3], W, H)
        if layout == "collage":
            c = preset.get("collage", {})
            cells, strip = _collage_cells(len(images), W, H, max(2, int(c.get("gutter", 0.014) * W)),
                                          int(c.get("strip", 0.2) * H))
            all_faces: list[Box] = []
            for img, cell, fs, sj in zip(images, cells, faces_of, subj_of):
                size = (cell[2] - cell[0], cell[3] - cell[1])
                part, faces, _, plan = crop_to_ratio(img, size, fs, sj)
                notes += plan.notes
                canvas.paste(part, cell[:2])
                all_faces += [_to_canvas(f, cell, out) for f in faces]
            return canvas, all_faces, None, strip
        raise ConfigError(f"unknown cover layout {layout!r} in styles.yaml")

    def _generated(self, request: CoverRequest, st: str, preset: dict, out, ratio: str, ranked, photos,
                   seed: int, check: bool, notes: list[str]):
        """A generated picture for one candidate (None when the safety check rejects it)."""
        from .diffusion import build_prompt, generation_size

        backend = self.diffusion()
        prompt, negative = build_prompt(request.context, st)
        fam = backend.family
        size = generation_size(request.diffusion_size or fam.size, parse_ratio(ratio))
        use_i2i = self.settings.img2img if request.img2img is None else request.img2img
        init = None
        if use_i2i:
            if not ranked:
                raise InputError("img2img needs a photo in the context")
            best = ranked[0]
            init, _, _, _ = crop_to_ratio(photos.get(best.item.path), size,
                                          best.item.quality.faces if best.item.quality else [],
                                          best.item.quality.subject if best.item.quality else None)
        image = backend.generate(prompt, negative, seed=seed, width=size[0], height=size[1],
                                 steps=request.steps, guidance=request.guidance, init_image=init)
        safety = None
        if check:
            safety = self.safety().probability(image)
            if safety > 0.8:
                notes.append(f"generated image for seed {seed} rejected by the safety check ({safety:.2f})")
                return None, None, None, None, None, None
        bg, faces, subject, area = self._compose(preset, out, [], photos, notes, images=[image])
        record = dict(source="diffusion", backend="diffusion", prompt=prompt, seed=seed)
        if init is not None:
            record["source"] = f"diffusion:{ranked[0].item.id}"
        return bg, faces, subject, area, record, safety


def _to_canvas(b: Box, rect: tuple[int, int, int, int], out: tuple[int, int]) -> Box:
    """A box normalised to ``rect`` → normalised to the whole cover."""
    x0, y0, x1, y1 = rect
    W, H = out
    return Box(x0=(x0 + b.x0 * (x1 - x0)) / W, y0=(y0 + b.y0 * (y1 - y0)) / H,
               x1=(x0 + b.x1 * (x1 - x0)) / W, y1=(y0 + b.y1 * (y1 - y0)) / H, score=b.score)


# Two photos whose 16x16 grey thumbnails differ by less than this (mean, 0..255) are the
# same shot (a burst, a re-export): a collage or a second candidate shows another one.
_SAME_SHOT = 6.0
# A burst (shots seconds apart) moves a little between frames: within ``burst_seconds``
# of each other, photos this close are the same shot too.
_BURST_SHOT = 16.0
_DEDUPE_TOP = 8  # only the best few are compared: the rest are never shown


def shot_signature(image: Image.Image):
    """What :func:`distinct` compares: the 16x16 grey thumbnail of an image (float32)."""
    import numpy as np

    return np.asarray(image.convert("L").resize((16, 16)), np.float32)


def photo_signature(path: str):
    """:func:`shot_signature` of a photo file (decoded tiny); None when it cannot be read."""
    try:
        return shot_signature(open_photo(path, max_side=64))
    except (MediaError, OSError):
        return None


def same_shot(a, b, *, seconds: float | None = None, burst_seconds: float = 0.0) -> bool:
    """Whether two signatures show the same shot: nearly identical, or a burst (taken
    ``seconds`` apart, at most ``burst_seconds``, and close)."""
    diff = float(abs(a - b).mean())
    if diff < _SAME_SHOT:
        return True
    return seconds is not None and abs(seconds) <= burst_seconds and diff < _BURST_SHOT


def distinct(ranked: list, *, top: int = _DEDUPE_TOP, signature=None,
             burst_seconds: float = 0.0) -> tuple[list, int]:
    """The ranked photos with near-duplicates of a better-ranked one moved to the end,
    and how many come before them.

    ``ranked``: :class:`PhotoChoice` s (anything with ``.item``), best first; only the
    first ``top`` are compared. ``signature(choice)`` gives what is compared (default:
    :func:`photo_signature` of the item's file; None: not comparable, kept).
    ``burst_seconds`` > 0 also counts burst shots (close, that many seconds apart) as
    the same shot.
    """
    signature = signature or (lambda c: photo_signature(c.item.path))
    kept, dupes, seen = [], [], []
    for k, choice in enumerate(ranked):
        if k >= top:
            kept.append(choice)
            continue
        sig = signature(choice)
        if sig is None:
            kept.append(choice)
            continue
        when = choice.item.taken_at

        def apart(other) -> float | None:
            if when is None or other is None:
                return None
            try:
                return (when - other).total_seconds()
            except TypeError:  # one with a time zone, one without
                return None

        if any(same_shot(sig, s, seconds=apart(t), burst_seconds=burst_seconds) for s, t in seen):
            dupes.append(choice)
        else:
            seen.append((sig, when))
            kept.append(choice)
    return kept + dupes, len(kept)


_distinct = distinct


class _PhotoCache:
    """Each photo decoded once per call."""

    def __init__(self, max_side: int) -> None:
        self.max_side = max_side
        self._images: dict[str, Image.Image] = {}

    def get(self, path: str) -> Image.Image:
        if path not in self._images:
            self._images[path] = open_photo(path, max_side=self.max_side)
        return self._images[path]
