"""Artifacts of a test run: screenshots, page sources, console logs."""

from lambda_ui.runner.artifacts.recorder import Artifacts

__all__ = ["Artifacts"]
