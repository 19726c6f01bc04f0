"""pytest-lambda-ui: Selenium tests locally or one per AWS Lambda invocation."""

from runner.artifacts import Artifacts

__all__ = ["Artifacts"]
__version__ = "0.1.0"
