"""pytest-selenium's ``selenium`` fixture, ``--driver Chrome`` and pytest-base-url's ``--base-url``."""
