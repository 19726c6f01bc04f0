"""Which distributions a session's plugins come from (runner/image_check.py), and what that costs."""

from __future__ import annotations

import sys
import types
from importlib import metadata

import pytest

from lambda_ui.runner import image_check


def _no_scan() -> dict[str, list[str]]:
    raise AssertionError("packages_distributions() read every installed distribution")


@pytest.mark.third_party_plugins  # pytest-selenium's submodules as plugins
def test_entry_point_plugins_need_no_scan_of_every_distribution(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-selenium registers submodules of its own package as plugins; that
    # package's distribution is known from the entry point already (~0.15 s saved per run).
    config = pytester.parseconfigure()
    assert any(dist.project_name == "pytest-selenium" for _plugin, dist in config.pluginmanager.list_plugin_distinfo())
    monkeypatch.setattr(image_check.metadata, "packages_distributions", _no_scan)
    found = image_check._plugin_distributions(config)
    assert found["pytest-selenium"] == metadata.version("pytest-selenium")


def test_a_p_plugin_outside_entry_points_is_still_looked_up(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfigure("-p", "tenacity")
    assert image_check._plugin_distributions(config)["tenacity"] == metadata.version("tenacity")


def test_namespace_packages_are_always_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two distributions can share a namespace package: an entry point from one says
    # nothing about a plugin module from the other.
    namespace = types.ModuleType("shared_ns")  # no __file__, as a namespace package
    monkeypatch.setitem(sys.modules, "shared_ns", namespace)
    plugin = types.ModuleType("shared_ns.plugin_a")
    regular = types.ModuleType("json.decoder")
    assert image_check._regular_packages_of([plugin, regular, object()]) == {"json"}
