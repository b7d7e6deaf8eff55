"""The cover stage: the best photo (or a generated image) with the title set on it.

``Pipeline(settings)(CoverRequest(context=ctx, title="杭州西湖｜秋天慢慢走")) -> CoverOutput``
"""

from .pipeline import CoverCandidate, CoverOutput, CoverRequest, Pipeline, open_photo, save_image, styles

__all__ = ["Pipeline", "CoverRequest", "CoverOutput", "CoverCandidate", "open_photo", "save_image", "styles"]
