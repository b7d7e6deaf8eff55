"""One exception tree for the whole assistant.

Every error the SDK raises on purpose derives from :class:`CreatorError`, so an app
backend can catch one class. Messages are written for the person who will read them:
what went wrong and, where there is one, what to do about it.
"""

from __future__ import annotations

__all__ = [
    "CreatorError",
    "InputError",
    "MediaError",
    "BackendUnavailable",
    "ConfigError",
    "DraftError",
    "Cancelled",
    "exit_status",
]


class CreatorError(Exception):
    """Base class of every error raised by the assistant.

    ``code``: a stable name of the case for the cases a user commonly meets (e.g.
    ``"no_usable_media"``), and ``details`` the facts it names (file names...), so that
    a front end can say it in its own language without parsing the message; ``None``
    for the others (the class then says what kind of problem it is)."""

    code: str | None = None

    def __init__(self, *args, code: str | None = None, **details) -> None:
        super().__init__(*args)
        self.code = code
        self.details = details  # kept by pickle (the instance __dict__): Ray, processes


class InputError(CreatorError, ValueError):
    """A request argument is wrong (names the argument)."""


class MediaError(CreatorError):
    """A photo, clip or audio file could not be read or is not supported."""


class BackendUnavailable(CreatorError):
    """An optional dependency or model is missing; the message says how to get it."""


class ConfigError(CreatorError, ValueError):
    """Settings are inconsistent or name something that does not exist."""


class DraftError(CreatorError):
    """A saved draft cannot be read (corrupt, or written by an incompatible version)."""


class Cancelled(CreatorError):
    """A long task (a render, an index) was cancelled by its caller."""


def exit_status(error: BaseException) -> int:
    """The command line's exit status for ``error``, one rule for every command:
    2 for a usage error (an argument or option is wrong: InputError, ConfigError),
    130 when cancelled, 1 for any other failure (media that cannot be used, a draft that
    cannot be read, a missing model or extra, a disk problem)."""
    if isinstance(error, Cancelled) or isinstance(error, KeyboardInterrupt):
        return 130
    if isinstance(error, (InputError, ConfigError)):
        return 2
    return 1
