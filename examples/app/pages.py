"""One function per HTML page: gather the values, fill the template, add the layout."""

from __future__ import annotations

from .catalog import PRODUCTS, Product, format_price
from .render import Safe, fill, page
from .validation import PLANS


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2]).upper()


def home() -> bytes:
    featured = "".join(
        fill(
            "featured_card.html",
            id=product["id"],
            name=product["name"],
            price=format_price(product["price_cents"]),
            color=product["color"],
            initials=_initials(product["name"]),
        )
        for product in PRODUCTS[:3]
    )
    body = fill("home.html", count=len(PRODUCTS), featured=Safe(featured))
    return page("home", "Home", body)


def products() -> bytes:
    return page("products", "Products", fill("products.html"), scripts=("products.js",))


def _stock(stock: int) -> tuple[str, str]:
    """Return the CSS class and label for a stock level."""
    if stock == 0:
        return "out", "Out of stock"
    if stock < 5:
        return "low", f"Only {stock} left"
    return "in", "In stock"


def product(item: Product) -> bytes:
    stock_class, stock_label = _stock(item["stock"])
    sold_out = item["stock"] == 0
    features = Safe("".join(fill("feature_item.html", text=text) for text in item["features"]))
    body = fill(
        "product.html",
        id=item["id"],
        name=item["name"],
        category=item["category"],
        price=format_price(item["price_cents"]),
        rating=item["rating"],
        stock=item["stock"],
        stock_class=stock_class,
        stock_label=stock_label,
        summary=item["summary"],
        color=item["color"],
        initials=_initials(item["name"]),
        features=features,
        disabled=Safe("disabled" if sold_out else ""),
        button_label="Sold out" if sold_out else "Add to cart",
    )
    return page("products", item["name"], body, scripts=("product.js",))


def signup(values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> bytes:
    """Render the sign-up form, blank or re-filled with a rejected submission.

    Passwords are never echoed back, as on any real site.
    """
    values = values or {}
    errors = errors or {}
    fields: dict[str, object] = {
        "name": values.get("name", ""),
        "email": values.get("email", ""),
        "terms_checked": Safe("checked" if values.get("terms") == "on" else ""),
        "alert": Safe(""),
    }
    for field in ("name", "email", "password", "confirm", "plan", "terms"):
        message = errors.get(field, "")
        fields[f"{field}_error"] = message
        fields[f"{field}_class"] = "has-error" if message else ""
        fields[f"{field}_invalid"] = Safe('aria-invalid="true"' if message else "")
    chosen = values.get("plan", "free")
    for plan in PLANS:
        fields[f"plan_{plan}"] = Safe("selected" if plan == chosen else "")
    if errors:
        fields["alert"] = fill("form_alert.html", count=len(errors))
    return page("signup", "Sign up", fill("signup.html", **fields), scripts=("signup.js",))


def welcome(name: str, plan: str) -> bytes:
    label = plan.capitalize() if plan in PLANS else "Free"
    body = fill("welcome.html", name=name or "friend", plan=label)
    return page("signup", "Welcome", body)


def slow() -> bytes:
    return page("slow", "Trail report", fill("slow.html"), scripts=("slow.js",))


def workspace() -> bytes:
    return page("workspace", "Workspace", fill("workspace.html"), scripts=("workspace.js",))


def diagnostics() -> bytes:
    return page("diagnostics", "Diagnostics", fill("diagnostics.html"), scripts=("diagnostics.js",))


def not_found(path: str) -> bytes:
    return page("not-found", "Page not found", fill("not_found.html", path=path))
