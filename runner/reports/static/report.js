// lambda-ui report HTML: filters, filmstrip stepping, links from the timeline.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("li.test"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".controls button[data-filter]"));
  var box = document.getElementById("search");
  var shown = document.getElementById("shown");
  var filter = "all";

  function apply() {
    var text = (box.value || "").trim().toLowerCase();
    var count = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var match = filter === "all" || row.getAttribute("data-outcome") === filter ||
        (filter === "flaky" && row.getAttribute("data-flaky") === "1") ||
        (filter === "problems" && row.getAttribute("data-problem") === "1");
      if (match && text) { match = row.getAttribute("data-search").indexOf(text) !== -1; }
      row.hidden = !match;
      if (match) { count++; }
    }
    shown.textContent = count + " of " + rows.length + " tests shown";
  }

  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      filter = button.getAttribute("data-filter");
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
      apply();
    });
  });
  var timer = null;
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, rows.length > 2000 ? 150 : 0);
  });

  // Filmstrip: one frame at a time, prev/next buttons and arrow keys.
  Array.prototype.forEach.call(document.querySelectorAll(".filmstrip"), function (strip) {
    var frames = strip.querySelectorAll(".frame");
    var position = strip.querySelector(".pos");
    var at = 0;
    function show(n) {
      at = (n + frames.length) % frames.length;
      for (var i = 0; i < frames.length; i++) { frames[i].hidden = i !== at; }
      position.textContent = (at + 1) + " / " + frames.length;
    }
    strip.querySelector(".prev").addEventListener("click", function () { show(at - 1); });
    strip.querySelector(".next").addEventListener("click", function () { show(at + 1); });
    strip.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") { show(at - 1); event.preventDefault(); }
      if (event.key === "ArrowRight") { show(at + 1); event.preventDefault(); }
    });
    show(0);
  });

  // An image that cannot load (expired link, deleted object) says so instead of showing a broken icon.
  function unavailable(img) {
    var note = document.createElement("p");
    note.className = "gap";
    note.textContent = (img.getAttribute("data-label") || "image") +
      " not available: the link did not load (expired presigned URL, object deleted, or file moved)";
    img.replaceWith(note);
  }
  Array.prototype.forEach.call(document.querySelectorAll("img[data-label]"), function (img) {
    if (img.complete && img.getAttribute("src") && img.naturalWidth === 0 && img.loading !== "lazy") { unavailable(img); return; }
    img.addEventListener("error", function () { unavailable(img); });
  });

  // A link to a test (from the timeline, or a shared URL) opens it and shows it.
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var row = id && document.getElementById(id);
    if (!row || !row.classList.contains("test")) { return; }
    if (row.hidden) {
      filter = "all"; box.value = "";
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", b.getAttribute("data-filter") === "all" ? "true" : "false"); });
      apply();
    }
    row.querySelector("details").open = true;
    row.scrollIntoView({ block: "start" });
  }
  window.addEventListener("hashchange", reveal);
  apply();
  reveal();
})();
