"""One Settings model for the whole assistant.

Two profiles: ``lite`` (the default: every weight ships in a pip package, CPU, offline)
and ``full`` (CLIP, CLAP, an LLM, a diffusion model, from a local folder or the hub).
Any field can be overridden from the environment with the ``CREATOR_`` prefix and
``__`` between levels, e.g. ``CREATOR_CAPTION__BACKEND=openai``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

__all__ = [
    "Settings",
    "TaggingSettings",
    "MusicSettings",
    "CaptionSettings",
    "CoverSettings",
    "VideoSettings",
    "UISettings",
    "MediaSettings",
    "ServiceSettings",
    "SERVICE_STAGES",
    "DistributedSettings",
    "default_cache_dir",
]

Profile = Literal["lite", "full"]

#: ``device`` of a model section: "auto" (CUDA, then MPS, then CPU) or a torch device
#: string ("cpu", "cuda", "cuda:1", "mps") that is used as given.
#: ``precision``: "auto" (float16 on a GPU, float32 on the CPU) or forced.
Precision = Literal["auto", "float32", "float16", "bfloat16"]

# What the full profile switches on: the backend of each section, unless the caller or
# the environment (CREATOR_<SECTION>__BACKEND) chose one.
_FULL_BACKENDS = {"tagging": "clip", "music": "clap", "caption": "transformers", "cover": "diffusion"}


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "travel-note-creator"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TaggingSettings(_Section):
    backend: Literal["lite", "clip"] = "lite"
    # CLIP or Chinese-CLIP: a hub id or a local folder with a saved model and processor.
    # Default: Chinese-CLIP ViT-B/16 (reads the vocabulary's zh prompts; see README "Full profile models")
    clip_model: str = "OFA-Sys/chinese-clip-vit-base-patch16"
    # a CLIP tag scoring below this is a suggestion, not a fact (0.5: four times its uniform
    # share of the softmax; measure a model with tests/benchmarks/bench_tagging_clip.py)
    clip_fact_score: float = Field(0.5, ge=0, le=1)
    batch_size: int = Field(16, ge=1)
    image_size: int = Field(448, ge=64)  # longest side the photo is decoded at for analysis
    min_score: float = Field(0.15, ge=0, le=1)  # tags below this are dropped from an item
    max_tags: int = Field(12, ge=1)
    faces: bool = True
    # torch intra-op threads while understanding (None: torch's default). Understanding
    # runs two worker threads itself; more torch threads on top only thrash on 2 cores.
    torch_threads: int | None = Field(1, ge=1)
    device: str = "auto"
    precision: Precision = "auto"


class MusicSettings(_Section):
    backend: Literal["lite", "clap"] = "lite"
    library: Path | None = None  # None: the demo tracks of immich-memories-music
    index_dir: Path | None = None  # None: <cache>/music
    clap_model: str = "laion/larger_clap_music"  # CLAP trained on music (README "Full profile models")
    # weights of the score parts (lite): text embedding, acoustic vector, mood agreement;
    # chosen on tests/music/data/dev_notes.yaml (tests/benchmarks/bench_music.py --weights)
    weight_text: float = 0.2
    weight_acoustic: float = 0.2
    weight_mood: float = 0.5
    top: int = Field(5, ge=1)
    device: str = "auto"
    precision: Precision = "auto"


class CaptionSettings(_Section):
    backend: Literal["template", "transformers", "openai"] = "template"
    language: Literal["zh", "en"] = "zh"
    style: str = "guide"
    emoji: bool = True
    # transformers: hub id or folder. Qwen2.5-1.5B-Instruct writes Chinese and English JSON
    # (Apache-2.0; the 3B is better but under the Qwen research licence)
    model: str = "Qwen/Qwen2.5-1.5B-Instruct"
    gguf_file: str | None = None
    base_url: str = "http://127.0.0.1:11434/v1"  # openai-compatible endpoint (Ollama default)
    openai_model: str = "qwen2.5:7b-instruct"
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this environment variable
    max_new_tokens: int = Field(600, ge=16)
    temperature: float = Field(0.7, ge=0)
    retries: int = Field(2, ge=0)
    timeout: float = Field(60.0, gt=0)
    device: str = "auto"
    precision: Precision = "auto"


class CoverSettings(_Section):
    backend: Literal["photo", "diffusion"] = "photo"
    ratio: Literal["3:4", "1:1", "9:16"] = "3:4"
    width: int = Field(1080, ge=64)
    style: str | None = None  # None: one candidate per style
    n: int = Field(4, ge=1)
    diffusion_model: str = "stabilityai/sd-turbo"  # 1 step, guidance 0 (prompts/cover/diffusion.yaml)
    img2img: bool = False
    safety_check: bool = False
    format: Literal["png", "jpeg"] = "png"
    device: str = "auto"
    precision: Precision = "auto"


class VideoSettings(_Section):
    width: int = Field(1080, ge=64)
    height: int = Field(1920, ge=64)
    fps: int = Field(30, ge=1, le=120)
    length: float | None = None  # seconds; None: from the number of items and the excerpt
    crf: int = Field(20, ge=0, le=51)
    preset: str = "veryfast"
    # who renders the plan: one ffmpeg filter graph (the default, faster), or moviepy 2.x
    # (pipelines/video/moviepy_render.py; the 'moviepy' extra), the same plan
    backend: Literal["ffmpeg", "moviepy"] = "ffmpeg"
    # timeline (pipelines/video/plan.py): nominal durations before snapping cuts to beats
    intro_seconds: float = Field(2.0, ge=0)  # the cover (or the first photo with the title)
    photo_seconds: float = Field(2.5, gt=0)
    clip_seconds: float = Field(4.0, gt=0)  # at most this much of each clip's best segment
    min_segment: float = Field(1.0, gt=0)  # no shot on screen shorter than this
    min_length: float = Field(15.0, gt=0)  # bounds of the automatic length
    max_length: float = Field(60.0, gt=0)
    snap: Literal["beat", "bar", "none"] = "beat"  # bar: on the track's downbeats (else every 4th beat)
    transition_seconds: float = Field(0.4, ge=0)
    # cycled between shots; "cut" is a hard cut; others are ffmpeg xfade names
    transitions: list[str] = Field(
        default_factory=lambda: ["fade", "slideup", "fade", "zoomin", "fade", "circleopen", "fadeblack"])
    zoom: float = Field(1.12, ge=1.0, le=2.0)  # Ken Burns zoom factor
    # safe zones, fractions of the frame kept clear of the title, the captions and the
    # cover's own text: what a 9:16 feed covers with its caption and buttons (bottom),
    # its like/share rail (right) and its status bar (top). All 0: the whole frame.
    safe_top: float = Field(0.08, ge=0, lt=0.5)
    safe_bottom: float = Field(0.20, ge=0, lt=0.5)
    safe_left: float = Field(0.0, ge=0, lt=0.5)
    safe_right: float = Field(0.12, ge=0, lt=0.5)
    # audio (pipelines/video/audio.py)
    music_fade_in: float = Field(0.3, ge=0)
    music_fade_out: float = Field(1.5, ge=0)
    clip_audio: bool = True  # keep the clips' own sound, with the music ducked under it
    duck_gain: float = Field(0.25, ge=0, le=1)  # music gain while clip audio plays
    loudness: float = Field(-14.0, le=0)  # integrated loudness target, LUFS (loudnorm)
    audio_bitrate: str = "160k"


class UISettings(_Section):
    """The editor (``creator ui``): what a browser may make the server read.

    The Start page's "folder on this computer" field reads files on the *server*. It is
    shown when ``local_folders`` is true, or when it is None (the default) and the
    editor serves on a loopback address only (127.0.0.1, ::1, localhost: the browser
    is on the same computer). It reads only inside ``local_roots`` (default: the home
    folder of the user running the editor; an empty list turns the field off).
    """

    local_folders: bool | None = None
    local_roots: list[Path] = Field(default_factory=lambda: [Path.home()])
    folder_max_files: int = Field(1000, ge=1)  # photos and clips taken from one folder
    folder_max_entries: int = Field(20_000, ge=1)  # files looked at while searching it
    upload_max_mb: float = Field(200.0, gt=0)  # one uploaded file (also Streamlit's own limit)
    upload_total_mb: float = Field(4000.0, gt=0)  # all the uploads of one draft
    upload_max_pixels: int = Field(100_000_000, ge=1)  # one uploaded photo (read from its header)
    upload_total_pixels: int = Field(10_000_000_000, ge=1)  # all the uploaded photos of one draft


#: The heavy stages of ``creator serve``: each one deployment under Ray Serve.
SERVICE_STAGES = ("understand", "caption", "soundtrack", "cover", "video")


class ServiceSettings(_Section):
    """The HTTP API (``creator serve``, creator.service).

    Uploads are streamed to disk under ``work_dir`` (None: ``<cache_dir>/service``) and
    refused over ``max_upload_mb`` per file or ``max_request_mb`` per request. What the
    service keeps there (uploads, covers, videos) is deleted ``keep_hours`` after its last
    use; a video being rendered is kept. Under Ray
    Serve (``--ray``) each heavy stage is its own deployment with ``replicas[stage]``
    replicas (default 1) of ``replica_cpus[stage]`` CPUs (default 1) and
    ``replica_gpus[stage]`` GPUs (default 0); ``work_dir`` must then be on a file system
    every node sees.
    """

    host: str = "127.0.0.1"  # this computer only; another address is said on stderr
    port: int = Field(8000, ge=0, le=65535)
    work_dir: Path | None = None
    max_upload_mb: float = Field(200.0, gt=0)  # one uploaded file
    max_request_mb: float = Field(2000.0, gt=0)  # one upload request, all its files
    max_json_mb: float = Field(32.0, gt=0)  # one JSON request body (a trip's context, a draft)
    max_files: int = Field(200, ge=1)  # files in one upload request
    max_media: int = Field(1000, ge=1)  # media ids in one understand request
    video_jobs: int = Field(1, ge=1)  # videos rendered at once (under Ray: by each video replica); others wait, queued
    # uploads, covers and videos not used for this long are deleted, and finished video jobs
    # forgotten (checked at start and on each upload and video request)
    keep_hours: float = Field(24.0, gt=0)
    replicas: dict[str, int] = Field(default_factory=dict)
    replica_cpus: dict[str, float] = Field(default_factory=dict)
    replica_gpus: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_stages(self) -> "ServiceSettings":
        for field in ("replicas", "replica_cpus", "replica_gpus"):
            values = getattr(self, field)
            unknown = sorted(set(values) - set(SERVICE_STAGES))
            if unknown:
                raise ValueError(f"{field}: unknown stage {unknown[0]!r}; choose among {', '.join(SERVICE_STAGES)}")
            bad = sorted(k for k, v in values.items() if v < (1 if field == "replicas" else 0))
            if bad:
                raise ValueError(f"{field}.{bad[0]}: must be {'at least 1' if field == 'replicas' else '0 or more'}")
        return self


class DistributedSettings(_Section):
    """Batch work on Ray (``pip install '.[distributed]'``): ``creator tag --ray``,
    ``Assistant.understand_many``, ``creator library index --ray``."""

    # understand_many: photos/clips handed to one tagging actor per call (map_batches)
    understand_batch_size: int = Field(16, ge=1)
    # tagging actors (each loads the tagger once), CPUs and GPUs reserved per actor
    understand_actors: int = Field(2, ge=1)
    understand_cpus_per_actor: float = Field(1.0, gt=0)
    understand_gpus_per_actor: float = Field(0.0, ge=0)  # e.g. 1 (or 0.5: two actors a GPU) with tagging.device=cuda
    # files probed and hashed by one load task
    load_batch_size: int = Field(8, ge=1)
    # library index --ray: CPUs reserved per track analysis task
    index_cpus_per_task: float = Field(1.0, gt=0)


class MediaSettings(BaseSettings):
    """How photos are read (creator.media.open_photo, used by every stage).

    Its own environment prefix too (``CREATOR_MEDIA__MAX_DECODE_MB``), so the budget
    holds where a stage is given only its own section.
    """

    model_config = SettingsConfigDict(env_prefix="CREATOR_MEDIA__", extra="forbid", validate_assignment=True)

    # memory one photo decode may take, MiB, estimated from the header before decoding
    # (Pillow keeps 4 bytes a pixel for RGB and RGBA): 1024 admits a 250-megapixel RGB or
    # RGBA PNG and refuses a 19500x19500 RGBA PNG (1.42 GiB of pixels); JPEGs decode
    # reduced, so any size opens at the sizes the stages ask for
    max_decode_mb: int = Field(1024, ge=1)


class Settings(BaseSettings):
    """Everything that can be configured. ``Settings.for_profile("full")`` for the full profile."""

    model_config = SettingsConfigDict(
        env_prefix="CREATOR_", env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    profile: Profile = "lite"
    cache_dir: Path = Field(default_factory=default_cache_dir)
    drafts_dir: Path | None = None  # where the editor autosaves drafts; None: <cache_dir>/drafts
    tagging: TaggingSettings = Field(default_factory=TaggingSettings)
    music: MusicSettings = Field(default_factory=MusicSettings)
    caption: CaptionSettings = Field(default_factory=CaptionSettings)
    cover: CoverSettings = Field(default_factory=CoverSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    ui: UISettings = Field(default_factory=UISettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    distributed: DistributedSettings = Field(default_factory=DistributedSettings)

    @property
    def drafts_root(self) -> Path:
        return Path(self.drafts_dir) if self.drafts_dir else Path(self.cache_dir) / "drafts"

    @property
    def service_root(self) -> Path:
        """Where ``creator serve`` keeps uploads, covers and videos."""
        w = self.service.work_dir
        return Path(w) if w else Path(self.cache_dir) / "service"

    @model_validator(mode="after")
    def _profile_backends(self) -> "Settings":
        """The full profile's backends are defaults: a backend the caller or the
        environment set (``CREATOR_TAGGING__BACKEND=lite``) is kept as it is."""
        if self.profile == "full":
            for section, backend in _FULL_BACKENDS.items():
                sub = getattr(self, section)
                if "backend" not in sub.model_fields_set:
                    sub.backend = backend
        return self

    @classmethod
    def for_profile(cls, profile: str = "lite", **overrides) -> "Settings":
        """Settings for a profile; ``overrides`` are top-level fields or whole sections.

        Precedence, highest first: ``overrides``, the environment (``CREATOR_...``), the
        profile (full: CLIP, CLAP, a transformers LLM, diffusion covers), the defaults.
        """
        if profile not in ("lite", "full"):
            raise ConfigError(f"unknown profile {profile!r}: choose 'lite' or 'full'")
        return cls(profile=profile, **overrides)
