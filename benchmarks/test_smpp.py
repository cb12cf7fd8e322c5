"""SMPP benchmark: submit_sm per second through one bind with a window of 10.

The processor's :class:`~reference.clients.smpp_sms.SmppSmsClient` (one transceiver bind, window
10, no throughput cap) sends ``SUBMITS`` code SMS (GSM-7, registered_delivery, distinct numbers)
to the fake SMSC (``benchmarks.support.smpp smsc``: the SMS fake's backend with its real-time
driver; every submit_sm becomes a carrier-model message, whose receipt comes back on the same
bind about 4 s later, as in service) in a child process on core 0 (a fresh one per round), from a
spawned process on core 1, ``window`` sends in flight. Ceiling, in the same round: the same
client loop shape over a bare TCP echo (one connection, at most 10 frames of the same size as
the submit_sm outstanding, each "answered" by its echo), so the ratio is what SMPP framing, the
smpplib codec, the session and the SMSC model cost against the sockets alone.

Short mode (``TWITTCOM_BENCH_SHORT=1``): one round of 500. Full run:
``.venv/bin/python -m pytest benchmarks/test_smpp.py --benchmark-only -s``
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import struct
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack

from benchmarks.support.smpp import serve_smpp

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
SUBMITS = 500 if SHORT else 10_000
WARMUP = 50 if SHORT else 500
ROUNDS = 1 if SHORT else 5
WINDOW = 10
SERVER_CPU, LOAD_CPU = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)


def _pin() -> None:
    if LOAD_CPU is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {LOAD_CPU})


async def _smpp_rate(port: int, submits: int, warmup: int) -> float:
    from reference.clients.smpp_sms import SmppSmsClient

    client = SmppSmsClient(f"smpp://twittcom:secret@127.0.0.1:{port}", source="54321", window=WINDOW)
    await client.start()
    if client.bound != 1:
        raise RuntimeError("the benchmark client did not bind")

    async def send_range(start: int, stop: int) -> None:
        next_index = iter(range(start, stop))

        async def sender() -> None:
            for i in next_index:
                await client.send_sms(f"+9198{i:08d}", f"Your Twittcom code is {i % 1_000_000:06d}")

        await asyncio.gather(*(sender() for _ in range(WINDOW)))

    try:
        await send_range(0, warmup)
        t0 = time.perf_counter()
        await send_range(warmup, warmup + submits)
        return submits / (time.perf_counter() - t0)
    finally:
        await client.aclose()


async def _echo_rate(port: int, frames: int, warmup: int) -> float:
    from reference.clients.smpp_session import encode_pdu

    frame = encode_pdu("submit_sm", 1, source_addr="54321", destination_addr="919800000000",
                       registered_delivery=1, short_message=b"Your Twittcom code is 123456")  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    window = asyncio.Semaphore(WINDOW)

    async def read(count: int) -> None:
        for _ in range(count):
            header = await reader.readexactly(4)
            (length,) = struct.unpack(">L", header)
            await reader.readexactly(length - 4)
            window.release()

    async def run(count: int) -> None:
        reading = asyncio.create_task(read(count))
        for _ in range(count):
            await window.acquire()
            writer.write(frame)
        await reading

    await run(warmup)
    t0 = time.perf_counter()
    await run(frames)
    elapsed = time.perf_counter() - t0
    writer.close()
    return frames / elapsed


def _measure(kind: str, port: int, count: int, warmup: int) -> float:
    """In the spawned client process: submit_sm/s (smsc) or echoed frames/s (echo)."""
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    coroutine = _smpp_rate(port, count, warmup) if kind == "smsc" else _echo_rate(port, count, warmup)
    rate: float = runner(coroutine)
    return rate


def test_submit_sm_per_second_one_bind_window_10(benchmark, capsys):
    rates, ceilings = [], []
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(1, mp_context=context, initializer=_pin) as pool,
        serve_smpp("echo", cpu=SERVER_CPU) as echo_port,
        ExitStack() as smscs,
    ):
        ports: list[int] = []

        def setup():
            # a fresh SMSC per round: the receipts of an earlier round's messages would otherwise
            # arrive on this round's bind all at once
            smscs.close()
            ports.append(smscs.enter_context(serve_smpp("smsc", cpu=SERVER_CPU)))
            ceilings.append(pool.submit(_measure, "echo", echo_port, SUBMITS, WARMUP).result())

        def measure():
            rates.append(pool.submit(_measure, "smsc", ports[-1], SUBMITS, WARMUP).result())

        benchmark.pedantic(measure, setup=setup, rounds=ROUNDS, iterations=1)
    rate, ceiling = statistics.median(rates), statistics.median(ceilings)
    ratio = rate / ceiling
    benchmark.extra_info.update(
        submit_sm_per_s=rate, ceiling_frames_per_s=ceiling, ratio=ratio, window=WINDOW, binds=1,
        rounds=[{"submit_sm_per_s": r, "ceiling": c} for r, c in zip(rates, ceilings, strict=True)],
    )  # fmt: skip
    with capsys.disabled():
        print(
            f"\nSMPP submit_sm through 1 bind, window {WINDOW} (median of {ROUNDS} x {SUBMITS}): "
            f"{rate:,.0f}/s vs bare TCP echo {ceiling:,.0f} frames/s -> ratio {ratio:.3f}; "
            f"rounds {[round(r) for r in rates]} vs {[round(c) for c in ceilings]}"
        )
    assert rate > 0 and ceiling > 0
