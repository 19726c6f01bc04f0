"""What the plugin adds to pytest's ``--junitxml`` report beyond per-test properties.

Run-level facts go through junitxml's own global-property route
(:func:`add_suite_properties`, what ``record_testsuite_property`` does), so pytest
writes them into ``<testsuite><properties>``. Only the ``[[ATTACHMENT|…]]`` lines
in each test's ``<system-out>`` (GitLab, Jenkins junit-attachments), which no
pytest route covers, are written by rewriting the file after pytest wrote it
(:func:`add_attachment_lines`), whatever ``junit_logging`` says. Both run on the
process that owns the report (the controller under pytest-xdist).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping

import pytest
from _pytest.junitxml import xml_key

from lambda_ui.runner.junit_contract import ARTIFACT_PREFIX


def suite_text(value: object) -> str:
    """A run-level value as the report shows it: floats to six significant digits."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def writes_report(config: pytest.Config) -> bool:
    """Whether this process writes a JUnit report (``--junitxml``, and not an xdist worker)."""
    return config.stash.get(xml_key, None) is not None


def add_suite_properties(config: pytest.Config, values: Mapping[str, object]) -> bool:
    """Hand run-level facts to pytest's junitxml before it writes the file (its ``pytest_sessionfinish``).

    False when this process writes no JUnit report (no ``--junitxml``, or an xdist worker).
    """
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return False
    for name, value in values.items():
        xml.add_global_property(name, suite_text(value))
    return True


def attachment_line(location: str) -> str:
    return f"[[ATTACHMENT|{location}]]"


def add_attachment_lines(xml_path: str | os.PathLike[str]) -> int:
    """Rewrite ``xml_path`` in place; return how many test cases got links."""
    tree = ET.parse(xml_path)
    changed = 0
    for case in tree.getroot().iter("testcase"):
        locations = [
            prop.get("value", "")
            for prop in case.findall("./properties/property")
            if prop.get("name", "").startswith(ARTIFACT_PREFIX)
        ]
        if not locations:
            continue
        lines = "\n".join(attachment_line(loc) for loc in locations)
        system_out = case.find("system-out")
        if system_out is None:
            system_out = ET.SubElement(case, "system-out")
            system_out.text = lines + "\n"
        else:
            existing = system_out.text or ""
            if lines in existing:
                continue
            system_out.text = existing.rstrip("\n") + ("\n" if existing else "") + lines + "\n"
        changed += 1
    if changed:
        tmp = f"{xml_path}.tmp"
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
        os.replace(tmp, xml_path)
    return changed
