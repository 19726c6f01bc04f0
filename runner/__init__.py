"""pytest-lambda-ui: Selenium tests locally or one per AWS Lambda invocation.

PYTEST_DONT_REWRITE: the plugin's own code needs no assertion rewriting, and the Lambda
handler imports it before each in-Lambda pytest starts (pytest would warn about it).
"""

from lambda_ui.runner.artifacts import Artifacts
from lambda_ui.runner.chrome_defaults import chrome_options, chrome_service

__all__ = ["Artifacts", "chrome_options", "chrome_service"]
__version__ = "0.1.0"
