// Trail report: show a spinner while the slow endpoint works, then the table.
"use strict";

(() => {
  const spinner = document.getElementById("spinner");
  const report = document.getElementById("report");
  const error = document.getElementById("report-error");
  const seconds = new URLSearchParams(location.search).get("seconds") || "3";
  const started = performance.now();

  function row(trail) {
    const tr = document.createElement("tr");
    for (const text of [trail.trail, trail.status, trail.snow_line, "today"]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }

  async function load() {
    try {
      const response = await fetch(`/api/slow?seconds=${encodeURIComponent(seconds)}`);
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      const elapsed = ((performance.now() - started) / 1000).toFixed(1);
      report.querySelector("tbody").replaceChildren(...data.trails.map(row));
      const served = document.getElementById("served-in");
      served.textContent = `The back end took ${data.seconds} s (page waited ${elapsed} s).`;
      served.dataset.seconds = String(data.seconds);
      report.hidden = false;
    } catch (err) {
      console.error("Trail report failed:", err.message);
      error.textContent = `The trail report could not be loaded: ${err.message}`;
      error.hidden = false;
    } finally {
      spinner.hidden = true;
    }
  }

  load();
})();
