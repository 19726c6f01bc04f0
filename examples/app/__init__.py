"""Trailhead Supply: a small shop app that the example UI suites test.

Standard library only. `start_app()` serves it from a daemon thread.
"""

from __future__ import annotations

from .server import RunningApp, start_app

__all__ = ["RunningApp", "start_app"]
