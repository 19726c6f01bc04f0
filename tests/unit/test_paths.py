from __future__ import annotations

import re

from lambda_ui.runner.artifacts.paths import artifact_name, new_run_id, nodeid_path


def test_node_ids_become_safe_distinct_paths() -> None:
    assert nodeid_path("ui/test_forms.py::TestSignup::test_ok") == "ui/test_forms.py/TestSignup/test_ok"
    a = nodeid_path("ui/test_forms.py::test_email[a b]")
    b = nodeid_path("ui/test_forms.py::test_email[a_b]")
    assert a != b
    assert re.fullmatch(r"[A-Za-z0-9._/-]+", a) and re.fullmatch(r"[A-Za-z0-9._/-]+", b)
    assert ".." not in nodeid_path("../../etc/passwd::test_x").split("/")


def test_long_parameter_ids_are_bounded() -> None:
    path = nodeid_path("t.py::test_x[" + "y" * 500 + "]")
    assert max(len(segment) for segment in path.split("/")) <= 90


def test_run_ids_sort_by_time_and_differ() -> None:
    first, second = new_run_id(0), new_run_id(0)
    assert first.startswith("19700101-000000-") and first != second
    assert new_run_id(86400) > first


def test_artifact_names_get_their_extension_once() -> None:
    assert artifact_name("cart page", ".png") == "cart_page.png"
    assert artifact_name("cart.png", ".png") == "cart.png"
    assert artifact_name("../", ".png") == "artifact.png"
