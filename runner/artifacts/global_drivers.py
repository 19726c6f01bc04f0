"""WebDrivers a test holds where ``find_drivers``' own look does not reach.

:func:`~lambda_ui.runner.artifacts.drivers.find_drivers` reads a test's fixture values one
attribute deep, and the test's instance and class. When it finds nothing, two places are
searched, in this order:

* deeper inside the fixture values: a Screenplay actor's ability holding the browser
  (``actor.abilities[0].browser``);
* the globals of the test's module and its conftests: selene's global ``browser``, a driver
  factory's class attribute, a conftest's ``driver`` global set by an autouse fixture.

Both walk what is stored (instance ``__dict__``, plain lists, tuples and dicts, the suite's own
classes and modules), a few steps deep and a bounded number of objects. They never go through a
function, a property, a library's module, or pytest's, selenium's or this plugin's objects. A
module only a conftest imports is not followed, and no global leads to a driver only a fixture
holds: a session fixture's browser, or one other tests share, is not a failing API test's.
"""

from __future__ import annotations

import itertools
import os
import sys
import types
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.runner.conftests import loaded_conftests

#: Steps from a module's global to a driver: selene keeps its driver at
#: ``browser._config.<box>.value``, three steps in.
MAX_DEPTH = 5
#: Objects looked at, at most, per failing test: a few milliseconds, even when a
#: conftest keeps large objects (a boto3 client, a parsed data set) in globals.
MAX_VISITS = 5000
#: Members of one list, tuple or dict looked at.
MAX_MEMBERS = 100


def module_drivers(item: pytest.Item, is_driver: Any) -> list[tuple[str, Any]]:
    """(global name, object) for each object ``is_driver`` accepts, reachable from the
    globals of the test's module and its conftests. Never raises."""
    try:
        roots = _root_modules(item)
        suite = _SuiteModules(Path(str(item.config.rootpath)))
    except Exception:
        return []
    if not roots:
        return []
    test_module, *conftests = roots
    starts = list(_globals(test_module))
    # What a conftest imports is the conftest's: a helper module holding a browser the
    # failing test never used is reached only if the test's module imports it too.
    for module in conftests:
        starts += [(name, value) for name, value in _globals(module) if type(value) is not types.ModuleType]
    return _walk(starts, suite, is_driver, seen={id(module) for module in roots})


def fixture_drivers(item: pytest.Item, values: dict[str, Any], is_driver: Any) -> list[tuple[str, Any]]:
    """(fixture name, object) for each object ``is_driver`` accepts inside the test's fixture
    values, a few steps in (a Screenplay actor's ability, a wrapper's wrapper); pytest's own
    objects (``request``, ``monkeypatch``, ``pytestconfig``) are not entered. Never raises."""
    try:
        suite = _SuiteModules(Path(str(item.config.rootpath)))
        starts = [(name, value) for name, value in values.items() if not _not_entered(value)]
    except Exception:
        return []
    return _walk(starts, suite, is_driver, seen=set())


#: Packages whose objects the walk never enters: pytest's (a request reaches every test of the
#: session), this plugin's (its artifacts recorder and browsers), and selenium's (a driver the
#: walk did not take, its options and service, hold no other driver).
_NOT_ENTERED = ("_pytest", "pytest", "pluggy", "lambda_ui", "selenium")


def _not_entered(value: object) -> bool:
    module = getattr(type(value), "__module__", "") or ""
    return module.split(".")[0] in _NOT_ENTERED


def _walk(starts: list[tuple[str, object]], suite: _SuiteModules, is_driver: Any, seen: set[int]) -> list[tuple[str, Any]]:
    """Breadth first from ``starts``, each found object named by the start it was reached from."""
    found: list[tuple[str, Any]] = []
    queue: deque[tuple[str, object, int]] = deque((name, value, 1) for name, value in starts)
    visits = 0
    while queue and visits < MAX_VISITS:
        name, value, depth = queue.popleft()
        if id(value) in seen:
            continue
        seen.add(id(value))
        visits += 1
        try:
            if is_driver(value):
                found.append((name, value))
                continue
            if depth < MAX_DEPTH and not _not_entered(value):
                queue.extend((name, inner, depth + 1) for inner in _stored_in(value, suite))
        except Exception:
            continue  # a strange object: look elsewhere
    return found


def _root_modules(item: pytest.Item) -> list[types.ModuleType]:
    """The test's module, then the conftests that apply to it (nearest first); none for
    an item without a Python module (a doctest file, a YAML test)."""
    module = getattr(item, "module", None)
    if type(module) is not types.ModuleType:
        return []
    roots = [module]
    folder = Path(str(item.path)).parent
    for plugin in sorted(loaded_conftests(item.config.pluginmanager), key=lambda m: -len(str(m.__file__))):
        if folder.is_relative_to(Path(str(plugin.__file__)).parent) and plugin not in roots:
            roots.append(plugin)
    return roots


def _globals(module: types.ModuleType) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in vars(module).items() if not (name.startswith("__") and name.endswith("__"))]


class _SuiteModules:
    """Which modules and classes are the suite's: files below the rootdir, outside any
    Python installation (a virtualenv inside the repository is a library's)."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = Path(os.path.realpath(rootdir))
        self._installs = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
        self._known: dict[str, bool] = {}

    def has_module(self, name: str) -> bool:
        if name not in self._known:
            module = sys.modules.get(name)
            self._known[name] = module is not None and self._is_suite_file(getattr(module, "__file__", None))
        return self._known[name]

    def _is_suite_file(self, file: object) -> bool:
        if not isinstance(file, str):
            return False
        real = os.path.realpath(file)
        if "site-packages" in real.split(os.sep) or any(real.startswith(p + os.sep) for p in self._installs):
            return False
        return Path(real).is_relative_to(self.rootdir)


def _stored_in(value: object, suite: _SuiteModules) -> Iterator[object]:
    """What ``value`` stores, read without running any of the suite's code."""
    kind = type(value)
    if kind is types.ModuleType:
        if suite.has_module(getattr(value, "__name__", "")):
            yield from (v for _, v in _globals(value))  # type: ignore[arg-type]
        return
    if issubclass(kind, type):  # issubclass of type(): isinstance would ask a proxy's __class__
        if suite.has_module(value.__module__):
            yield from (v for v in vars(value).values() if not callable(v) and type(v) not in (property, classmethod, staticmethod))
        return
    if kind is list or kind is tuple:  # exact types: a subclass's __iter__ is user code
        yield from itertools.islice(value, MAX_MEMBERS)  # type: ignore[call-overload]
        return
    if kind is dict:
        yield from itertools.islice(value.values(), MAX_MEMBERS)  # type: ignore[attr-defined]
        return
    if issubclass(kind, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, str, bytes, int, float)):
        return
    try:
        own = object.__getattribute__(value, "__dict__")
    except Exception:
        return
    if type(own) is dict:
        yield from itertools.islice(own.values(), MAX_MEMBERS)
