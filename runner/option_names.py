"""Short names for the plugin's general options, taken only where nobody else has them.

The general options have names other code uses too: SeleniumBase registers
``--window-size``, and many suites' conftests add ``--artifacts`` or ``--run-id``.
argparse refuses a name twice, so whoever registered second would stop pytest
from starting, and a suite must run unchanged with this plugin installed.

So each general option is registered when the plugin loads under a long name
nobody else uses (``--lambda-ui-artifacts``, dest ``lambda_ui_artifacts``), and
its short name only once the other plugins and the initial conftests have
registered theirs, if it is still free. A suite that has the name keeps it;
the plugin's option stays reachable by the long name and its ini key, and the
report header says so.

Ini keys follow the same rule (``lambda_ui_artifacts`` always, ``artifacts`` only
where free). pytest does not refuse an ini key twice: the second registration
silently replaces the first, so a suite's own ``artifacts`` key would otherwise be
read as the plugin's destination, or its ``window_size`` refused as a bad size.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

GROUP = "lambda-ui"
PREFIX = "--lambda-ui-"


@dataclass(frozen=True)
class GeneralOption:
    """One general option: its short name, and how argparse reads its value."""

    short: str  # "--artifacts"
    help: str
    attrs: dict[str, Any] = field(default_factory=dict)
    #: The help of its ini key; empty when the option has none.
    ini_help: str = ""

    @property
    def long(self) -> str:
        return PREFIX + self.short[2:]

    @property
    def dest(self) -> str:
        return self.long[2:].replace("-", "_")

    @property
    def takes_value(self) -> bool:
        return self.attrs.get("action") not in ("store_true", "store_false")

    @property
    def ini_short(self) -> str:
        return self.short[2:].replace("-", "_")  # "artifacts", "window_size"


@dataclass(frozen=True)
class Taken:
    """A short name (an option's, or with ``ini`` an ini key's) the suite or another plugin had first."""

    option: GeneralOption
    owner: str
    ini: bool = False

    def header_line(self) -> str:
        if self.ini:
            return f"lambda-ui: ini key {self.option.ini_short} is {self.owner}; the plugin's is {self.option.dest}"
        return f"lambda-ui: {self.option.short} is {self.owner}; the plugin's is {self.option.long}"


#: What :func:`add_free_short_names` found taken; absent when it never ran (the plugin came
#: in after the initial conftests), so only the long names exist.
taken_key = pytest.StashKey[list[Taken]]()


def add_long_names(parser: pytest.Parser, group: pytest.OptionGroup, options: Iterable[GeneralOption]) -> None:
    for option in options:
        group.addoption(option.long, dest=option.dest, help=f"{option.help} Short name: {option.short}.", **option.attrs)
        if option.ini_help:
            parser.addini(option.dest, f"{option.ini_help} Short name: {option.ini_short}.", default="")


def add_free_short_names(parser: pytest.Parser, options: Iterable[GeneralOption]) -> list[Taken]:
    """Register each short name and ini key nobody has; the others, with who has them."""
    owners = _owners(parser)
    ini_keys = _ini_keys(parser)
    group = parser.getgroup(GROUP)
    taken = []
    for option in options:
        if option.short in owners:
            taken.append(Taken(option, owners[option.short]))
        else:
            # SUPPRESS: the long name's default stands unless the short one is given.
            group.addoption(option.short, dest=option.dest, help=argparse.SUPPRESS, **{**option.attrs, "default": argparse.SUPPRESS})
        if not option.ini_help:
            continue
        if option.ini_short in ini_keys:
            taken.append(Taken(option, "the suite's or a plugin's own", ini=True))
        else:
            parser.addini(option.ini_short, f"{option.ini_help} Also: {option.dest}.", default="")
    return taken


def ini_value(config: pytest.Config, option: GeneralOption) -> str | None:
    """The option's ini value: its long key, else its short one where the plugin has that."""
    names = [option.dest]
    taken = config.stash.get(taken_key, None)
    if taken is not None and not any(t.ini and t.option == option for t in taken):
        names.append(option.ini_short)
    for name in names:
        value = str(config.getini(name) or "").strip()
        if value:
            return value
    return None


def values_of_short_names(args: Sequence[str], options: Iterable[GeneralOption]) -> list[str]:
    """The values given as ``--short VALUE``, two tokens.

    pytest reads the command line once before the initial conftests load, when the
    short names are not registered yet, and takes such a value for a test path:
    initial conftests would be looked for there instead of in ``testpaths``.
    """
    spellings = {option.short for option in options if option.takes_value}
    return [str(value) for name, value in zip(args, args[1:]) if name in spellings and not str(value).startswith("-")]


def _ini_keys(parser: pytest.Parser) -> set[str]:
    # Nor its ini keys: the parser's private tables hold them (aliases since pytest 9).
    return {*getattr(parser, "_inidict", {}), *getattr(parser, "_ini_aliases", {})}


def _owners(parser: pytest.Parser) -> dict[str, str]:
    """Every option name registered so far, with who registered it."""
    # pytest lists registered names nowhere public; its option groups hold them all.
    anonymous = getattr(parser, "_anonymous", None)
    groups = [anonymous, *getattr(parser, "_groups", [])]
    owners: dict[str, str] = {}
    for group in groups:
        if group is None:
            continue
        owner = "the suite's or a plugin's own option" if group is anonymous else f"an option of {group.name!r}"
        for option in group.options:
            for name in option.names():
                owners.setdefault(name, owner)
    return owners
