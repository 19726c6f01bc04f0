"""The suite's conftest modules pytest has loaded (its plugin manager holds them as plugins)."""

from __future__ import annotations

import os
import types

import pytest


def is_conftest(plugin: object) -> bool:
    """``plugin`` is a conftest module."""
    return isinstance(plugin, types.ModuleType) and os.path.basename(getattr(plugin, "__file__", None) or "") == "conftest.py"


def loaded_conftests(pluginmanager: pytest.PytestPluginManager) -> list[types.ModuleType]:
    """Every conftest module loaded so far, in registration order."""
    return [plugin for plugin in pluginmanager.get_plugins() if is_conftest(plugin)]
