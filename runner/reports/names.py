"""Property names the report tools write themselves, next to the plugin's in :mod:`lambda_ui.runner.junit_contract`.

``merge`` adds these; ``summary`` and ``html`` read them back. The plugin never
writes them, so they are not part of its contract.
"""

from __future__ import annotations

#: On a test seen in more than one input: how many times.
MERGE_ATTEMPTS = "merge_attempts"
#: + the attempt's number: ``<source>: <outcome>[: <first line of its message>]``.
MERGE_ATTEMPT_PREFIX = "merge_attempt_"
#: On the merged suite: how many input files went into it.
MERGED_INPUTS = "merged_inputs"
#: On the merged suite: how its ``run_wall_s`` was computed (the union of the inputs' run intervals).
MERGED_WALL = "merged_wall"
