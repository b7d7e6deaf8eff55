"""The soundtrack stage: tracks from a music library matched to a note."""

from .pipeline_soundtrack import Pipeline, SoundtrackOutput, SoundtrackRequest

__all__ = ["Pipeline", "SoundtrackRequest", "SoundtrackOutput"]
