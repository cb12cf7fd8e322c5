"""Locust workers in network namespaces: the loopback bridges, the clean-up, the master/worker commands.

The namespace tests need root and iproute2's ``ip`` (they skip without); each takes about a second.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from loadtests.locust_cluster import master_command, worker_command
from loadtests.schedule import ArrivalLedger, add_ledger_counts
from twittcom.commands.storm import storm
from twittcom.netns import NetnsError, check_netns_support, namespace_names, worker_namespaces
from twittcom.storm_workers import free_loopback_port, loopback_ports

CAN_NETNS = sys.platform == "linux" and os.geteuid() == 0 and shutil.which("ip") is not None
needs_netns = pytest.mark.skipif(not CAN_NETNS, reason="needs root and iproute2's ip")


def _namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


@pytest.fixture
def served_port() -> Iterator[int]:
    """A tiny HTTP server on this namespace's 127.0.0.1 answering ``hello`` (its port)."""

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = b"hello"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def _fetch_in(prefix: tuple[str, ...], port: int) -> subprocess.CompletedProcess[str]:
    script = (
        f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=5).read())"
    )
    return subprocess.run([*prefix, sys.executable, "-c", script], capture_output=True, text=True, timeout=20)


@needs_netns
def test_a_worker_namespace_reaches_the_stack_only_through_its_loopback_bridge(served_port: int) -> None:
    unbridged = free_loopback_port()
    tag = f"t1-{os.getpid()}"  # another checkout's test run on this machine uses names of its own
    with worker_namespaces(2, [served_port], tag=tag) as prefixes:
        assert set(namespace_names(2, tag)) <= _namespaces()
        for prefix in prefixes:
            assert _fetch_in(prefix, served_port).stdout.strip() == "b'hello'"
            # only lo, with only loopback addresses, inside
            addresses = subprocess.run([*prefix, "ip", "-o", "addr"], capture_output=True, text=True).stdout
            assert {line.split()[1] for line in addresses.splitlines()} == {"lo"}
            # a port not bridged is not reachable from the namespace
            assert "Connection refused" in _fetch_in(prefix, unbridged).stderr
    assert not set(namespace_names(2, tag)) & _namespaces()


@needs_netns
def test_a_failure_inside_kills_what_runs_in_the_namespaces_and_deletes_them(served_port: int) -> None:
    started: list[subprocess.Popen[bytes]] = []
    tag = f"t2-{os.getpid()}"
    with pytest.raises(RuntimeError, match="boom"), worker_namespaces(1, [served_port], tag=tag) as prefixes:
        started.append(subprocess.Popen([*prefixes[0], "sleep", "300"]))
        raise RuntimeError("boom")
    assert started[0].wait(10) != 0  # killed by the clean-up
    assert f"twittcom-{tag}-w0" not in _namespaces()


def test_without_root_the_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(NetnsError, match=r"^--netns needs root \(it runs `ip netns add`\)"):
        check_netns_support()
    result = CliRunner().invoke(storm, ["scenarios/ci-smoke.toml", "--locust-workers", "2", "--netns"])
    assert result.exit_code != 0 and "Error: --netns needs root" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_a_master_port_without_netns_is_refused() -> None:
    result = CliRunner().invoke(storm, ["scenarios/ci-smoke.toml", "--master-port", "5557"])
    assert result.exit_code == 2 and "--master-port needs --netns" in result.output


def test_only_loopback_urls_can_be_bridged() -> None:
    assert loopback_ports(
        ["http://127.0.0.1:8080", "", "http://localhost:8081/x", "http://127.0.0.1:8080"]
    ) == [
        8080,
        8081,
    ]
    with pytest.raises(NetnsError, match="not http://10.0.0.2:8080"):
        loopback_ports(["http://10.0.0.2:8080"])


def test_the_master_binds_the_loopback_and_each_worker_joins_it() -> None:
    master = master_command(workers=2, master_port=5600, csv_prefix="out/locust")
    at = master.index("--master-bind-host")
    assert master[at + 1 : at + 4] == ["127.0.0.1", "--master-bind-port", "5600"]
    assert master[master.index("--expect-workers") + 1] == "2" and "--headless" in master
    worker = worker_command(master_host="127.0.0.1", master_port=5600)
    assert "--worker" in worker and worker[worker.index("--master-port") + 1] == "5600"


def test_the_master_counts_each_workers_journeys_from_its_ledger_reports() -> None:
    ledger, counts = ArrivalLedger(), {"index": 1}
    ledger.expect([0.5, 1.2, 3.0])
    ledger.record(0.5, 0.6)
    add_ledger_counts(counts, ledger.drain())
    ledger.record(1.2, 1.3)
    add_ledger_counts(counts, ledger.drain())
    assert counts == {"index": 1, "scheduled": 3, "started": 2}


def test_remote_workers_need_fixed_ports_for_their_tunnels() -> None:
    result = CliRunner().invoke(
        storm, ["scenarios/ci-smoke.toml", "--locust-workers", "2", "--remote-workers"]
    )
    assert result.exit_code == 2 and "--remote-workers needs fixed --master-port, --port" in result.output


def test_remote_instructions_tunnel_every_port_and_name_the_config_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from twittcom.commands.storm import remote_instructions

    text = remote_instructions(2, tmp_path, (5557, 8180, 8181, 8182))
    assert (
        "-L 5557:127.0.0.1:5557 -L 8180:127.0.0.1:8180 -L 8181:127.0.0.1:8181 -L 8182:127.0.0.1:8182" in text
    )
    assert str(tmp_path / "locust_worker_config.json") in text and "--master-port 5557" in text
