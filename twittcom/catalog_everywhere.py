"""The sample catalog sold in every circle, for stacks that run a scenario.

The sample catalog (``reference/data/catalog.toml``) sells packs in 12 of the 22 circles. The
simulator counts every buy of a registered subscriber as an activation, wherever they live, so a
stack that runs a scenario sells each sample pack in every circle: where the sample names no
hashtag for a circle, the pack is sold there as ``X<PACK ID><CIRCLE>`` (``XSTV49HP``).
"""

from __future__ import annotations

import dataclasses

from reference.domain.catalog import Catalog, default_catalog_path, load_catalog
from reference.domain.circles import CIRCLE_CODES

__all__ = ["catalog_in_all_circles"]


def catalog_in_all_circles() -> Catalog:
    """The sample catalog with every pack on sale in all 22 circles."""
    sample = list(load_catalog(default_catalog_path()))
    packs = list(sample)
    sold = {(p.pack_id, p.circle) for p in sample}
    first = {p.pack_id: p for p in reversed(sample)}
    for pack_id, pack in first.items():
        for circle in CIRCLE_CODES:
            if (pack_id, circle) not in sold:
                tag = f"X{pack_id.upper().replace('-', '_')}{circle}"
                packs.append(dataclasses.replace(pack, circle=circle, hashtag=tag))
    return Catalog(packs)
