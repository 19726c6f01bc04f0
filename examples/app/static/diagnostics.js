// Diagnostics: write log, warning and error lines to the console, and mirror them on the page.
"use strict";

(() => {
  const entries = document.getElementById("console-entries");
  let round = 0;

  function emit(level, message) {
    console[level](message);
    const li = document.createElement("li");
    li.className = `level-${level}`;
    li.dataset.level = level;
    li.textContent = `${level.toUpperCase()}  ${message}`;
    entries.append(li);
    entries.dataset.count = String(entries.children.length);
  }

  function runChecks() {
    round += 1;
    emit("log", `Diagnostics round ${round}: 3 services checked`);
    emit("warn", `Diagnostics round ${round}: inventory API answered in 2300 ms (slow)`);
    emit("error", `Diagnostics round ${round}: payment service unreachable (simulated)`);
  }

  document.getElementById("run-checks").addEventListener("click", runChecks);
  document.getElementById("throw-error").addEventListener("click", () => {
    emit("log", "About to throw an uncaught error");
    // Thrown from a timer so the click handler itself finishes cleanly.
    setTimeout(() => { throw new Error("Simulated crash from the diagnostics page"); }, 0);
  });
  runChecks();
})();
