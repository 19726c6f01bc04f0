"""The fixture values a failure capture searches: those a test asked for by name included."""

from __future__ import annotations

from typing import Any

from lambda_ui.runner.artifacts.drivers import fixture_values


class _Request:
    def __init__(self, active: list[str]) -> None:
        self.fixturenames = active
        self.asked: list[str] = []

    def getfixturevalue(self, name: str) -> Any:
        self.asked.append(name)
        if name == "torn_down":
            raise AssertionError('The fixture value for "torn_down" is not available.')
        return f"value of {name}"


class _Item:
    def __init__(self, funcargs: dict[str, Any], closure: list[str], request: _Request) -> None:
        self.funcargs = funcargs
        self.fixturenames = closure
        self._request = request


def test_names_asked_for_as_the_test_ran_are_read_and_the_closure_is_never_started() -> None:
    # "browser" is in the test's closure but was never set up (a setup error before it):
    # asking for it would start a browser while a failure report is being made.
    request = _Request(["page", "browser", "driver", "torn_down"])
    item = _Item({"page": "the page"}, ["page", "browser"], request)
    assert fixture_values(item) == {"page": "the page", "driver": "value of driver"}  # type: ignore[arg-type]
    assert request.asked == ["driver", "torn_down"]


def test_an_item_without_a_request_or_a_dict_gives_what_it_has() -> None:
    class Slotted:
        __slots__ = ("funcargs",)

    slotted = Slotted()
    slotted.funcargs = {"driver": "d"}
    assert fixture_values(slotted) == {"driver": "d"}  # type: ignore[arg-type]
    plain = _Item({}, [], None)  # type: ignore[arg-type]
    assert fixture_values(plain) == {}  # type: ignore[arg-type]
