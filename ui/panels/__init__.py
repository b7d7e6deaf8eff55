"""The editor's pages, one module each, each with one ``render()`` function."""

__all__ = ["start", "media", "caption", "music", "cover", "video", "export", "drafts"]
