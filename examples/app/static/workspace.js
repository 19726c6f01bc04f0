// Workspace: tabs, a packing list and a counter kept in localStorage, and a confirm dialog.
"use strict";

(() => {
  const TODOS_KEY = "trailhead.todos";
  const COUNTER_KEY = "trailhead.counter";
  const TAB_KEY = "trailhead.tab";

  // Tabs: the selected tab is remembered for this browser tab only (sessionStorage).
  const tabs = [...document.querySelectorAll("[role=tab]")];
  function selectTab(tab) {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    }
    sessionStorage.setItem(TAB_KEY, tab.id);
  }
  for (const tab of tabs) tab.addEventListener("click", () => selectTab(tab));
  const remembered = document.getElementById(sessionStorage.getItem(TAB_KEY) || "");
  if (remembered && tabs.includes(remembered)) selectTab(remembered);

  // Packing list
  const list = document.getElementById("todo-list");
  const input = document.getElementById("todo-input");
  const error = document.getElementById("todo-error");
  const remaining = document.getElementById("todo-remaining");
  const emptyNote = document.getElementById("todo-empty");
  let todos = load(TODOS_KEY, []);
  let nextId = todos.reduce((max, t) => Math.max(max, t.id), 0) + 1;

  function load(key, fallback) {
    try {
      const value = JSON.parse(localStorage.getItem(key));
      return value === null ? fallback : value;
    } catch (err) {
      return fallback;
    }
  }

  function save() {
    localStorage.setItem(TODOS_KEY, JSON.stringify(todos));
    renderTodos();
  }

  function renderTodos() {
    list.replaceChildren(...todos.map((todo) => {
      const li = document.createElement("li");
      li.className = todo.done ? "todo-item done" : "todo-item";
      li.dataset.id = todo.id;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.className = "todo-toggle";
      box.checked = todo.done;
      box.setAttribute("aria-label", `Packed: ${todo.text}`);
      box.addEventListener("change", () => { todo.done = box.checked; save(); });
      const text = document.createElement("span");
      text.className = "todo-text";
      text.textContent = todo.text;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "todo-delete";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", `Delete ${todo.text}`);
      remove.addEventListener("click", () => { todos = todos.filter((t) => t !== todo); save(); });
      li.append(box, text, remove);
      return li;
    }));
    const left = todos.filter((t) => !t.done).length;
    remaining.textContent = `${left} ${left === 1 ? "item" : "items"} left`;
    emptyNote.hidden = todos.length > 0;
  }

  document.getElementById("todo-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      error.textContent = "Write something first.";
      return;
    }
    error.textContent = "";
    todos.push({ id: nextId++, text, done: false });
    input.value = "";
    save();
  });

  document.getElementById("todo-clear-done").addEventListener("click", () => {
    todos = todos.filter((t) => !t.done);
    save();
  });

  // "Clear all" is destructive, so it goes through a modal dialog first.
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("todo-clear-all").addEventListener("click", () => {
    document.getElementById("confirm-text").textContent =
      `This removes all ${todos.length} item(s) from the packing list. It cannot be undone.`;
    dialog.showModal();
  });
  document.getElementById("confirm-cancel").addEventListener("click", () => dialog.close("cancel"));
  document.getElementById("confirm-ok").addEventListener("click", () => dialog.close("confirm"));
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm") {
      todos = [];
      save();
      window.Trailhead.toast("Packing list cleared");
    }
    dialog.returnValue = "";
  });

  // Counter: never below zero, so the decrease button disables at zero.
  const value = document.getElementById("counter-value");
  const dec = document.getElementById("counter-dec");
  let count = Number(load(COUNTER_KEY, 0)) || 0;
  function setCount(next) {
    count = Math.max(0, next);
    localStorage.setItem(COUNTER_KEY, String(count));
    value.textContent = String(count);
    dec.disabled = count === 0;
  }
  dec.addEventListener("click", () => setCount(count - 1));
  document.getElementById("counter-inc").addEventListener("click", () => setCount(count + 1));
  document.getElementById("counter-reset").addEventListener("click", () => setCount(0));

  setCount(count);
  renderTodos();
  document.body.dataset.ready = "true";
})();
