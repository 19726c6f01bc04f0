"""The product catalogue: a fixed, in-memory list served by `/api/products`.

The data is static on purpose: tests can assert exact names, prices and
counts without seeding a database first.
"""

from __future__ import annotations

from typing import TypedDict


class Product(TypedDict):
    """One catalogue entry, exactly as `/api/products` serialises it."""

    id: int
    name: str
    category: str
    price_cents: int
    stock: int
    rating: float
    color: str
    summary: str
    features: list[str]


# Stock levels cover the three states the UI shows: plenty, low, and none.
PRODUCTS: list[Product] = [
    {
        "id": 1,
        "name": "Summit 2P Tent",
        "category": "Shelter",
        "price_cents": 27900,
        "stock": 12,
        "rating": 4.7,
        "color": "#2f7d5b",
        "summary": "A freestanding two-person tent that pitches in three minutes.",
        "features": ["1.9 kg packed", "Two doors, two vestibules", "Colour-coded poles"],
    },
    {
        "id": 2,
        "name": "Ridgeline Down Jacket",
        "category": "Apparel",
        "price_cents": 18900,
        "stock": 3,
        "rating": 4.5,
        "color": "#c0563b",
        "summary": "Warm 800-fill down that packs into its own pocket.",
        "features": ["800-fill responsibly sourced down", "Water-resistant shell", "Packs into chest pocket"],
    },
    {
        "id": 3,
        "name": "Trail Runner Pack 28L",
        "category": "Packs",
        "price_cents": 12900,
        "stock": 20,
        "rating": 4.4,
        "color": "#3b6fc0",
        "summary": "A light daypack with a ventilated back panel.",
        "features": ["28 litres", "Hydration sleeve", "Hip-belt pockets"],
    },
    {
        "id": 4,
        "name": "Alpine Trekking Poles",
        "category": "Accessories",
        "price_cents": 7950,
        "stock": 0,
        "rating": 4.2,
        "color": "#7a5bc0",
        "summary": "Carbon poles with cork grips and quick-lock adjusters.",
        "features": ["Carbon shafts", "Cork grips", "105-135 cm"],
    },
    {
        "id": 5,
        "name": "Featherlight Sleeping Bag",
        "category": "Shelter",
        "price_cents": 21900,
        "stock": 7,
        "rating": 4.6,
        "color": "#1f8a99",
        "summary": "A three-season bag rated to -2 C that weighs under a kilo.",
        "features": ["Comfort -2 C", "950 g", "Full-length zip"],
    },
    {
        "id": 6,
        "name": "Canyon Water Filter",
        "category": "Accessories",
        "price_cents": 4495,
        "stock": 35,
        "rating": 4.8,
        "color": "#2a9d8f",
        "summary": "Squeeze filter that cleans a litre of stream water a minute.",
        "features": ["0.1 micron hollow fibre", "Filters 400,000 litres", "Fits standard bottles"],
    },
    {
        "id": 7,
        "name": "Basecamp Stove Kit",
        "category": "Cooking",
        "price_cents": 6400,
        "stock": 15,
        "rating": 4.3,
        "color": "#d08c2f",
        "summary": "A canister stove, a 1 L pot and two mugs that nest together.",
        "features": ["Boils 1 L in 3.5 min", "Piezo igniter", "Nesting pot set"],
    },
    {
        "id": 8,
        "name": "Headlamp 400",
        "category": "Accessories",
        "price_cents": 3499,
        "stock": 50,
        "rating": 4.1,
        "color": "#44546a",
        "summary": "A rechargeable 400-lumen headlamp with a red night mode.",
        "features": ["400 lumens", "USB-C charging", "Red night light"],
    },
]


def find_product(product_id: int) -> Product | None:
    """Return the product with this id, or None when there is none."""
    for product in PRODUCTS:
        if product["id"] == product_id:
            return product
    return None


def format_price(cents: int) -> str:
    """Format cents the way the UI shows prices, e.g. 27900 -> "$279.00"."""
    return f"${cents // 100}.{cents % 100:02d}"
