"""Suites written the way teams already write them, without the plugin's fixtures.

Each folder is a package, so its conftest.py imports as ``byo.<suite>.conftest`` and
never clashes with the rootless ``examples/conftest.py`` or with its neighbours.
"""
