"""The QA suite: named end-to-end stories run against a live stack over HTTP only.

:mod:`twittcom.qa.client` reaches the stack (fake X, fake SMS, processor), :mod:`twittcom.qa.scenario`
registers and runs scenarios and writes JUnit XML, and the ``scenarios_*`` modules hold the stories.
"""

from __future__ import annotations

from twittcom.qa.client import Endpoints, StackClient, StackNotReady, XUser, eventually, metric_value

__all__ = ["Endpoints", "StackClient", "StackNotReady", "XUser", "eventually", "metric_value"]
