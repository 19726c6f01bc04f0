"""pytest-lambda-ui: Selenium tests locally or one per AWS Lambda invocation.

PYTEST_DONT_REWRITE: the plugin's own code needs no assertion rewriting, and the Lambda
handler imports it before each in-Lambda pytest starts (pytest would warn about it).
"""

from runner.artifacts import Artifacts

__all__ = ["Artifacts"]
__version__ = "0.1.0"
