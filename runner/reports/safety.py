"""Parse JUnit files from untrusted places without letting them hurt the reader.

A report can come from any CI job or bucket, so it is data, never markup to
trust: files over a size limit are refused before they are read, a DOCTYPE
(the only way to declare entities, the source of "billion laughs" and
external-entity attacks) is refused before the parser sees the file, and the
parse itself goes through ``defusedxml`` when it is installed. Every problem
becomes one :class:`ReportError` whose message a person can act on.
"""

from __future__ import annotations

import codecs
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.etree import ElementTree as ET

try:  # defence in depth; the DOCTYPE check below already stops entity tricks
    import defusedxml.ElementTree as _defused
    from defusedxml import DefusedXmlException
except ImportError:  # pragma: no cover - exercised only where defusedxml is absent
    _defused = None
    DefusedXmlException = ValueError  # type: ignore[assignment,misc]

DEFAULT_MAX_SIZE_MB = 50.0
#: Deepest element nesting accepted; Python's own recursion limit is 1,000 frames.
MAX_DEPTH = 100

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_PROLOG_SKIPS = ((b"<?", b"?>"), (b"<!--", b"-->"))


class ReportError(Exception):
    """A report (or another input) that cannot be used; the message says why and what to do."""


def check_size(label: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ReportError(
            f"{label}: {size / 1_000_000:.1f} MB is over the {max_bytes / 1_000_000:.0f} MB limit for a report; "
            "if it really is a JUnit file, raise the limit with --max-size-mb"
        )


def _prolog(data: bytes) -> bytes:
    """The markup before the root element (declaration, comments, processing instructions, DOCTYPE)."""
    head = data[:65536]
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) :].decode(codec, "replace").encode("ascii", "replace")
            break
    at = len(head) - len(head.lstrip(codecs.BOM_UTF8).lstrip())
    while at < len(head):
        for start, end in _PROLOG_SKIPS:
            if head.startswith(start, at):
                close = head.find(end, at + len(start))
                at = len(head) if close < 0 else close + len(end)
                break
        else:
            if not head.startswith(b"<!", at):
                return head[:at]  # the root element (or text that is not XML) starts here
            close = head.find(b">", at)
            at = len(head) if close < 0 else close + 1
        while at < len(head) and head[at : at + 1].isspace():
            at += 1
    return head


def reject_declarations(label: str, data: bytes) -> None:
    """Refuse DOCTYPE and ENTITY declarations: JUnit files never need them.

    Only the prolog can hold them, so text inside the report (a page source
    captured in ``<system-out>``, say) never trips this.
    """
    found = _DECLARATION.search(_prolog(data))
    if found:
        what = found.group(1).decode().upper()
        raise ReportError(
            f"{label}: refusing to parse: the file declares a {what} "
            "(JUnit reports never do; such declarations are how entity-expansion and external-entity attacks work)"
        )


@contextmanager
def _paused_gc() -> Iterator[None]:
    # Building 100k+ elements triggers many needless GC passes: parsing a
    # 10,000-test report takes about half as long with the collector paused.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _junitparser_uses_lxml() -> bool:
    from junitparser import junitparser as jp

    return getattr(jp.etree, "__name__", "").startswith("lxml")


def parse_xml(label: str, data: bytes, *, for_junitparser: bool = False) -> Any:
    """Parse report bytes into a root element, or raise :class:`ReportError`.

    ``for_junitparser`` gives elements of the tree library junitparser builds
    with (lxml when it is installed), so they can be mixed with its own.
    """
    root = _parse(label, data, for_junitparser)
    check_depth(label, root)
    return root


def check_depth(label: str, root: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse a tree nested deeper than ``limit``: writing it back (merge, download) recurses per level."""
    # Level by level, keeping only elements that have children: leaves (most of a report) end there.
    level, depth = [root], 1
    while level:
        if depth >= limit:
            raise ReportError(
                f"{label}: refusing to read: elements nested more than {limit} levels deep "
                "(a JUnit report needs fewer than 10; this is not one, or it was built to crash readers)"
            )
        level = [child for element in level for child in element if len(child)]
        depth += 1


def _parse(label: str, data: bytes, for_junitparser: bool) -> Any:
    reject_declarations(label, data)
    if not data.strip():
        raise ReportError(f"{label}: the file is empty (was the test run interrupted before it wrote the report?)")
    try:
        with _paused_gc():
            if for_junitparser and _junitparser_uses_lxml():
                from lxml import etree as lxml_etree

                parser = lxml_etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
                return lxml_etree.fromstring(data, parser)
            if _defused is not None:
                return _defused.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            return ET.fromstring(data)  # noqa: S314 - declarations were refused above
    except DefusedXmlException as exc:
        raise ReportError(f"{label}: refusing to parse: {exc}") from None
    except (LookupError, ValueError) as exc:  # encoding="x-bogus", or a multi-byte one expat cannot use
        raise ReportError(
            f"{label}: not a readable XML file: its XML declaration names an encoding the parser cannot read ({exc}); "
            "JUnit files are UTF-8"
        ) from None
    except ET.ParseError as exc:
        raise ReportError(f"{label}: not well-formed XML ({_parse_error_text(exc)}); the file may be truncated or not a JUnit report") from None
    except Exception as exc:  # lxml's XMLSyntaxError and friends
        if type(exc).__name__ == "XMLSyntaxError":
            raise ReportError(f"{label}: not well-formed XML ({exc}); the file may be truncated or not a JUnit report") from None
        raise


def _parse_error_text(exc: ET.ParseError) -> str:
    text = str(exc)
    line, column = getattr(exc, "position", (0, 0))
    return text if "line" in text else f"{text}: line {line}, column {column}"


def check_junit_root(label: str, root: Any) -> None:
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag not in ("testsuites", "testsuite"):
        raise ReportError(f"{label}: not a JUnit report: the root element is <{tag or '?'}>, expected <testsuites> or <testsuite>")
