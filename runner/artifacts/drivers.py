"""Find the Selenium WebDrivers a test holds, whatever built them.

Suites build their own drivers: a conftest fixture, pytest-selenium's
``selenium``, splinter's ``Browser.driver``, SeleniumBase's ``sb.driver``, a
page object, a ``unittest`` ``setUpClass``. On a failure the runner looks where
a test keeps them: its fixture values, one attribute into each, and the test's
instance and class; failing those, the suite's module globals (``global_drivers``).

Discovery reads only what is stored: instance ``__dict__`` entries, and a few
well-known names looked up statically (slots, class attributes). It never
calls a property or ``__getattr__`` of the suite's objects, since that is user
code that may have side effects (a lazy ``driver`` property starts a browser).
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from lambda_ui.runner.artifacts.global_drivers import fixture_drivers, module_drivers
from lambda_ui.runner.chrome import full_console

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

#: Attribute names that hold a driver in popular tools and page-object styles.
WELL_KNOWN = ("driver", "_driver", "webdriver", "_webdriver", "browser", "_browser", "selenium")

#: Classes whose attributes are the framework's, never the suite's drivers.
_FRAMEWORK_MODULES = ("builtins", "unittest")


def _loaded_class(module: str, name: str) -> type | None:
    """``module.name`` if that module is imported already, else None.

    A test can hold a WebDriver only once selenium's module defining it is loaded, so
    looking it up in ``sys.modules`` answers "none here" for a session that never used
    selenium, without importing it (~0.4 s) into every plain run.
    """
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else None


def as_webdriver(value: object) -> WebDriver | None:
    """The plain WebDriver behind ``value`` (unwrapping an event-firing one), or None.

    ``type()`` rather than ``isinstance``: the latter reads ``__class__``,
    which a proxy object answers by running code.
    """
    webdriver = _loaded_class("selenium.webdriver.remote.webdriver", "WebDriver")
    if webdriver is None:
        return None
    kind = type(value)
    if issubclass(kind, webdriver):
        return value  # type: ignore[return-value]
    event_firing = _loaded_class("selenium.webdriver.support.event_firing_webdriver", "EventFiringWebDriver")
    if event_firing is not None and issubclass(kind, event_firing):
        wrapped = vars(value).get("_driver")
        return wrapped if issubclass(type(wrapped), webdriver) else None
    return None


def is_quit(driver: WebDriver) -> bool:
    """True when the driver's own service process has exited (``quit()`` stops it).

    Asking the process costs nothing and sends no request, so a quit driver
    leaves no "connection refused" retries in the log. A Remote driver has no
    local service and counts as alive here.
    """
    try:
        process = getattr(vars(driver).get("service"), "process", None)
        return process is not None and process.poll() is not None
    except Exception:
        return False


def stored_attributes(obj: object) -> Iterator[tuple[str, Any]]:
    """``obj``'s instance attributes, then well-known names stored in slots or on its class."""
    try:
        own = dict(object.__getattribute__(obj, "__dict__"))
    except Exception:
        own = {}
    yield from own.items()
    for name in WELL_KNOWN:
        if name in own:
            continue
        try:
            value = inspect.getattr_static(obj, name)
        except AttributeError:
            continue
        if isinstance(value, types.MemberDescriptorType):  # a __slots__ entry; reading it runs no user code
            try:
                value = value.__get__(obj, type(obj))
            except AttributeError:
                continue
        yield name, value


def _elements(value: object) -> Iterator[tuple[str, Any]]:
    """The members of a plain list, tuple or dict fixture value (``drivers = [a, b]``)."""
    if type(value) is list or type(value) is tuple:  # exact types: a subclass's __iter__ is user code
        yield from ((str(i), v) for i, v in enumerate(value))
    elif type(value) is dict:
        yield from ((str(k), v) for k, v in value.items())


def _bound_instance(item: pytest.Item) -> object | None:
    """The test's instance if pytest made one. ``item.instance`` would create a
    fresh one on demand (running the suite's ``__init__``), so read what is stored."""
    stored = vars(item)
    if "_instance" in stored:
        instance: object = stored["_instance"]
        return instance
    bound: object = getattr(stored.get("_obj"), "__self__", None)
    return bound


def _suite_classes(instance: object | None, cls: object) -> list[type]:
    klass = type(instance) if instance is not None else cls
    if not isinstance(klass, type):
        return []
    return [k for k in klass.__mro__ if k.__module__.split(".")[0] not in _FRAMEWORK_MODULES]


def unique_name(name: str, taken: set[str] | dict[str, Any]) -> str:
    """``name``, or ``name-2``, ``name-3``... whichever is not taken yet."""
    unique, n = name, 1
    while unique in taken:
        n += 1
        unique = f"{name}-{n}"
    return unique


class _Found:
    """Drivers in discovery order, each once, under names unique among them."""

    def __init__(self) -> None:
        self.named: list[tuple[str, WebDriver]] = []
        self._seen: set[int] = set()
        self._names: set[str] = set()

    def add(self, name: str, driver: WebDriver | None) -> None:
        if driver is None or id(driver) in self._seen:
            return
        self._seen.add(id(driver))
        unique = unique_name(name, self._names)
        self._names.add(unique)
        self.named.append((unique, driver))


def find_drivers(item: pytest.Item) -> list[tuple[str, WebDriver]]:
    """Every WebDriver the test holds, as (name, driver), nearest first.

    Fixture values come first, named by fixture; then the test's instance and
    class attributes (``self.driver``, ``cls.driver``), named by attribute;
    then drivers one attribute inside a fixture value (a page object's
    ``.driver``), named by fixture; failing all these, drivers a few steps inside a
    fixture value (named by fixture), else kept in the suite's module globals
    (selene's ``browser``, a driver factory), named by global.
    Never raises: a failure report is being made.
    """
    found = _Found()
    if _loaded_class("selenium.webdriver.remote.webdriver", "WebDriver") is None:
        return found.named  # selenium never loaded: nothing can be a driver
    funcargs = fixture_values(item)
    for name, value in funcargs.items():
        found.add(name, as_webdriver(value))
        for key, element in _elements(value):
            found.add(f"{name}-{key}", as_webdriver(element))
    try:
        instance = _bound_instance(item)
        holders: list[object] = [] if instance is None else [instance]
        holders += _suite_classes(instance, getattr(item, "cls", None))
    except Exception:
        holders = []
    for holder in holders:
        for attr, value in _safe(stored_attributes, holder):
            found.add(attr.lstrip("_") or attr, as_webdriver(value))
    for name, value in funcargs.items():
        if as_webdriver(value) is not None:
            continue
        inner = [(attr, d) for attr, v in _safe(stored_attributes, value) if (d := as_webdriver(v)) is not None]
        for attr, driver in inner:
            found.add(name if len(inner) == 1 else f"{name}-{attr.lstrip('_') or attr}", driver)
    if not found.named:
        for name, value in fixture_drivers(item, funcargs, _suite_driver) or module_drivers(item, _suite_driver):
            found.add(name.lstrip("_") or name, as_webdriver(value))
    return found.named


def _suite_driver(value: object) -> bool:
    """A WebDriver the suite built: this plugin's own (the ``browser`` fixture's, the
    function's warm Chrome) is found through the test's fixtures or not at all."""
    driver = as_webdriver(value)
    return driver is not None and driver not in full_console


def fixture_values(item: pytest.Item) -> dict[str, Any]:
    """The test's fixture values: its arguments and autouse fixtures, then those it asked for
    by name as it ran (``request.getfixturevalue``: pytest-bdd's steps, a browser chosen by a
    parameter). pytest keeps the latter only on the test's request. Never raises."""
    try:
        values = dict(getattr(item, "funcargs", None) or {})
    except Exception:
        return {}
    # A test's request is private to it; its names and values are read through the request's
    # public API. Only names outside the test's own closure: those are set up already (a
    # closure fixture not yet set up, after a setup error, must not be started here).
    try:
        request = vars(item).get("_request")
        if request is None:
            return values
        declared = set(getattr(item, "fixturenames", ()))
        requested = [name for name in request.fixturenames if name not in values and name not in declared]
    except Exception:
        return values
    for name in requested:
        try:
            values[name] = request.getfixturevalue(name)
        except Exception:
            continue  # torn down already, or it failed to set up
    return values


def _safe(scan: Callable[[object], Iterator[tuple[str, Any]]], obj: object) -> list[tuple[str, Any]]:
    """Whatever ``scan`` yields before it fails on a strange object."""
    out: list[tuple[str, Any]] = []
    try:
        out.extend(scan(obj))
    except Exception:
        pass
    return out
