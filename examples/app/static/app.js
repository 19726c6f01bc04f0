// Shared by every page: the cart badge in the header and a small toast helper.
"use strict";

window.Trailhead = (() => {
  const CART_KEY = "trailhead.cart";

  function readCart() {
    try {
      return JSON.parse(localStorage.getItem(CART_KEY)) || {};
    } catch (err) {
      // A hand-edited or corrupt value should not break every page.
      return {};
    }
  }

  function cartCount() {
    return Object.values(readCart()).reduce((sum, qty) => sum + qty, 0);
  }

  function renderBadge() {
    const badge = document.getElementById("cart-count");
    if (badge) badge.textContent = String(cartCount());
  }

  function addToCart(productId, quantity) {
    const cart = readCart();
    cart[productId] = (cart[productId] || 0) + quantity;
    localStorage.setItem(CART_KEY, JSON.stringify(cart));
    renderBadge();
  }

  let toastTimer = null;
  function toast(message) {
    const box = document.getElementById("toast");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    renderBadge();
    // One line per page view, so a captured console log always shows where the browser was.
    console.log(`[trailhead] ${document.body.dataset.page || "page"} ready: ${location.pathname}`);
  });

  return { addToCart, cartCount, toast };
})();
