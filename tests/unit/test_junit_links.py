from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from lambda_ui.runner.junit import add_attachment_lines

REPORT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="t" name="a"><properties><property name="artifact:s.png" value="out/s.png"/><property name="other" value="x"/></properties></testcase>
<testcase classname="t" name="b"><properties><property name="artifact:p.html" value="s3://b/p.html"/></properties><system-out>printed by the test</system-out></testcase>
<testcase classname="t" name="c"/>
</testsuite></testsuites>"""


def test_attachment_lines_follow_properties(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    path.write_text(REPORT)
    assert add_attachment_lines(path) == 2
    cases = {c.get("name"): c for c in ET.parse(path).getroot().iter("testcase")}
    assert cases["a"].findtext("system-out") == "[[ATTACHMENT|out/s.png]]\n"
    assert cases["b"].findtext("system-out") == "printed by the test\n[[ATTACHMENT|s3://b/p.html]]\n"
    assert cases["c"].find("system-out") is None
    # Idempotent: a second pass adds nothing.
    assert add_attachment_lines(path) == 0
    assert [c.findtext("system-out") for c in ET.parse(path).getroot().iter("testcase")][:2] == [
        "[[ATTACHMENT|out/s.png]]\n",
        "printed by the test\n[[ATTACHMENT|s3://b/p.html]]\n",
    ]
