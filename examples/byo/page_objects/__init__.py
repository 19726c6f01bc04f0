"""A plain-Selenium page-object suite with a team plugin loaded by ``-p``."""
