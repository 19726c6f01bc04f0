"""Tiny Lambda handlers for the local Lambda tests (tests/e2e/test_local_lambda.py)."""
