"""The filmstrip: a screenshot after every navigation and click of the ``browser`` fixture.

A module of its own because it subclasses selenium's listener: importing it loads
selenium, which only a session that opens the browser in filmstrip mode needs.
"""

from __future__ import annotations

from typing import Any

from selenium.webdriver.support.abstract_event_listener import AbstractEventListener

from lambda_ui.runner.artifacts.recorder import Artifacts


class FilmstripListener(AbstractEventListener):
    """A screenshot after every navigation and every click, streamed as taken."""

    def __init__(self, artifacts: Artifacts) -> None:
        self._artifacts = artifacts

    def after_navigate_to(self, url: str, driver: Any) -> None:
        self._artifacts.filmstrip_frame("navigate")

    def after_navigate_back(self, driver: Any) -> None:
        self._artifacts.filmstrip_frame("back")

    def after_navigate_forward(self, driver: Any) -> None:
        self._artifacts.filmstrip_frame("forward")

    def after_click(self, element: Any, driver: Any) -> None:
        self._artifacts.filmstrip_frame("click")
