"""Does the function's image have what this suite uses here?

A plugin missing in the image errors every test, one invocation at a time; a
different pytest can fail to rebuild the reports. So before anything runs, the
distributions this session uses are compared with the ones the function lists
in its ``info`` answer:

* pytest, selenium and this plugin: the same version;
* every plugin registered in this session (entry points, ``-p``, ``pytest_plugins``)
  that comes from an installed distribution: the same version;
* each line of the suite's requirements file: present, and within its specifier.

The path into the image is the requirements file → ``TEST_REQUIREMENTS`` build
argument of ``lambda_pkg/Dockerfile`` → ``pip install -r`` (docs/deploy.md).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

#: Must match exactly: the wire contract, the report format, the browser API.
CORE = ("pytest", "selenium", "pytest-lambda-ui")
#: Plugins that work on the client only (-n is never forwarded), so the image needs none.
CLIENT_ONLY = frozenset({"pytest-xdist"})


class RequirementsProblem(Exception):
    """The requirements file cannot be read; the message names the line."""


@dataclass(frozen=True)
class Needed:
    """One distribution the function must have."""

    name: str  # canonical
    why: str  # "plugin", "core", or the requirements file's name
    version: str = ""  # exact version wanted ("" when only a specifier applies)
    requirement: Requirement | None = None

    def problem(self, image: dict[str, str]) -> str | None:
        found = image.get(self.name)
        if found is None:
            here = f" {self.version}" if self.version else ""
            return f"{self.name}{here} ({self.why}) is missing in the image"
        if self.requirement is not None and self.requirement.specifier and not self.requirement.specifier.contains(found, prereleases=True):
            return f"{self.requirement} ({self.why}): the image has {found}"
        if self.version and found != self.version:
            return f"{self.name} ({self.why}) is {self.version} here, {found} in the image"
        return None


def used_here(config: pytest.Config, requirements: Path | None) -> list[Needed]:
    """What this session uses that the function must have too, one entry per distribution."""
    needed: dict[str, Needed] = {}
    for name in CORE:
        try:
            needed[name] = Needed(name, "core", metadata.version(name))
        except metadata.PackageNotFoundError:
            continue
    for name, version in _plugin_distributions(config).items():
        if name not in CLIENT_ONLY:
            needed.setdefault(name, Needed(name, "plugin", version))
    if requirements is not None:
        for requirement in read_requirements(requirements):
            name = canonicalize_name(requirement.name)
            if name not in needed:
                needed[name] = Needed(name, requirements.name, requirement=requirement)
    return sorted(needed.values(), key=lambda n: n.name)


def problems(needed: list[Needed], image: dict[str, str]) -> list[str]:
    canonical: dict[str, str] = {canonicalize_name(name): version for name, version in image.items()}
    return [text for need in needed if (text := need.problem(canonical)) is not None]


def read_requirements(path: Path) -> list[Requirement]:
    """The requirement lines of a pip requirements file; pip's own options are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RequirementsProblem(f"cannot read the requirements file {path}: {exc}") from None
    found = []
    for number, raw in enumerate(lines, 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue  # comments, and pip's options (-r, -c, --index-url): not requirements of their own
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise RequirementsProblem(f"{path}:{number}: {line!r} is not a requirement pip understands: {exc}") from None
        if requirement.marker is None or requirement.marker.evaluate():
            found.append(requirement)
    return found


def _plugin_distributions(config: pytest.Config) -> dict[str, str]:
    """Installed distributions behind the plugins registered in this session."""
    manager = config.pluginmanager
    entry_points = manager.list_plugin_distinfo()
    found: dict[str, str] = {canonicalize_name(dist.project_name): dist.version for _plugin, dist in entry_points}
    root = Path(config.rootpath).resolve()
    modules = [plugin for _name, plugin in manager.list_name_plugin() if isinstance(plugin, ModuleType)]
    tops = {module.__name__.split(".")[0] for module in modules if _installed_elsewhere(module, root)}
    tops -= {"_pytest", "pytest", "pluggy", "conftest"}
    tops -= _regular_packages_of(plugin for plugin, _dist in entry_points)  # their distributions are in `found`
    tops = {top for top in tops if top not in sys.stdlib_module_names}
    if tops:
        owners = metadata.packages_distributions()  # ~0.15 s: only when a plugin came from outside entry points
        for top in sorted(tops):
            for dist in owners.get(top, []):
                name = canonicalize_name(dist)
                if name not in found:
                    found[name] = metadata.version(dist)
    return found


def _regular_packages_of(plugins: Iterable[object]) -> set[str]:
    """Top-level names of entry-point plugins, except namespace packages.

    A regular package belongs to one distribution, so a submodule registered as a plugin
    of its own (pytest_selenium.drivers.chrome) needs no lookup. A namespace package
    (no ``__file__``) can span several distributions: its names are still looked up.
    """
    tops = set()
    for plugin in plugins:
        if isinstance(plugin, ModuleType):
            top = sys.modules.get(plugin.__name__.split(".")[0])
            if top is not None and getattr(top, "__file__", None):
                tops.add(top.__name__)
    return tops


def _installed_elsewhere(module: ModuleType, root: Path) -> bool:
    """A module outside the rootdir (modules inside it travel with the bundle)."""
    file = getattr(module, "__file__", None)
    if not file:
        return False
    try:
        Path(file).resolve().relative_to(root)
    except ValueError:
        return True
    return False
