"""The Lambda side: the handler, its execution environment and the local stand-in.

PYTEST_DONT_REWRITE: imported before each in-Lambda pytest starts, so pytest cannot rewrite it.
"""
