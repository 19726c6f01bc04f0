"""Parse JUnit files from untrusted places without letting them hurt the reader.

A report can come from any CI job or bucket, so it is data, never markup to
trust: files over a size limit are refused before they are read, and every
parse goes through ``defusedxml`` with DTDs forbidden, so a DOCTYPE (the only
place entities can be declared: "billion laughs", external entities) stops the
parse where it starts. Every problem becomes one :class:`ReportError` whose
message a person can act on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as defused
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

DEFAULT_MAX_SIZE_MB = 50.0
#: Deepest element nesting accepted; Python's own recursion limit is 1,000 frames.
MAX_DEPTH = 100


class ReportError(Exception):
    """A report (or another input) that cannot be used; the message says why and what to do."""


def check_size(label: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ReportError(
            f"{label}: {size / 1_000_000:.1f} MB is over the {max_bytes / 1_000_000:.0f} MB limit for a report; "
            "if it really is a JUnit file, raise the limit with --max-size-mb"
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


#: Why a report that declares things is refused, by what defusedxml stopped.
_REFUSED = (
    (DTDForbidden, "the file declares a DOCTYPE"),
    (EntitiesForbidden, "the file declares an ENTITY"),
    (ExternalReferenceForbidden, "the file refers to an external resource"),
)


def _refusal(label: str, exc: DefusedXmlException) -> ReportError:
    what = next((text for kind, text in _REFUSED if isinstance(exc, kind)), str(exc))
    return ReportError(
        f"{label}: refusing to parse: {what} "
        "(JUnit reports never do; such declarations are how entity-expansion and external-entity attacks work)"
    )


def _parse(label: str, data: bytes, for_junitparser: bool) -> Any:
    if not data.strip():
        raise ReportError(f"{label}: the file is empty (was the test run interrupted before it wrote the report?)")
    try:
        with _paused_gc():
            # defusedxml refuses a DOCTYPE where expat meets it, so no entity is ever declared.
            root = defused.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            if for_junitparser and _junitparser_uses_lxml():
                # junitparser builds lxml elements then; the defused parse above already
                # proved the file has no DTD, and this parser would not load one anyway.
                from lxml import etree as lxml_etree

                parser = lxml_etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
                return lxml_etree.fromstring(data, parser)
            return root
    except DefusedXmlException as exc:
        raise _refusal(label, exc) from None
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
