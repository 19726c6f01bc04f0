// lambda-ui report HTML: filters, sorting, files with counts, zoom, filmstrip stepping, links from the timeline.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("li.test"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".controls button[data-filter]"));
  var box = document.getElementById("search");
  var shown = document.getElementById("shown");
  var filter = "all";
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.file"));
  var sorter = document.getElementById("sort");

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
    // A file shows while any of its tests does, with how many of them are shown.
    groups.forEach(function (group) {
      var inGroup = group.querySelectorAll("li.test");
      var visible = 0;
      for (var j = 0; j < inGroup.length; j++) { if (!inGroup[j].hidden) { visible++; } }
      group.hidden = visible === 0;
      group.querySelector(".fshown").textContent = visible === inGroup.length ? "" : visible + " shown";
    });
    shown.textContent = count + " of " + rows.length + " tests shown";
  }

  // Sorting: tests within each file, and the files by the same key (a file's time is its tests' sum,
  // its outcome its worst test's). Names ascending; durations slowest first; outcomes problems first.
  function keyOf(element, key) {
    var value = element.getAttribute("data-" + key) || "";
    return key === "name" ? value : parseFloat(value) || 0;
  }
  function compare(key) {
    return function (a, b) {
      var x = keyOf(a, key), y = keyOf(b, key);
      if (key === "time") { var t = x; x = y; y = t; }
      if (x < y) { return -1; }
      if (x > y) { return 1; }
      return keyOf(a, "index") - keyOf(b, "index");
    };
  }
  function sortBy(key) {
    var container = document.getElementById("tests");
    groups.slice().sort(compare(key === "index" ? "name" : key)).forEach(function (group) {
      var list = group.querySelector("ol.tests");
      Array.prototype.slice.call(list.children).sort(compare(key)).forEach(function (row) { list.appendChild(row); });
      container.appendChild(group);
    });
  }
  sorter.addEventListener("change", function () { sortBy(sorter.value); });

  // Zoom: a screenshot opens at full size over the page; its link opens the file itself.
  var zoom = document.getElementById("zoom");
  var zoomImg = document.getElementById("zoom-img");
  var zoomFull = document.getElementById("zoom-full");
  function closeZoom() { zoom.hidden = true; zoomImg.removeAttribute("src"); }
  Array.prototype.forEach.call(document.querySelectorAll("img.zoomable"), function (img) {
    img.addEventListener("click", function () {
      zoomImg.src = img.src;
      zoomImg.alt = img.getAttribute("data-label") || "";
      document.getElementById("zoom-label").textContent = img.getAttribute("data-label") || "";
      zoomFull.href = img.getAttribute("data-full") || img.src;
      zoom.hidden = false;
    });
  });
  document.getElementById("zoom-close").addEventListener("click", closeZoom);
  zoom.addEventListener("click", function (event) { if (event.target === zoom) { closeZoom(); } });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape" && !zoom.hidden) { closeZoom(); } });

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
