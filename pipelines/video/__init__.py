"""The video stage: a beat-synced vertical MP4 of the trip (``Pipeline``, ``VideoRequest``).

plan.py lays out the timeline, clips.py picks clip segments, text.py draws overlays,
audio.py and render.py build the single ffmpeg filter graph that renders it.
"""

from .pipeline import Pipeline, VideoRequest

__all__ = ["Pipeline", "VideoRequest"]
