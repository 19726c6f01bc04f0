"""Tiny Lambda handlers the local Lambda serves in tests/e2e/ and bench/local_lambda.py."""
