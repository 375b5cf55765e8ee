"""intake's use cases: each opens a unit of work, asks the domain, stores what it decided."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.adapters.reception import Arrival, Reception
from services.intake.adapters.repository import RequestRepository
from services.intake.domain.errors import (
    ExecutionOutstandingError,
    IntakeError,
    RequestNotFoundError,
    RequestTooLargeError,
)
from services.intake.domain.request import AssistanceRequest, observable
from shared.auth import Grant
from shared.db import UnitOfWork
from shared.events.catalogue import Payload, new_event
from shared.events.envelope import CloudEvent
from shared.events.vocabulary import ErasureGround, Outcome
from shared.eventstore import StreamAppend, decided_afresh
from shared.kafka import MAX_EVENT_BYTES
from shared.personal_data import KeyVault, seal_details
from shared.personal_data.key_reservoir import KeyReservoir
from shared.personal_data.sealing import DataKey
from shared.request.model import RequestDetails

log = structlog.get_logger("intake")
SOURCE = "/mla/intake"


class IdempotencyConflictError(IntakeError):
    """The Idempotency-Key was used before with a different body."""


def fingerprint(document: dict[str, Any]) -> str:
    """SHA-256 of the request's canonical JSON: the same content gives the same print."""
    canonical = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def submit_request(
    reception: Reception,
    uow: UnitOfWork,
    document: dict[str, Any],
    *,
    idempotency_key: str | None,
    reference_prefix: str,
    correlation_id: str | None,
    keys: KeyReservoir,
    authority: str | None = None,
) -> tuple[AssistanceRequest, bool]:
    """Receive a request from `authority` (None: the department), its details given as the
    JSON document of a validated `RequestDetails`; returns it and whether it is new (False:
    an idempotent replay, read in `uow`). Its personal data is sealed under a key of its own
    before it is stored anywhere; the key's id is the request's id."""
    print_ = fingerprint(document)
    if idempotency_key:
        idempotency_key = scoped_key(authority, idempotency_key)
    # Made ahead and stored in the vault already. After a failure below it is not given
    # back (whether the request was stored may be unknown): unused, it seals nothing. A
    # request refused as too large gives it back: nothing of it was stored.
    key = await keys.take()
    now = datetime.now(UTC)
    sealed = _sealed_to_publish(document, key, keys)

    def numbered(number: int) -> tuple[AssistanceRequest, list[CloudEvent]]:
        reference = f"{reference_prefix}-{now.year}-{number:06d}"
        request = AssistanceRequest.receive(key.key_id, reference, sealed, now, authority)
        return request, _envelopes(request, correlation_id, None)

    request = await reception.register(Arrival(idempotency_key, print_, numbered))
    if request is not None:
        log.info(
            "request.received", request_id=request.id, domestic_reference=request.domestic_reference
        )
        return request, True
    # The Idempotency-Key was used before (or, in a race, claimed meanwhile): nothing was
    # stored under this key.
    assert idempotency_key is not None
    keys.give_back(key)
    async with uow:
        return await _replay(RequestRepository(uow.session), idempotency_key, print_), False


# What a `received` event holds besides the request's details (its ids, times and the
# CloudEvent's attributes) takes far less than this.
_ENVELOPE_ROOM = 16 * 1024


def _sealed_to_publish(
    document: dict[str, Any], key: DataKey, keys: KeyReservoir
) -> RequestDetails:
    """The request's details sealed under `key`, refused before anything is numbered or
    stored when its event would be larger than the topic carries: stored, it could never be
    published, and every event intake publishes after it would wait behind it."""
    sealed = seal_details(document, key)
    size, limit = len(orjson.dumps(sealed)), MAX_EVENT_BYTES - _ENVELOPE_ROOM
    if size > limit:
        keys.give_back(key)  # it sealed nothing that is kept
        parts = sorted(
            ((name, len(orjson.dumps(value))) for name, value in sealed.items()),
            key=lambda part: part[1],
            reverse=True,
        )
        raise RequestTooLargeError(size, limit, parts[:3])
    return RequestDetails.model_validate(sealed)


def scoped_key(authority: str | None, key: str) -> str:
    """An Idempotency-Key in the namespace of its submitter, so that two authorities that
    pick the same key neither collide nor see each other's request. The department's keys
    are kept as given; an authority's are hashed to fit the column with its prefix."""
    if authority is None:
        return key
    return f"{authority}:{hashlib.sha256(key.encode()).hexdigest()}"


async def _replay(repo: RequestRepository, key: str, print_: str) -> AssistanceRequest:
    record = await repo.idempotency_record(key)
    assert record is not None, "a claimed key has a record"
    earlier_print, request_id = record
    if earlier_print != print_:
        raise IdempotencyConflictError(
            "this Idempotency-Key was already used for a different request body "
            f"(request {request_id}); use a new key for a new request"
        )
    return await repo.get(request_id)


async def withdraw_request(
    uow: UnitOfWork,
    request_id: str,
    reason: str | None,
    correlation_id: str | None,
    grant: Grant | None = None,
) -> AssistanceRequest:
    """The requester withdraws its request (any time before closure)."""
    return await _command(uow, request_id, correlation_id, lambda r: r.withdraw(reason), grant)


async def close_request(
    uow: UnitOfWork,
    request_id: str,
    outcome: Outcome,
    grounds: str | None,
    answer_summary: str | None,
    correlation_id: str | None,
    grant: Grant | None = None,
    caught_up: Callable[[], Awaitable[bool]] | None = None,
) -> AssistanceRequest:
    """Close the request with its outcome and the summary of the answer that goes back.

    Refused for want of an execution report, the closure is decided once more after
    `caught_up` (intake's consumer has handled what the topic held when it came): a report
    the department has seen in tracking is on the topic, and may only not have reached
    intake yet. Without it, or when the consumer could not get there, the refusal stands."""

    def close(request: AssistanceRequest) -> None:
        request.close(outcome, grounds, answer_summary)

    try:
        return await _command(uow, request_id, correlation_id, close, grant)
    except ExecutionOutstandingError:
        if caught_up is None or not await caught_up():
            raise
    return await _command(uow, request_id, correlation_id, close, grant)


async def erase_personal_data(
    uow: UnitOfWork,
    vault: KeyVault,
    request_id: str,
    *,
    erased_by: str,
    legal_ground: ErasureGround,
    case_reference: str | None,
    correlation_id: str | None,
) -> AssistanceRequest:
    """Destroy the request's data key, which makes its personal data unreadable in every
    copy (events, topic, archive, read models), and record it as
    `mla.request.personal_data_erased`. The rest of the record stays readable."""
    async with uow:
        repo = RequestRepository(uow.session)
        request = await repo.get(request_id)
        version = request.version
        now = datetime.now(UTC)
        request.erase_personal_data(erased_by, legal_ground, case_reference, now)
        # The key goes first: the event never claims an erasure that did not happen. Should
        # the recording fail after it, asking again records it (the key is gone already).
        await vault.destroy(request_id, now)
        await repo.forget_fingerprint(request_id)
        await repo.save(
            request, _envelopes(request, correlation_id, None), expected_version=version
        )
        await uow.commit()
    log.info("request.personal_data_erased", request_id=request_id, legal_ground=legal_ground)
    return request


async def get_request(
    uow: UnitOfWork, request_id: str, grant: Grant | None = None
) -> AssistanceRequest:
    """The request, when the caller's `grant` reaches it (else as if there were none)."""
    async with uow:
        return _reachable(await RequestRepository(uow.session).get(request_id), grant)


async def observe_routing(
    session: AsyncSession, events: Sequence[tuple[CloudEvent, Payload]]
) -> None:
    """Consumer handler: keep routing's facts in their requests' streams (closure needs
    them). A batch's requests are loaded in one statement and its facts appended in
    another, so a consumer that fell behind under a burst catches up in as many round
    trips as it takes batches, not facts."""
    facts = [(event, payload) for event, payload in events if observable(type(payload))]
    if not facts:
        return  # without loading anything: nothing of these kinds changes a request
    repo = RequestRepository(session)
    requests = await repo.get_many(payload.request_id for _, payload in facts)
    # Each request's version as loaded, and the facts the batch appends after it, in order.
    changes: dict[str, tuple[int, list[CloudEvent]]] = {}
    for event, payload in facts:
        request = requests.get(payload.request_id)
        if request is None:
            with structlog.contextvars.bound_contextvars(
                event_id=event.id,
                causation_id=event.causationid,
                correlation_id=event.correlationid,
            ):
                log.warning("request.unknown", request_id=payload.request_id, type=event.type)
            continue
        appended = changes.setdefault(request.id, (request.version, []))[1]
        if request.observe(payload):
            appended.append(event)
    await repo.save_all(
        [
            StreamAppend(request_id, version, appended)
            for request_id, (version, appended) in changes.items()
            if appended
        ]
    )


async def _command(
    uow: UnitOfWork,
    request_id: str,
    correlation_id: str | None,
    decide: Callable[[AssistanceRequest], None],
    grant: Grant | None,
) -> AssistanceRequest:
    async def attempt() -> AssistanceRequest:
        async with uow:
            repo = RequestRepository(uow.session)
            request = _reachable(await repo.get(request_id), grant)
            version = request.version
            decide(request)
            await repo.save(
                request, _envelopes(request, correlation_id, None), expected_version=version
            )
            await uow.commit()
        return request

    request = await decided_afresh(attempt)
    log.info("request.changed", request_id=request_id, status=request.status)
    return request


def _reachable(request: AssistanceRequest, grant: Grant | None) -> AssistanceRequest:
    # Another authority's request is answered exactly as a missing one: no existence leak.
    if grant is not None and not grant.covers(authority=request.authority):
        raise RequestNotFoundError(request.id)
    return request


def _envelopes(
    request: AssistanceRequest, correlation_id: str | None, causation_id: str | None
) -> list[CloudEvent]:
    envelopes = [
        new_event(p, source=SOURCE, correlation_id=correlation_id, causation_id=causation_id)
        for p in request.pending
    ]
    request.pending.clear()
    return envelopes
