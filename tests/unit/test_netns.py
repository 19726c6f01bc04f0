"""The local Lambda's private network namespaces (local_lambda/netns.py), on the real kernel."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

#: In a child process: namespaces whose ephemeral range holds two ports, one of them relayed,
#: plus a port-0 listener (the Runtime API's). Opened in the order asked, the port-0 listener
#: takes the relayed port (bind(0) prefers odd ports) and the relayed bind fails; fixed ports
#: first leave it the other one. The range is narrowed from inside each new namespace.
CROWDED = textwrap.dedent(
    """
    from lambda_ui.local_lambda import netns

    bring_up = netns._loopback_up

    def loopback_up_with_two_ports():
        bring_up()
        with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as ports:
            ports.write("40000 40001")

    netns._loopback_up = loopback_up_with_two_ports
    for relayed in (40001, 40000) * 5:
        namespace = netns.create([("127.0.0.1", 0), ("127.0.0.1", relayed)])
        ports = [listener.getsockname()[1] for listener in namespace.listeners]
        assert ports == [80001 - relayed, relayed], ports
        namespace.close()
    print("ok")
    """
)


def test_a_port_0_listener_never_takes_a_relayed_port() -> None:
    if os.geteuid() != 0:
        pytest.skip("a network namespace needs root")
    result = subprocess.run([sys.executable, "-c", CROWDED], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr[-2000:]
