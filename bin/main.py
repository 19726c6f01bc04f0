"""``lambda-ui``: one command, a subcommand per job.

``lambda-ui report …`` reads JUnit reports (also installed as ``lambda-ui-report``);
``lambda-ui local-lambda …`` runs the local Lambda stand-in (also ``lambda-ui-local-lambda``;
needs the ``[local]`` extra); ``lambda-ui doctor`` checks an account is ready for ``pytest --lambda``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = """usage: lambda-ui COMMAND [ARGS...]

commands:
  report        summarise, merge, render or download JUnit reports (lambda-ui report --help)
  local-lambda  run the local Lambda stand-in (lambda-ui local-lambda --help; extra [local])
  doctor        check credentials, function, bucket, prefix, image and Chrome for pytest --lambda (lambda-ui doctor --help)
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "report":
        from lambda_ui.cli.report import main as report

        return report(rest)
    if command == "local-lambda":
        from lambda_ui.cli.local_lambda import main as local_lambda

        return local_lambda(rest)
    if command == "doctor":
        from lambda_ui.cli.doctor import main as doctor

        return doctor(rest)
    print(f"lambda-ui: unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
