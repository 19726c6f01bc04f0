"""Server-side rules for the sign-up form.

`static/signup.js` applies the same rules in the browser with the same
messages, so a test can check either layer with one expected text. The
server still checks everything, because a client can skip the script.
"""

from __future__ import annotations

import re

# Deliberately simple: one "@", no spaces, and a dot in the domain.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
PLANS = ("free", "pro", "team")

MESSAGES = {
    "name_missing": "Please enter your name.",
    "email_missing": "Please enter your email address.",
    "email_invalid": "Enter a valid email address, like ada@example.com.",
    "password_missing": "Please choose a password.",
    "password_short": f"Use at least {MIN_PASSWORD} characters.",
    "password_no_digit": "Include at least one number.",
    "password_no_letter": "Include at least one letter.",
    "confirm_mismatch": "Passwords do not match.",
    "plan_invalid": "Choose one of the listed plans.",
    "terms_missing": "You must accept the terms to continue.",
}


def password_problem(password: str) -> str | None:
    """Return the first rule the password breaks, or None when it is fine."""
    if not password:
        return MESSAGES["password_missing"]
    if len(password) < MIN_PASSWORD:
        return MESSAGES["password_short"]
    if not any(ch.isdigit() for ch in password):
        return MESSAGES["password_no_digit"]
    if not any(ch.isalpha() for ch in password):
        return MESSAGES["password_no_letter"]
    return None


def validate_signup(form: dict[str, str]) -> dict[str, str]:
    """Check a submitted sign-up form; map each bad field to its message.

    An empty result means the form is valid.
    """
    errors: dict[str, str] = {}
    if not form.get("name", "").strip():
        errors["name"] = MESSAGES["name_missing"]

    email = form.get("email", "").strip()
    if not email:
        errors["email"] = MESSAGES["email_missing"]
    elif not EMAIL_RE.match(email):
        errors["email"] = MESSAGES["email_invalid"]

    password = form.get("password", "")
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    elif form.get("confirm", "") != password:
        errors["confirm"] = MESSAGES["confirm_mismatch"]

    if form.get("plan", "free") not in PLANS:
        errors["plan"] = MESSAGES["plan_invalid"]
    if form.get("terms") != "on":
        errors["terms"] = MESSAGES["terms_missing"]
    return errors
