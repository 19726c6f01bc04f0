// Product page: add to cart, and warn in the console when stock runs low.
"use strict";

(() => {
  const product = document.getElementById("product");
  const form = document.getElementById("add-to-cart-form");
  const quantity = document.getElementById("quantity");
  const name = product.dataset.productName;
  const stock = Number(product.dataset.stock);

  if (stock > 0 && stock < 5) console.warn(`Low stock: only ${stock} left of ${name}`);

  form.addEventListener("submit", () => {
    const qty = Math.min(Math.max(parseInt(quantity.value, 10) || 1, 1), 9);
    window.Trailhead.addToCart(product.dataset.productId, qty);
    window.Trailhead.toast(`Added ${qty} × ${name} to your cart`);
  });
})();
