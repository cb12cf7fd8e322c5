"""Moved: the work-queue port is :mod:`reference.service.work_queue` (ports live in the service layer).

Kept as a re-export so code written against the old path keeps working; import from the new one.
"""

from __future__ import annotations

from reference.service.work_queue import *  # noqa: F403
from reference.service.work_queue import __all__ as __all__
