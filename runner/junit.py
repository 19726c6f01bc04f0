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


def add_attachment_lines(xml_path: str | os.PathLike[str]) -> int:
    """Rewrite ``xml_path`` in place; return how many test cases got links."""
    tree = ET.parse(xml_path)
    changed = 0
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
    if changed:
        tmp = f"{xml_path}.tmp"
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
        os.replace(tmp, xml_path)
    return changed
