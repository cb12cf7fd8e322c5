"""A system under test for ``storm --against`` (and, later, the sweep): fakes served here, the
system started from a command template or reached at running URLs.

``--against`` takes one of:

* a **command template** the harness starts once the fakes are up, e.g.
  ``python my_processor.py --x {x_url} --sms {sms_url} --population {population}``; the
  placeholders (:data:`PLACEHOLDERS`) are filled from the fakes and the scenario, and the same
  values are in the system's environment as ``TWITTCOM_<NAME>`` (``TWITTCOM_X_URL``, ...);
* ``x=URL,sms=URL``: fakes already running with a system wired to them (then ``--population``
  names the file the system imported, the format of :mod:`twittcom.system_population`).

The fakes are configured by the scenario exactly as for the bundled stack
(:func:`twittcom.live_scenario.live_settings`: senders, carrier, webhook delay; X's limits are set
by the load run at its first arrival). The system is *ready* once it has read fake X (a mentions
or DM read, or a webhook registration) within :data:`READY_TIMEOUT_S`. Its output goes to
``system.log`` in the work directory; it is stopped with SIGTERM (SIGKILL 10 s later) at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import string
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenario import Scenario
from twittcom.live_scenario import live_settings
from twittcom.live_stack import StackStartError, StackUrls
from twittcom.system_population import population_document, write_population

__all__ = ["EXTERNAL", "PLACEHOLDERS", "Against", "against_stack", "parse_against_spec"]

#: the processor URL a run against an external system carries (no admin API is ever called)
EXTERNAL = "external:"
#: how long a started system may take to first read fake X
READY_TIMEOUT_S = 30.0
#: what a command template may name (and the ``TWITTCOM_*`` environment variables)
PLACEHOLDERS = (
    "x_url", "sms_url", "population", "operator", "operator_id", "operator_token", "app_token",
    "consumer_key", "consumer_secret", "sms_account_sid", "sms_auth_token", "sms_from", "sms_service_sid",
    "sms_validity_s", "workers", "poll_interval", "dm_poll_interval", "page_size", "ingestion",
    "otp_ttl_s", "workdir",
)  # fmt: skip


@dataclass(frozen=True)
class Against:
    """What ``--against`` named: a command template, or the URLs of a running set-up."""

    command: str = ""
    x_url: str = ""
    sms_url: str = ""
    population: str = ""


def parse_against_spec(text: str, population: str = "") -> Against:
    """``x=URL,sms=URL`` (needs ``population``) or a command template; ValueError when unusable."""
    from loadtests.config import parse_against

    stripped = text.strip()
    if not stripped:
        raise ValueError("--against is empty")
    if stripped.startswith(("x=", "sms=")):
        urls = parse_against(stripped)
        if not population:
            raise ValueError("--against x=URL,sms=URL needs --population FILE (what the system imported)")
        return Against(x_url=urls["x"], sms_url=urls["sms"], population=population)
    unknown = [
        name
        for _, name, _, _ in string.Formatter().parse(stripped)
        if name is not None and name not in PLACEHOLDERS
    ]
    if unknown:
        raise ValueError(f"--against names unknown placeholders {unknown}; known: {', '.join(PLACEHOLDERS)}")
    return Against(command=stripped)


@contextlib.contextmanager
def against_stack(
    scenario: Scenario, population: int, against: Against, workdir: Path, operator: str = "tatadocomo"
) -> Iterator[StackUrls]:
    """The fakes and the system under test for one run; yields the URLs (``processor`` is
    :data:`EXTERNAL`, ``population_file`` set)."""
    if against.x_url:
        yield StackUrls(against.x_url, against.sms_url, EXTERNAL, "", against.population)
        return
    with _served_fakes(scenario) as fakes:
        values = _seed(fakes, scenario, population, workdir, operator)
        with _system(against.command, values, workdir, fakes):
            yield StackUrls(values["x_url"], values["sms_url"], EXTERNAL, "", values["population"])


class _Fakes:
    """Fake X and fake SMS served on loopback from a background thread's event loop."""

    def __init__(self, x_backend: Any, sms_backend: Any, x_url: str, sms_url: str) -> None:
        self.x_backend, self.sms_backend, self.x_url, self.sms_url = x_backend, sms_backend, x_url, sms_url


@contextlib.contextmanager
def _served_fakes(scenario: Scenario) -> Iterator[_Fakes]:
    from fake_sms import ScaledClock, SmsBackend
    from fake_sms import create_app as create_sms_app
    from fake_twitter import TwitterBackend
    from fake_twitter import create_app as create_x_app
    from twittcom.stack_base import WEBHOOK_DELAY_CONCURRENCY
    from twittcom.stack_loopback import _loopback_socket, _Served

    live = live_settings(scenario, processor="external")
    x_backend = TwitterBackend(seed=0, rate_limits="off")
    sms_backend = SmsBackend(clock=ScaledClock(1.0), seed=0, config=dict(live.sms_config))
    if live.webhook_latency is not None:
        from fake_twitter.faults import FaultRule, Latency

        spec = live.webhook_latency
        delay = Latency(str(spec["kind"]), float(spec["a"]), float(spec.get("b", 0.0)))
        x_backend.faults.set_rule("webhooks", FaultRule(latency=delay))
    concurrency = 16 if live.webhook_latency is None else WEBHOOK_DELAY_CONCURRENCY
    sockets = [_loopback_socket(), _loopback_socket()]
    apps = [create_x_app(x_backend, delivery_concurrency=concurrency), create_sms_app(sms_backend)]
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"] = (asyncio.get_running_loop(), stop)
        served = [
            _Served(name, app, sock)
            for name, app, sock in zip(("fake-x", "fake-sms"), apps, sockets, strict=True)
        ]
        try:
            for one in served:
                await one.start()
            box["urls"] = (served[0].url, served[1].url)
            ready.set()
            await stop.wait()
        except BaseException as exc:
            box["error"] = exc
            ready.set()
        finally:
            for one in reversed(served):
                with contextlib.suppress(Exception):
                    await one.stop()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="twittcom-fakes", daemon=True)
    thread.start()
    ready.wait(60)
    if "urls" not in box:
        raise StackStartError(f"the fakes did not start: {box.get('error', 'timeout')}")
    try:
        yield _Fakes(x_backend, sms_backend, *box["urls"])
    finally:
        loop, stop = box["stop"]
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)


def _seed(fakes: _Fakes, scenario: Scenario, size: int, workdir: Path, operator: str) -> dict[str, str]:
    """Create the operator at fake X, the handsets at fake SMS, the population file; the values
    of the command template's placeholders."""
    from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

    live = live_settings(scenario, processor="external")
    user = fakes.x_backend.create_user(operator)
    document = population_document(scenario, size, operator)
    fakes.sms_backend.register_handsets({s["msisdn"]: s["circle"] for s in document["subscribers"]})
    document["operator"]["user_id"] = str(user.id)
    path = write_population(document, workdir)
    app = fakes.x_backend.app
    wk, ing = scenario.system.workers, scenario.system.ingestion
    return {
        "x_url": fakes.x_url, "sms_url": fakes.sms_url, "population": str(path), "operator": operator,
        "operator_id": str(user.id), "operator_token": user.bearer_token, "app_token": app.bearer_token,
        "consumer_key": app.consumer_key, "consumer_secret": app.consumer_secret,
        "sms_account_sid": DEFAULT_ACCOUNT_SID, "sms_auth_token": DEFAULT_AUTH_TOKEN,
        "sms_from": live.sms_from, "sms_service_sid": live.sms_service_sid,
        "sms_validity_s": str(live.sms_validity_s), "workers": str(wk.count),
        "poll_interval": f"{ing.poll_interval_s:g}", "dm_poll_interval": f"{ing.dm_poll_interval_s:g}",
        "page_size": str(ing.page_size), "ingestion": live.ingestion,
        "otp_ttl_s": f"{scenario.system.otp_ttl_s:g}",
        "workdir": str(workdir),
    }  # fmt: skip


def _has_read(fakes: _Fakes) -> bool:
    backend = fakes.x_backend
    return bool(backend.reads) or bool(backend.webhooks.subscribed_users)


@contextlib.contextmanager
def _system(template: str, values: dict[str, str], workdir: Path, fakes: _Fakes) -> Iterator[None]:
    """Start the system from ``template``; wait until it reads fake X; stop it on exit."""
    argv = shlex.split(template.format(**values))
    env = {**os.environ, **{f"TWITTCOM_{k.upper()}": v for k, v in values.items()}}
    log_path = workdir / "system.log"
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        except OSError as exc:
            raise StackStartError(f"cannot start the system {argv[0]!r}: {exc}") from exc
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _has_read(fakes):
                if process.poll() is not None:
                    raise StackStartError(
                        f"the system exited with code {process.returncode} before reading fake X; "
                        f"its output ({log_path}): {_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise StackStartError(
                        f"the system did not read fake X within {READY_TIMEOUT_S:.0f} s ({log_path}): "
                        f"{_tail(log_path)}"
                    )
                time.sleep(0.05)
            yield
        finally:
            _stop(process)


def _tail(path: Path, lines: int = 8) -> str:
    text = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(text[-lines:]) or "(no output)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
