"""Shopping through page objects: tests speak in pages, not selectors."""

from __future__ import annotations

import os

from .pages import HomePage

# BYO_FAIL=1 expects a price the shop does not charge, to show a failure's captures.
TENT_PRICE = "$299.00" if os.environ.get("BYO_FAIL") == "1" else "$279.00"


def test_home_page_heading(home: HomePage) -> None:
    assert home.heading == "Gear up for the trail"
    assert home.nav_labels()[:3] == ["Home", "Products", "Sign up"]


def test_shop_now_opens_the_catalogue(home: HomePage) -> None:
    products = home.shop_now()
    assert products.heading == "Products"
    assert len(products.names()) == 8


def test_adding_the_tent_fills_the_cart(home: HomePage) -> None:
    tent = home.shop_now().open_product("Summit 2P Tent").add_to_cart()
    assert tent.cart_count("1") == "1"


def test_tent_price(home: HomePage) -> None:
    tent = home.shop_now().open_product("Summit 2P Tent")
    assert tent.price == TENT_PRICE
