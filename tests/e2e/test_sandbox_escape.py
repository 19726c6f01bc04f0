"""Escape probes against the local Lambda's sandbox (issue 13): test code inside an
environment must not reach the host's /tmp, another environment's /tmp, root, the
stand-in's network namespace, the filesystem outside /tmp, or the host's processes.

Each probe runs in a real environment (stand_ins/functions/escape.py) of a stand-in
in ``namespace`` mode; where this machine cannot give that mode, the tests are skipped
with the reason the stand-in logs.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest
from botocore.config import Config

from lambda_ui.local_lambda import FunctionConfig, LocalLambda, Options, sandbox
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ESCAPE = "stand_ins.functions.escape.handler"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalLambda, Any]]:
    """One stand-in with two warm environments, so one can probe the other."""
    config = FunctionConfig(name="fn", handler=ESCAPE, code_dir=str(REPO), timeout=20, memory_mb=256, reserved_concurrency=2)
    options = Options(port=0, prestart=2, expect_credentials=("testing", "testing"))
    with LocalLambda(config, options) as lam:
        assert lam.isolation is not None
        if lam.isolation.mode != sandbox.NAMESPACE:
            pytest.skip(f"no namespace sandbox here: {lam.isolation.reason}")
        client = boto3.client("lambda", endpoint_url=lam.endpoint, config=Config(retries={"total_max_attempts": 1}, read_timeout=60), **CREDENTIALS)
        yield lam, client


def probe(client: Any, event: dict[str, Any]) -> dict[str, Any]:
    response = client.invoke(FunctionName="fn", Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return dict(payload)


def environment_pids(lam: LocalLambda) -> list[int]:
    """Host pids of every process of every environment."""
    assert lam.pool is not None
    pids: list[int] = []
    for env in lam.pool.environments():
        try:
            root = psutil.Process(env.pid)
            pids += [root.pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.Error:
            continue
    return pids


def test_the_host_tmp_is_out_of_reach(served: tuple[LocalLambda, Any]) -> None:
    _lam, client = served
    readable = Path(f"/tmp/lle-host-{uuid.uuid4().hex}")
    readable.write_text("the host's own file")
    planted = f"lle-planted-{uuid.uuid4().hex}"
    try:
        facts = probe(client, {"action": "host_tmp", "pid": os.getpid(), "read_name": readable.name, "write_name": planted})
    finally:
        readable.unlink()
        leaked = Path("/tmp", planted)
        planted_on_host = leaked.exists()
        leaked.unlink(missing_ok=True)
    assert facts["read"] is None, "read the host's /tmp through /proc/<pid>/root"
    assert not planted_on_host, f"wrote into the host's /tmp through {facts['written_through']}"


def test_another_environment_tmp_is_out_of_reach(served: tuple[LocalLambda, Any]) -> None:
    lam, client = served
    name, text = f"lle-secret-{uuid.uuid4().hex}", "another environment's secret"
    holder = threading.Thread(target=probe, args=(client, {"action": "write_secret", "name": name, "text": text, "hold": 3}))
    holder.start()
    try:
        # The stand-in, root on the host, sees the holder's file: then it is there to steal.
        assert wait_until(lambda: any(Path(f"/proc/{pid}/root/tmp/{name}").exists() for pid in environment_pids(lam)), timeout=20.0), "never written"
        facts = probe(client, {"action": "other_tmp", "name": name, "pids": environment_pids(lam)})
    finally:
        holder.join()
    assert facts["read"] is None, "read another environment's /tmp"


def test_the_function_does_not_run_as_root(served: tuple[LocalLambda, Any]) -> None:
    _lam, client = served
    facts = probe(client, {"action": "identity"})
    assert facts["uid"] != 0 and facts["euid"] != 0 and facts["gid"] != 0
    assert int(facts["cap_eff"], 16) == 0, "the function holds capabilities"


def test_the_stand_in_network_namespace_cannot_be_entered(served: tuple[LocalLambda, Any]) -> None:
    _lam, client = served
    with socket.socket() as host_service:
        host_service.bind(("127.0.0.1", 0))
        host_service.listen()
        facts = probe(client, {"action": "setns", "pid": os.getpid(), "port": host_service.getsockname()[1]})
    assert facts["setns"] is None, "joined the stand-in's network namespace"
    assert facts["port_reachable"] is False, "reached a host port"


def test_nothing_outside_tmp_is_writable(served: tuple[LocalLambda, Any]) -> None:
    _lam, client = served
    name = f"lle-outside-{uuid.uuid4().hex}"
    facts = probe(client, {"action": "write_outside", "name": name})
    on_host = [folder for folder in facts["written"] if Path(folder, name).exists()]
    for folder in on_host:
        Path(folder, name).unlink()
    assert on_host == [], "wrote outside /tmp onto the host's filesystem"
    # Only the environment's own /dev/shm (a small private tmpfs) may take a file.
    assert set(facts["written"]) <= {"/dev/shm"}, facts["written"]


def test_proc_lists_only_the_environment_processes(served: tuple[LocalLambda, Any]) -> None:
    _lam, client = served
    facts = probe(client, {"action": "processes"})
    processes = {int(pid): cmdline for pid, cmdline in facts["processes"].items()}
    assert os.getpid() not in processes or "pytest" not in processes[os.getpid()]
    strangers = {pid: cmdline for pid, cmdline in processes.items() if "_launcher.py" not in cmdline and "awslambdaric" not in cmdline}
    assert strangers == {}, "the environment sees processes that are not its own"
    assert facts["own_pid"] in processes and len(processes) <= 3


def test_without_root_the_stand_in_says_there_is_no_sandbox(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    with pytest.raises(RuntimeError, match="--isolation namespace is not possible here: not running as root"):
        sandbox.detect(sys.executable, "namespace", str(REPO), [])
    caplog.set_level("INFO", logger="lambda_ui.local_lambda")
    config = FunctionConfig(name="fn", handler=ESCAPE, code_dir=str(REPO), timeout=20, memory_mb=256, reserved_concurrency=1)
    with LocalLambda(config, Options(port=0)) as lam:
        assert lam.isolation is not None and lam.isolation.mode == sandbox.TMPDIR
    said = [r for r in caplog.records if "isolated by tmpdir" in r.getMessage()]
    assert len(said) == 1 and said[0].levelname == "WARNING"
    assert "no sandbox" in said[0].getMessage() and "(not running as root)" in said[0].getMessage()
