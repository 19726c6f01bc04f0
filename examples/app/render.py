"""Fill the HTML templates in `templates/` and wrap them in the shared layout.

Templates use `string.Template` (`$name`) so CSS and JavaScript braces need
no escaping. Every value is HTML-escaped unless it is wrapped in `Safe`.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parent / "templates"

# (page key, href, label): one entry per link in the shared navigation bar.
NAV = [
    ("home", "/", "Home"),
    ("products", "/products", "Products"),
    ("signup", "/signup", "Sign up"),
    ("slow", "/slow", "Trail report"),
    ("workspace", "/workspace", "Workspace"),
    ("diagnostics", "/diagnostics", "Diagnostics"),
]


class Safe(str):
    """A string that is already HTML and must not be escaped again."""


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def fill(template: str, /, **values: object) -> Safe:
    """Render one template file, escaping every value that is not `Safe`."""
    escaped = {key: value if isinstance(value, Safe) else html.escape(str(value)) for key, value in values.items()}
    return Safe(_template(template).substitute(escaped))


def nav_links(active: str) -> Safe:
    """Build the navigation links, marking the current page for CSS and screen readers."""
    links = []
    for key, href, label in NAV:
        current = ' class="nav-link active" aria-current="page"' if key == active else ' class="nav-link"'
        links.append(f'<a href="{href}" data-nav="{key}"{current}>{html.escape(label)}</a>')
    return Safe("\n        ".join(links))


def page(active: str, title: str, body: Safe, scripts: tuple[str, ...] = ()) -> bytes:
    """Wrap a rendered page body in the layout and encode it for the response."""
    tags = "".join(f'\n  <script src="/static/{name}" defer></script>' for name in scripts)
    document = fill(
        "layout.html",
        title=title,
        page=active,
        nav=nav_links(active),
        body=body,
        scripts=Safe(tags),
    )
    return document.encode("utf-8")
