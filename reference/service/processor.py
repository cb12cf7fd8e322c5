"""The message bus: inbound tweets/DMs -> parsed commands -> handlers, in group-committed batches.

``process_batch(messages)`` runs many messages in ONE transaction (group commit): the batch claims
its message keys in the inbox (idempotency), loads the rows it needs once, runs each handler
against the batch's staged state (each message validates before it stages anything, so one bad
message never half-applies), writes all changes in bulk and commits. Results are returned (and
events fired) only after the commit, so nothing is acknowledged before it is durable.

If the batch fails (a conflict with another worker, a database error, a bug in a handler), it is
rolled back and its messages are run again one per transaction; retryable conflicts are retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from reference.domain.commands import Buy, Command, Inbound, MessageKey, Noise, Register, Verify
from reference.domain.errors import InvalidPhoneNumber, TransientConflict
from reference.domain.outcomes import Effect, Outcome
from reference.domain.parser import CommandParser
from reference.domain.phone import normalise_mobile
from reference.service.events import Events
from reference.service.handlers import HandlerDeps, buy_pack, record_noise, register, verify_code
from reference.service.ports import Clock, UnitOfWork
from reference.service.staging import Staging

__all__ = ["Processed", "Processor"]

_log = logging.getLogger(__name__)
_MICROSECOND = timedelta(microseconds=1)
Handler = Callable[[object, Inbound, Staging, datetime, HandlerDeps], Outcome]
_HANDLERS: dict[type, Handler] = {
    Register: register,  # type: ignore[dict-item]
    Verify: verify_code,  # type: ignore[dict-item]
    Buy: buy_pack,  # type: ignore[dict-item]
    Noise: record_noise,  # type: ignore[dict-item]
}


class Processed(NamedTuple):
    """The committed result of one inbound message (a named tuple: one is built per message)."""

    message: Inbound
    outcome: Outcome
    effects: tuple[Effect, ...] = ()


class Processor:
    """Runs inbound messages through the handlers on one unit of work (one worker, one connection)."""

    def __init__(
        self,
        uow: UnitOfWork,
        deps: HandlerDeps,
        *,
        clock: Clock,
        parser: CommandParser | None = None,
        events: Events | None = None,
        max_retries: int = 8,
    ) -> None:
        self.uow = uow
        self.deps = deps
        self.clock = clock
        self.parser = parser if parser is not None else CommandParser()
        self.events = events if events is not None else Events()
        self.max_retries = max_retries

    def process(self, message: Inbound) -> Processed:
        """Process one message in its own transaction."""
        return self.process_batch([message])[0]

    def process_batch(self, messages: Sequence[Inbound]) -> list[Processed]:
        """Process ``messages`` in one group commit; results in input order."""
        if not messages:
            return []
        started = time.perf_counter()
        try:
            results = self._run(messages)
        except Exception as exc:
            if len(messages) == 1:
                results = [self._retry_single(messages[0], exc)]
            else:
                _log.info("batch of %d failed (%r); processing one by one", len(messages), exc)
                results = [self._single(message) for message in messages]
        else:
            self._fire(results, time.perf_counter() - started)
        return results

    # internals -----------------------------------------------------------------------------
    def _single(self, message: Inbound) -> Processed:
        try:
            results = self._run([message])
        except Exception as exc:
            return self._retry_single(message, exc)
        self._fire(results, 0.0)
        return results[0]

    def _retry_single(self, message: Inbound, first: Exception) -> Processed:
        error: Exception = first
        for attempt in range(self.max_retries):
            if not isinstance(error, TransientConflict):
                break
            time.sleep(min(0.001 * 2**attempt, 0.05))
            try:
                results = self._run([message])
            except Exception as exc:
                error = exc
                continue
            self._fire(results, 0.0)
            return results[0]
        _log.error("message %s failed: %r", message.key, error)
        return Processed(message, Outcome.FAILED)

    def _fire(self, results: list[Processed], seconds: float) -> None:
        events = self.events
        if events.message_processed:
            for result in results:
                events.message_processed.fire(message=result.message, outcome=result.outcome)
        if events.batch_committed:
            events.batch_committed.fire(size=len(results), seconds=seconds)

    def _run(self, messages: Sequence[Inbound]) -> list[Processed]:
        parse = self.parser.parse
        commands: list[Command] = [parse(m.channel, m.text) for m in messages]
        unique: list[Inbound] = []
        seen: set[MessageKey] = set()
        for message in messages:
            key = (message.channel, message.message_id)
            if key not in seen:
                seen.add(key)
                unique.append(message)
        now = self.clock.now()
        uow = self.uow
        uow.begin()
        try:
            claimed = uow.claim(unique, now)
            user_ids: set[str] = set()
            msisdns: set[str] = set()
            registers = verifies = False
            for message, command in zip(messages, commands, strict=True):
                if (message.channel, message.message_id) not in claimed:
                    continue
                user_ids.add(message.author_id)
                if type(command) is Register:
                    registers = True
                    try:
                        msisdns.add(normalise_mobile(command.mobile))
                    except InvalidPhoneNumber:
                        pass
                elif type(command) is Verify:
                    verifies = True
            policy = self.deps.policy
            snapshot = uow.load(
                user_ids,
                msisdns,
                with_codes=registers or verifies,
                sends_since=now - policy.send_window if registers else None,
            )
            staging = Staging(snapshot)
            effects = staging.effects
            deps = self.deps
            results: list[Processed] = []
            # Each message of the group gets its own instant (1 us apart) so the customer timeline
            # orders the group's rows by message.
            tick = _MICROSECOND
            at = now
            for message, command in zip(messages, commands, strict=True):
                key = (message.channel, message.message_id)
                if key not in claimed:
                    results.append(Processed(message, Outcome.DUPLICATE))
                    continue
                claimed.discard(key)  # a second copy later in this batch is a duplicate
                mark = len(effects)
                outcome = _HANDLERS[type(command)](command, message, staging, at, deps)
                at += tick
                results.append(Processed(message, outcome, tuple(effects[mark:])))
            uow.apply(staging.changes)
            uow.commit()
        except BaseException:
            uow.rollback()
            raise
        events = self.events
        if events.purchase_completed:
            for activation in staging.changes.activations:
                events.purchase_completed.fire(activation=activation)
        if events.code_sent:
            for msisdn, _ in staging.changes.sends:
                events.code_sent.fire(msisdn=msisdn)
        return results
