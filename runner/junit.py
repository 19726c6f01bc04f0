"""Artifact links in the JUnit report, in the two conventions CI systems display.

pytest's own ``--junitxml`` writes each test's ``user_properties`` as
``<property>`` entries; this adds ``[[ATTACHMENT|…]]`` lines to the test's
``<system-out>`` (GitLab, Jenkins junit-attachments) from those properties,
whatever ``junit_logging`` says. It runs after pytest wrote the file, on the
process that owns the report (the controller under pytest-xdist).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from runner.constants import PROP_ARTIFACT_PREFIX


def attachment_line(location: str) -> str:
    return f"[[ATTACHMENT|{location}]]"


def add_attachment_lines(xml_path: str | os.PathLike[str], suite_properties: dict[str, object] | None = None) -> int:
    """Rewrite ``xml_path`` in place; return how many test cases got links.

    ``suite_properties`` (run id, wall time, cost…) are added to every ``<testsuite>``.
    """
    tree = ET.parse(xml_path)
    changed = 0
    for suite in tree.getroot().iter("testsuite"):
        if suite_properties:
            _set_suite_properties(suite, suite_properties)
    for case in tree.getroot().iter("testcase"):
        locations = [
            prop.get("value", "")
            for prop in case.findall("./properties/property")
            if prop.get("name", "").startswith(PROP_ARTIFACT_PREFIX)
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
    if changed or suite_properties:
        tmp = f"{xml_path}.tmp"
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
        os.replace(tmp, xml_path)
    return changed


def _set_suite_properties(suite: ET.Element, values: dict[str, object]) -> None:
    properties = suite.find("properties")
    if properties is None:
        properties = ET.Element("properties")
        suite.insert(0, properties)  # JUnit schemas want properties first
    existing = {p.get("name"): p for p in properties.findall("property")}
    for name, value in values.items():
        text = f"{value:.6g}" if isinstance(value, float) else str(value)
        if name in existing:
            existing[name].set("value", text)
        else:
            ET.SubElement(properties, "property", name=name, value=text)
