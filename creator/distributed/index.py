"""The music library's decoding and analysis as Ray tasks.

``index_library(DIR, analyser=ray_analyser(address))`` (``creator library index DIR
--ray``) is the local indexer with one part swapped: the tracks whose content is not in
the index yet are analysed by :func:`creator.music.library.analyse_track` in Ray tasks
instead of one after the other here. Scanning, the content-hash cache (unchanged files
are not read, moved ones keep their analysis) and the one index writer stay on the driver,
so both paths write the same index file.
"""

from __future__ import annotations

from pathlib import Path

from . import ray_session

__all__ = ["ray_analyser"]


def ray_analyser(address: str | None = None, *, num_cpus_per_task: float = 1.0):
    """An :data:`creator.music.library.Analyser` running each track as a Ray task
    (``num_cpus_per_task`` CPUs reserved for each). ``address``: see
    :func:`creator.distributed.ray_session`. A task whose worker dies (killed for memory,
    a crash in a decoder) is that track's error, never the index's."""

    def run(jobs, mood_model=None):
        from ..music.library import analyse_track

        with ray_session(address) as ray:
            task = ray.remote(num_cpus=num_cpus_per_task, max_retries=1)(analyse_track)
            model = ray.put(mood_model) if mood_model is not None else None
            slots, names = {}, {}
            for slot, key in jobs:  # submitted as planned: the first tasks run while the rest are hashed
                ref = task.remote(key, model)
                slots[ref], names[ref] = slot, Path(key).name
            pending = list(slots)
            try:
                while pending:
                    ready, pending = ray.wait(pending, num_returns=min(len(pending), 64), timeout=1.0)
                    for ref in ready:
                        try:
                            analysis, error = ray.get(ref)
                        except Exception as e:  # noqa: BLE001 - the worker died: this track's error
                            analysis, error = None, f"cannot analyse {names[ref]}: its Ray task failed ({type(e).__name__})"
                        yield slots[ref], analysis, error
            finally:
                for ref in pending:  # stopped early (Ctrl-C, an error): drop the rest
                    ray.cancel(ref)

    return run
