"""A test that wrote outside /tmp in the function is told why (runner/read_only_writes.py).

The first message is what SeleniumBase 4.56's ``--uc`` raised in the function (through the
local Lambda, whose sandbox mounts the interpreter read-only as Lambda's image is): it copies
chromedriver into its own package. Locally the same tests passed.
"""

from __future__ import annotations

import pytest

from lambda_ui.runner.read_only_writes import SECTION, ReadOnlyWrites

UC_DRIVER = (
    "src = '/usr/bin/chromedriver'\n"
    "dst = '/opt/venv/lib/python3.12/site-packages/seleniumbase/drivers/uc_driver'\n"
    "E   OSError: [Errno 30] Read-only file system: '/opt/venv/lib/python3.12/site-packages/seleniumbase/drivers/uc_driver'"
)


def _report(nodeid: str, outcome: str, text: str | None, when: str = "call") -> pytest.TestReport:
    return pytest.TestReport(nodeid, ("test_a.py", 1, nodeid), {}, outcome, text, when)


def test_a_refused_write_is_named_with_its_path_and_what_to_do() -> None:
    hints = ReadOnlyWrites()
    uc = _report("test_a.py::test_search", "failed", UC_DRIVER)
    home = _report("test_a.py::test_cache", "failed", "OSError: [Errno 30] Read-only file system: '/home/sbx_user1051/.wdm'", "setup")
    other = _report("test_a.py::test_other", "failed", "PermissionError: [Errno 13] Permission denied: '/etc/shadow'")
    passed = _report("test_a.py::test_ok", "passed", None)
    hints.explain([uc, home, other, passed])
    assert [r.nodeid for r in (uc, home, other, passed) if r.sections] == ["test_a.py::test_search", "test_a.py::test_cache"]
    title, text = uc.sections[0]
    assert title == SECTION
    assert text.startswith("/opt/venv/lib/python3.12/site-packages/seleniumbase/drivers/uc_driver: in Lambda only /tmp is writable")
    (line,) = hints.summary()
    assert line.startswith("lambda: 2 test(s) were refused a write (/home/sbx_user1051/.wdm, /opt/venv/")
    assert "test_a.py::test_cache, test_a.py::test_search" in line


def test_an_error_without_a_path_still_gets_the_reason() -> None:
    hints = ReadOnlyWrites()
    report = _report("test_a.py::test_x", "failed", "OSError: [Errno 30] Read-only file system")
    hints.explain([report])
    assert report.sections[0][1].startswith("in Lambda only /tmp is writable")
    assert hints.summary()[0].startswith("lambda: 1 test(s) were refused a write (test_a.py::test_x): in Lambda")
    assert ReadOnlyWrites().summary() == []
