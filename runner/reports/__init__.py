"""Readers of the JUnit reports the plugin writes: model, summary, merge, HTML, download.

``bin/report.py`` (``lambda-ui report``) is the command line over these.
"""

from lambda_ui.runner.reports.merge import MergeResult, merge_files, read_report
from lambda_ui.runner.reports.model import Artifact, Case, Outcome, Report, from_root
from lambda_ui.runner.reports.safety import ReportError

__all__ = ["Artifact", "Case", "MergeResult", "Outcome", "Report", "ReportError", "from_root", "merge_files", "read_report"]
