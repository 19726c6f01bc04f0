"""PYTEST_DONT_REWRITE: imported before each in-Lambda pytest starts.

pytest-lambda-ui: run a Selenium suite one test per AWS Lambda invocation.

Installed as one import name, ``lambda_ui``: ``lambda_ui.runner`` (the pytest plugin, runner/),
``lambda_ui.function`` (the Lambda handler, lambda_pkg/), ``lambda_ui.cli`` (bin/),
``lambda_ui.local_lambda`` (the local stand-in, local_lambda/, extra ``[local]``), and
``lambda_ui.contract`` (wire/contract.py), the one module both sides of the wire import.
"""
