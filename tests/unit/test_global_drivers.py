"""Drivers a suite keeps in module globals: where the last-resort search looks, and where not."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_ui.runner.artifacts.global_drivers import MAX_MEMBERS, fixture_drivers, module_drivers

FAKE_DRIVER = """
class FakeDriver:
    def __init__(self, label):
        self.label = label
"""


def _is_driver(value: object) -> bool:
    return type(value).__name__ == "FakeDriver"


def _found(pytester: pytest.Pytester, test_module: str) -> list[tuple[str, str]]:
    pytester.syspathinsert()
    pytester.makepyfile(fakes=FAKE_DRIVER)
    items = pytester.getitems(pytester.makepyfile(test_suite=test_module))
    return [(name, driver.label) for name, driver in module_drivers(items[0], _is_driver)]


def test_a_driver_three_stored_steps_into_a_global_is_found_by_the_global_s_name(pytester: pytest.Pytester) -> None:
    # As selene keeps its global browser's driver: browser._config.<box>.value.
    found = _found(pytester, """
        from types import SimpleNamespace
        from fakes import FakeDriver

        class Browser:
            def __init__(self):
                self._config = SimpleNamespace(box=SimpleNamespace(value=FakeDriver("selene")))

        browser = Browser()

        def test_it():
            pass
    """)
    assert found == [("browser", "selene")]


def test_a_property_is_never_run_and_a_driver_behind_a_function_is_not_reached(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(helpers="""
        from fakes import FakeDriver
        _driver = FakeDriver("behind a function")

        def get_driver():
            return _driver
    """)
    found = _found(pytester, """
        from helpers import get_driver

        RUNS = []

        class Lazy:
            @property
            def driver(self):
                RUNS.append("driver")
                raise RuntimeError("a property ran")

        lazy = Lazy()

        def test_it():
            assert RUNS == []
    """)
    assert found == []
    assert pytester.runpytest("-p", "no:randomly").ret == 0  # the property never ran


def test_a_suite_module_and_a_suite_class_the_test_imports_are_followed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(factory="""
        from fakes import FakeDriver

        class DriverFactory:  # a singleton on a class attribute
            instance = FakeDriver("factory")

        current = [FakeDriver("module list")]
    """)
    found = _found(pytester, """
        import factory
        from factory import DriverFactory

        def test_it():
            pass
    """)
    assert sorted(found) == [("DriverFactory", "factory"), ("factory", "module list")]


def test_a_library_module_is_not_searched(pytester: pytest.Pytester) -> None:
    import json

    json.fake_driver_left_here = type("FakeDriver", (), {"label": "library"})()  # type: ignore[attr-defined]
    try:
        found = _found(pytester, """
            import json

            def test_it():
                pass
        """)
    finally:
        del json.fake_driver_left_here  # type: ignore[attr-defined]
    assert found == []


def test_a_conftest_global_counts_and_a_module_only_the_conftest_imports_does_not(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(shared="""
        from fakes import FakeDriver
        pool = [FakeDriver("the conftest's helper")]
    """)
    pytester.makeconftest("""
        import shared
        from fakes import FakeDriver

        driver = FakeDriver("conftest global")
    """)
    found = _found(pytester, """
        def test_it():
            pass
    """)
    assert found == [("driver", "conftest global")]


def test_a_long_list_is_read_only_so_far(pytester: pytest.Pytester) -> None:
    found = _found(pytester, f"""
        from fakes import FakeDriver

        crowd = [0] * {MAX_MEMBERS} + [FakeDriver("past the members read")]
        first = [FakeDriver("first")]

        def test_it():
            pass
    """)
    assert found == [("first", "first")]


def test_an_item_without_a_module_gives_nothing() -> None:
    class Item:
        config: Any = None
        path = "x.yaml"

    assert module_drivers(Item(), _is_driver) == []  # type: ignore[arg-type]


def test_a_driver_a_few_steps_into_a_fixture_value_is_found_by_the_fixture_s_name(pytester: pytest.Pytester) -> None:
    # A Screenplay actor: actor.abilities[0].browser, two steps past what find_drivers reads itself.
    pytester.syspathinsert()
    pytester.makepyfile(fakes=FAKE_DRIVER)
    (item,) = pytester.getitems("def test_it():\n    pass\n")
    from fakes import FakeDriver  # type: ignore[import-not-found]

    class BrowseTheWeb:
        def __init__(self, browser: object) -> None:
            self.browser = browser

    class Actor:
        def __init__(self, *abilities: object) -> None:
            self.abilities = list(abilities)

    patch = pytest.MonkeyPatch()
    patch.stray = FakeDriver("inside pytest's own object")  # type: ignore[attr-defined]
    values = {"actor": Actor(BrowseTheWeb(FakeDriver("screenplay"))), "monkeypatch": patch}
    assert [(name, driver.label) for name, driver in fixture_drivers(item, values, _is_driver)] == [("actor", "screenplay")]
