"""Twittcom Harness: the command line and the in-process wiring of the whole stack.

This package is the only one that knows every component (``reference``, ``fake_twitter``,
``fake_sms``, ``simulator``, ``loadtests``); the components never import one another (the
simulator and the load tests share only the pure ``scenario`` contract).
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
