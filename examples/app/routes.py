"""The request handler: maps each URL to a page, a JSON endpoint or a static file."""

from __future__ import annotations

import json
import mimetypes
import re
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from . import pages
from .catalog import PRODUCTS, find_product
from .validation import validate_signup

STATIC = Path(__file__).resolve().parent / "static"
PRODUCT_PAGE = re.compile(r"^/products/(\d+)$")
PRODUCT_API = re.compile(r"^/api/products/(\d+)$")
# A real slow back end takes a few seconds, not zero and not forever.
SLOW_MIN, SLOW_MAX = 2.0, 5.0
MAX_FORM_BYTES = 64 * 1024

SIMPLE_PAGES = {
    "/": pages.home,
    "/products": pages.products,
    "/signup": pages.signup,
    "/slow": pages.slow,
    "/workspace": pages.workspace,
    "/diagnostics": pages.diagnostics,
}

TRAILS = [
    {"trail": "Ridge Loop", "status": "Open", "snow_line": "1,900 m"},
    {"trail": "Lakeside Path", "status": "Open", "snow_line": "none"},
    {"trail": "North Col", "status": "Closed: avalanche risk", "snow_line": "1,400 m"},
    {"trail": "Pine Valley", "status": "Muddy", "snow_line": "2,100 m"},
]


def _first_values(raw: str) -> dict[str, str]:
    """Parse a query string or form body, keeping the first value of each field."""
    return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}


class Handler(BaseHTTPRequestHandler):
    """Serves the whole app; one instance per request, on the server's thread pool."""

    server_version = "TrailheadSupply/1.0"

    def do_GET(self) -> None:
        self._safely(self._get)

    def do_POST(self) -> None:
        self._safely(self._post)

    def _safely(self, action: Callable[[], None]) -> None:
        # A bug in one page should give the browser a 500, not a dropped connection.
        try:
            action()
        except ConnectionError:
            raise
        except Exception:
            traceback.print_exc()
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)

    def _get(self) -> None:
        url = urlsplit(self.path)
        query = _first_values(url.query)
        path = url.path.rstrip("/") or "/"
        if path in SIMPLE_PAGES:
            self._html(SIMPLE_PAGES[path]())
        elif path == "/welcome":
            self._html(pages.welcome(query.get("name", ""), query.get("plan", "free")))
        elif match := PRODUCT_PAGE.match(path):
            item = find_product(int(match.group(1)))
            if item is None:
                self._not_found(path)
            else:
                self._html(pages.product(item))
        elif path == "/api/products":
            category = query.get("category", "")
            items = [p for p in PRODUCTS if not category or p["category"] == category]
            self._json(items)
        elif match := PRODUCT_API.match(path):
            item = find_product(int(match.group(1)))
            if item is None:
                self._json({"error": "no such product"}, HTTPStatus.NOT_FOUND)
            else:
                self._json(item)
        elif path == "/api/slow":
            self._slow(query.get("seconds", "3"))
        elif path.startswith("/static/"):
            self._static(path.removeprefix("/static/"))
        else:
            self._not_found(path)

    def _post(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        if path != "/signup":
            self._not_found(path)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_FORM_BYTES:
            self._json({"error": "form too large"}, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        form = _first_values(self.rfile.read(length).decode("utf-8", "replace"))
        errors = validate_signup(form)
        if errors:
            # Re-render in place, as server-rendered forms do; 200 keeps the console clean.
            self._html(pages.signup(form, errors))
            return
        # Post/redirect/get: a reload of the success page must not resubmit the form.
        target = "/welcome?" + urlencode({"name": form["name"].strip(), "plan": form.get("plan", "free")})
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": target})

    def _slow(self, raw: str) -> None:
        try:
            requested = float(raw)
        except ValueError:
            self._json({"error": "seconds must be a number"}, HTTPStatus.BAD_REQUEST)
            return
        seconds = min(max(requested, SLOW_MIN), SLOW_MAX)
        time.sleep(seconds)
        self._json({"requested": requested, "seconds": seconds, "trails": TRAILS})

    def _static(self, name: str) -> None:
        target = (STATIC / name).resolve()
        # Refuse "../" tricks: only files inside static/ are served.
        if STATIC not in target.parents or not target.is_file():
            self._not_found("/static/" + name)
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith(("javascript", "svg+xml")):
            content_type += "; charset=utf-8"
        self._send(HTTPStatus.OK, target.read_bytes(), content_type)

    def _not_found(self, path: str) -> None:
        self._send(HTTPStatus.NOT_FOUND, pages.not_found(path), "text/html; charset=utf-8")

    def _html(self, body: bytes) -> None:
        self._send(HTTPStatus.OK, body, "text/html; charset=utf-8")

    def _json(self, payload: object, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        # Tests reload pages constantly; never let a stale script or page hide a change.
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # base-class name
        if not getattr(self.server, "quiet", False):
            super().log_message(format, *args)
