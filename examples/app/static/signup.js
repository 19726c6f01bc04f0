// Sign-up form: the same rules and messages as validation.py, checked before the POST.
"use strict";

(() => {
  const form = document.getElementById("signup-form");
  const MESSAGES = {
    name_missing: "Please enter your name.",
    email_missing: "Please enter your email address.",
    email_invalid: "Enter a valid email address, like ada@example.com.",
    password_missing: "Please choose a password.",
    password_short: "Use at least 8 characters.",
    password_no_digit: "Include at least one number.",
    password_no_letter: "Include at least one letter.",
    confirm_mismatch: "Passwords do not match.",
    terms_missing: "You must accept the terms to continue.",
  };
  const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

  function passwordProblem(password) {
    if (!password) return MESSAGES.password_missing;
    if (password.length < 8) return MESSAGES.password_short;
    if (!/\d/.test(password)) return MESSAGES.password_no_digit;
    if (!/\p{L}/u.test(password)) return MESSAGES.password_no_letter;
    return "";
  }

  function check() {
    const value = (id) => form.elements[id].value;
    const errors = {};
    if (!value("name").trim()) errors.name = MESSAGES.name_missing;
    const email = value("email").trim();
    if (!email) errors.email = MESSAGES.email_missing;
    else if (!EMAIL_RE.test(email)) errors.email = MESSAGES.email_invalid;
    const problem = passwordProblem(value("password"));
    if (problem) errors.password = problem;
    else if (value("confirm") !== value("password")) errors.confirm = MESSAGES.confirm_mismatch;
    if (!form.elements.terms.checked) errors.terms = MESSAGES.terms_missing;
    return errors;
  }

  function show(errors) {
    for (const id of ["name", "email", "password", "confirm", "plan", "terms"]) {
      const message = errors[id] || "";
      document.getElementById(`${id}-error`).textContent = message;
      const input = form.elements[id];
      input.closest(".field").classList.toggle("has-error", Boolean(message));
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  let attempted = false;
  form.addEventListener("submit", (event) => {
    // Tests switch this off to reach the server-side checks through the real form.
    if (form.dataset.clientValidation === "off") return;
    attempted = true;
    const errors = check();
    show(errors);
    const first = Object.keys(errors)[0];
    if (first) {
      event.preventDefault();
      form.elements[first].focus();
    }
  });

  // After a failed attempt, re-check as the user types so fixed fields turn clean.
  form.addEventListener("input", () => { if (attempted) show(check()); });
  form.addEventListener("change", () => { if (attempted) show(check()); });
})();
