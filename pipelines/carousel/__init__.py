"""The carousel stage: the image note's photos after the cover, chosen, ordered and cropped.

``Pipeline()(CarouselRequest(context=ctx, cover_items=[...], n=9, ratio="3:4")) -> CarouselOutput``;
``render_entry(entry, item, size)`` makes one posted image; ``write_post(draft, draft_dir)``
writes the whole note, ready to post, into ``<draft_dir>/post/``.
"""

from .pipeline_carousel import (MAX_IMAGES, RATIOS, SIZES, CarouselOutput, CarouselRequest, Pipeline, crop_slack,
                                entry_for, label_for, moment_label, number_entries, slide_crop)
from .post import post_ratio, post_zip, write_post
from .render import render_entry

__all__ = ["Pipeline", "CarouselRequest", "CarouselOutput", "RATIOS", "SIZES", "MAX_IMAGES", "moment_label",
           "number_entries", "render_entry", "write_post", "post_ratio", "post_zip", "entry_for", "crop_slack", "slide_crop",
           "label_for"]
