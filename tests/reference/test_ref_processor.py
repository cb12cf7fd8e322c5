"""The processor: group commit semantics, idempotency, failure isolation, retries and event hooks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from refworld import ALICE, ALICE_NO, BOB, BOB_NO, CAROL, CAROL_NO, FakeClock, World, code_in, make_world

from reference.bootstrap import Settings, open_store
from reference.domain.catalog import Catalog
from reference.domain.errors import TransientConflict
from reference.domain.outcomes import Outcome
from reference.service import processor as processor_module
from reference.service.events import EventHook, Events
from reference.storage.memory import MemoryStore


def _script(world: World) -> list[Any]:
    """Messages of a small day: registrations, codes, purchases, noise, a duplicate."""
    _, alice_code = world.register(ALICE, ALICE_NO)
    _, bob_code = world.register(BOB, BOB_NO)
    return [
        world.message(ALICE, f"@tatadocomo {alice_code}"),
        world.message(BOB, f"@tatadocomo #code {bob_code}"),
        world.message(ALICE, "@tatadocomo #act #TD49DEL", message_id="801"),
        world.message(ALICE, "@tatadocomo #act #TD49DEL", message_id="801"),
        world.message(ALICE, "@tatadocomo #act #TD49DEL"),
        world.message(ALICE, "@tatadocomo #act #TD11DEL"),
        world.message(BOB, "@tatadocomo #act #TD11MUM"),
        world.message(CAROL, "@tatadocomo why is my bill so high"),
        world.message(CAROL, f"reg {CAROL_NO}", channel="dm"),
    ]


@pytest.mark.parametrize("engine", ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_group_commit_matches_one_by_one(
    engine: str, tmp_path: Path, catalog: Catalog, settings: Settings, request: pytest.FixtureRequest
) -> None:
    """A batch in one transaction gives the same outcomes, balances and timeline as one at a time."""

    def fresh(name: str) -> Any:
        if engine == "memory":
            return MemoryStore()
        if engine == "sqlite":
            return open_store(str(tmp_path / name))
        return open_store(request.getfixturevalue("pg_schema_factory")())

    batch_world = make_world(fresh("batch.db"), FakeClock(), catalog, settings)
    single_world = make_world(fresh("single.db"), FakeClock(), catalog, settings)
    batched = [r.outcome for r in batch_world.processor.process_batch(_script(batch_world))]
    single = [single_world.processor.process(m).outcome for m in _script(single_world)]
    assert batched == single
    assert batched[:4] == [Outcome.REGISTERED, Outcome.REGISTERED, Outcome.ACTIVATED, Outcome.DUPLICATE]
    assert batched[4:] == [
        Outcome.ACTIVATED,
        Outcome.INSUFFICIENT_BALANCE,
        Outcome.INSUFFICIENT_BALANCE,
        Outcome.NOISE,
        Outcome.CODE_SENT,
    ]
    for world in (batch_world, single_world):
        assert world.store.subscriber(ALICE_NO).balance_paise == 200  # type: ignore[attr-defined]
    kinds = [
        [(e["kind"], e["text"]) for e in w.store.timeline(user_id=ALICE.user_id)]
        for w in (batch_world, single_world)
    ]  # type: ignore[attr-defined]
    assert kinds[0] == kinds[1]


def test_one_bad_message_does_not_poison_the_batch(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that raises fails only its own message, which stays unprocessed for a retry."""
    world.onboard(ALICE, ALICE_NO)
    real = processor_module._HANDLERS[processor_module.Noise]

    def exploding(cmd: Any, message: Any, *args: Any) -> Any:
        if "boom" in message.text:
            raise RuntimeError("handler bug")
        return real(cmd, message, *args)

    monkeypatch.setitem(processor_module._HANDLERS, processor_module.Noise, exploding)
    batch = [
        world.message(ALICE, "@tatadocomo #act #TD22DEL"),
        world.message(ALICE, "@tatadocomo boom"),
        world.message(ALICE, "@tatadocomo #act #TD11DEL"),
    ]
    with caplog.at_level(logging.ERROR):
        outcomes = [r.outcome for r in world.processor.process_batch(batch)]
    assert outcomes == [Outcome.ACTIVATED, Outcome.FAILED, Outcome.ACTIVATED]
    assert "handler bug" in caplog.text
    assert world.store.subscriber(ALICE_NO).balance_paise == 10_000 - 2_200 - 1_100  # type: ignore[attr-defined]
    monkeypatch.setitem(processor_module._HANDLERS, processor_module.Noise, real)
    assert world.processor.process(batch[1]).outcome is Outcome.NOISE


class FlakyStore(MemoryStore):
    """Raises a retryable conflict on the first ``failures`` commits."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def commit(self) -> None:
        if self.failures:
            self.failures -= 1
            raise TransientConflict("database is locked")
        super().commit()


def test_transient_conflicts_are_retried(clock: FakeClock, catalog: Catalog, settings: Settings) -> None:
    """A batch hit by lock conflicts is retried message by message until it commits."""
    store = FlakyStore(failures=0)
    world = make_world(store, clock, catalog, settings)
    world.onboard(ALICE, ALICE_NO)
    store.failures = 3
    batch = [
        world.message(ALICE, "@tatadocomo #act #TD11DEL"),
        world.message(ALICE, "@tatadocomo #act #TD22DEL"),
    ]
    outcomes = [r.outcome for r in world.processor.process_batch(batch)]
    assert outcomes == [Outcome.ACTIVATED, Outcome.ACTIVATED]
    assert store.subscriber(ALICE_NO).balance_paise == 10_000 - 1_100 - 2_200  # type: ignore[union-attr]


def test_events_fire_after_commit(
    tmp_path: Path, clock: FakeClock, catalog: Catalog, settings: Settings
) -> None:
    """purchase_completed listeners already see the activation from another connection."""
    dsn = str(tmp_path / "events.db")
    events = Events()
    world = make_world(open_store(dsn), clock, catalog, settings, events=events)
    world.onboard(ALICE, ALICE_NO)
    observer = open_store(dsn)
    seen: list[tuple[str, int]] = []
    processed: list[Outcome] = []
    sizes: list[int] = []

    @events.purchase_completed.add_listener
    def on_purchase(activation: Any) -> None:
        seen.append((activation.hashtag, observer.totals()["activations"]))

    events.message_processed.add_listener(lambda message, outcome: processed.append(outcome))
    events.batch_committed.add_listener(lambda size, seconds: sizes.append(size))
    codes: list[str] = []
    events.code_sent.add_listener(lambda msisdn: codes.append(msisdn))
    world.processor.process_batch(
        [
            world.message(ALICE, "@tatadocomo #act #TD11DEL"),
            world.message(CAROL, "@tatadocomo #reg " + CAROL_NO),
        ]
    )
    assert seen == [("TD11DEL", 1)]
    assert processed == [Outcome.ACTIVATED, Outcome.CODE_SENT]
    assert sizes == [2] and codes == [CAROL_NO]
    observer.close()


def test_listener_errors_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    """A failing listener does not stop other listeners or the caller."""
    hook = EventHook("demo")
    calls: list[int] = []

    def broken(**_: Any) -> None:
        raise ValueError("observer bug")

    hook.add_listener(broken)
    hook.add_listener(lambda value: calls.append(value))
    with caplog.at_level(logging.ERROR):
        hook.fire(value=3)
    assert calls == [3] and "observer bug" in caplog.text
    hook.remove_listener(broken)
    hook.fire(value=4)
    assert calls == [3, 4]


def test_batch_results_carry_effects_per_message(world: World) -> None:
    """Each result holds exactly the effects its own message produced."""
    results = world.processor.process_batch(
        [
            world.message(ALICE, f"@tatadocomo #reg {ALICE_NO}"),
            world.message(BOB, f"@tatadocomo #reg {BOB_NO}"),
        ]
    )
    assert [len(r.effects) for r in results] == [2, 2]
    assert code_in(results[0]) is not None and code_in(results[1]) is not None
    assert world.processor.process_batch([]) == []
