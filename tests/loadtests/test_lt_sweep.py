"""The sweep's driver, step figures and knee: a small in-process sweep against the bare sink."""

from __future__ import annotations

import asyncio
import json
import math
import threading

import pytest

from loadtests.sweep_driver import DriverJob, DriverResult, drive, poisson_offsets, signed_delivery
from loadtests.sweep_sink import serve_forever
from loadtests.sweep_steps import StepFigures, interpolated, knee, knee_rate, quantile_interval, step_figures
from reference.clients import verify_x_signature


def _step(rate: float, p99: float, accepted_share: float = 1.0) -> StepFigures:
    offered = round(rate * 10)
    return StepFigures(
        rate,
        10.0,
        offered,
        round(offered * accepted_share),
        offered,
        offered,
        p99 / 3,
        p99 / 2,
        p99,
        (p99 / 2, p99 / 2),
        (p99, p99),
    )


def test_knee_is_the_last_step_that_keeps_up_before_the_first_that_does_not() -> None:
    """A step that keeps up above a failing one does not move the knee (noise is not capacity)."""
    steps = [_step(100, 0.01), _step(200, 0.05), _step(300, 0.5), _step(400, 0.1)]
    assert knee(steps, 0.25) is steps[1]
    rate = knee_rate(steps, 0.25)
    assert rate is not None and 200 < rate < 300
    # log-linear crossing: log(0.25) is at share log(5)/log(10) between 0.05 and 0.5
    assert rate == pytest.approx(200 + 100 * math.log(5) / math.log(10))


def test_knee_needs_accepted_at_least_99_percent_and_events() -> None:
    """Refused deliveries fail a step however fast the rest were; an empty step never passes."""
    assert knee([_step(100, 0.01, accepted_share=0.98)], 0.25) is None
    assert knee_rate([_step(100, 0.01), _step(200, 0.01, accepted_share=0.9)], 0.25) == 100
    empty = StepFigures(100, 10, 0, 0, 0, 0, math.nan, math.nan, math.nan, (math.nan,) * 2, (math.nan,) * 2)
    assert not empty.keeps_up(0.25)


def test_quantile_interval_brackets_the_quantile() -> None:
    values = [i / 1000 for i in range(1000)]
    lo, hi = quantile_interval(values, 0.99)
    assert lo < 0.99 <= hi and hi - lo < 0.02
    assert all(math.isnan(v) for v in quantile_interval([], 0.5))


def test_deliveries_are_signed_as_x_signs_them() -> None:
    job = DriverJob(
        "http://127.0.0.1:1", 1, 1, "s3cret", "900", "@op #act #TD49DEL {n}", 7, 5_000, reg_share=0.5
    )
    raw = signed_delivery(job, 9, "127.0.0.1:1")
    head, body = raw.split(b"\r\n\r\n", 1)
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
    assert verify_x_signature(body, headers["x-twitter-webhooks-signature"], "s3cret")
    assert int(headers["content-length"]) == len(body)
    tweet = json.loads(body)["tweet_create_events"][0]
    assert tweet["id_str"] == "5009" and tweet["user"]["id_str"] == str(10_000 + 9 % 7)
    assert tweet["text"] == "@op #act #TD49DEL 2"
    reg = json.loads(signed_delivery(job, 3, "h", reg=True).split(b"\r\n\r\n", 1)[1])["tweet_create_events"][
        0
    ]
    assert reg["text"].startswith("@tatadocomo #reg +9197")


def test_poisson_offsets_have_the_rate() -> None:
    offsets = poisson_offsets(500, 20, seed=3)
    assert offsets == sorted(offsets) and 0 <= offsets[0] and offsets[-1] < 20
    assert len(offsets) == pytest.approx(10_000, rel=0.05)


def _sink(port_box: list[int], stop: threading.Event) -> None:
    async def main() -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port_box.append(probe.getsockname()[1])
        task = asyncio.create_task(serve_forever("127.0.0.1", port_box[0], 60))
        while not stop.is_set():
            await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(main())


def test_a_small_open_loop_sweep_through_the_driver() -> None:
    """Three steps against the bare sink: every delivery answered, latency from the scheduled time,
    offered matching the Poisson rate, and a knee from the figures."""
    port: list[int] = []
    stop = threading.Event()
    thread = threading.Thread(target=_sink, args=(port, stop), daemon=True)
    thread.start()
    try:
        while not port:
            pass
        import time

        time.sleep(0.2)
        steps = []
        for rate in (50.0, 150.0, 300.0):
            job = DriverJob(
                f"http://127.0.0.1:{port[0]}",
                rate,
                1.0,
                "s",
                "900",
                "@op #act",
                5,
                7_000,
                connections=4,
                seed=int(rate),
            )
            result: DriverResult = asyncio.run(drive(job))
            assert result.accepted == result.offered > 0
            assert all(a >= s for a, s in zip(result.answered, result.scheduled, strict=True))
            completions = {i: result.start_epoch + a for i, a in enumerate(result.answered)}
            figures = step_figures(rate, 1.0, result, completions, time.time())
            assert figures.p50 <= figures.p95 <= figures.p99 < 1.0
            assert figures.processed_in_step >= 0.9 * figures.offered
            steps.append(figures)
        assert sum(s.offered for s in steps) == pytest.approx(500, rel=0.25)
        assert knee(steps, 1.0) is steps[-1]
        assert knee(steps, 1e-7) is None
    finally:
        stop.set()
        thread.join(5)


def test_interpolated_p95_is_log_linear_between_steps_and_flat_outside() -> None:
    steps = [_step(100, 0.03), _step(200, 0.3)]  # p95 = p99 / 2: 15 ms and 150 ms
    assert interpolated(steps, 150, "p95") == pytest.approx(math.sqrt(0.015 * 0.15))
    assert interpolated(steps, 50, "p95") == pytest.approx(0.015)
    assert interpolated(steps, 400, "p95") == pytest.approx(0.15)
