// Products page: fetch the catalogue once, then filter and sort it in the browser.
"use strict";

(() => {
  const grid = document.getElementById("product-grid");
  const count = document.getElementById("result-count");
  const empty = document.getElementById("empty-state");
  const search = document.getElementById("search");
  const category = document.getElementById("category");
  const sort = document.getElementById("sort");
  let products = [];

  const price = (cents) => `$${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
  const initials = (name) => name.split(/\s+/).slice(0, 2).map((w) => w[0]).join("").toUpperCase();

  function stockLabel(stock) {
    if (stock === 0) return ["out", "Out of stock"];
    if (stock < 5) return ["low", `Only ${stock} left`];
    return ["in", "In stock"];
  }

  function card(product) {
    const [cls, label] = stockLabel(product.stock);
    const el = document.createElement("article");
    el.className = "product-card";
    el.dataset.productId = product.id;
    el.innerHTML = `
      <div class="art"></div>
      <div class="body">
        <span class="badge category"></span>
        <a class="name"></a>
        <span class="muted summary"></span>
        <div class="meta"><span class="price"></span><span class="stock"></span></div>
      </div>`;
    // Text goes in through textContent, never innerHTML, so names cannot inject markup.
    el.querySelector(".art").style.background = product.color;
    el.querySelector(".art").textContent = initials(product.name);
    el.querySelector(".category").textContent = product.category;
    const link = el.querySelector(".name");
    link.href = `/products/${product.id}`;
    link.textContent = product.name;
    el.querySelector(".summary").textContent = product.summary;
    el.querySelector(".price").textContent = price(product.price_cents);
    const stock = el.querySelector(".stock");
    stock.classList.add(cls);
    stock.textContent = label;
    return el;
  }

  function visible() {
    const query = search.value.trim().toLowerCase();
    const wanted = category.value;
    const items = products.filter((p) =>
      (!query || p.name.toLowerCase().includes(query) || p.summary.toLowerCase().includes(query)) &&
      (!wanted || p.category === wanted));
    const order = {
      "price-asc": (a, b) => a.price_cents - b.price_cents,
      "price-desc": (a, b) => b.price_cents - a.price_cents,
      "name": (a, b) => a.name.localeCompare(b.name),
    }[sort.value];
    return order ? items.sort(order) : items;
  }

  function render() {
    const items = visible();
    grid.replaceChildren(...items.map(card));
    count.textContent = `${items.length} of ${products.length} products`;
    empty.hidden = items.length > 0;
    grid.dataset.state = "ready";
    grid.setAttribute("aria-busy", "false");
  }

  function fillCategories() {
    const names = [...new Set(products.map((p) => p.category))].sort();
    for (const name of names) category.add(new Option(name, name));
  }

  async function load() {
    try {
      const response = await fetch("/api/products");
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      products = await response.json();
      fillCategories();
      render();
    } catch (err) {
      console.error("Could not load products:", err.message);
      grid.dataset.state = "error";
      grid.textContent = "Products could not be loaded. Please try again.";
    }
  }

  // Selects report a choice through "change"; text boxes report each keystroke through "input".
  search.addEventListener("input", render);
  for (const select of [category, sort]) select.addEventListener("change", render);
  document.getElementById("clear-filters").addEventListener("click", () => {
    search.value = "";
    category.value = "";
    render();
  });
  load();
})();
