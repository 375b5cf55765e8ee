"""An erasure in the request's view: recorded, and nothing else of the view changes."""

from __future__ import annotations

from datetime import UTC, datetime

from services.tracking.domain.view import fold, from_document, to_document
from shared.events.catalogue import PersonalDataErased, RequestReceived
from shared.events.vocabulary import ErasureGround
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

RECEIVED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ERASED_AT = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)


def test_an_erasure_is_folded_into_the_view_and_keeps_the_rest() -> None:
    received = RequestReceived(
        request_id="r-1",
        domestic_reference="MPP-2026-000001",
        received_at=RECEIVED_AT,
        details=RequestDetails.model_validate(EXAMPLE_REQUEST),
    )
    erased = PersonalDataErased(
        request_id="r-1",
        erased_at=ERASED_AT,
        erased_by="admin",
        legal_ground=ErasureGround.RETENTION_ENDED,
    )
    before = fold([(received, RECEIVED_AT)])
    after = fold([(received, RECEIVED_AT), (erased, ERASED_AT)])

    assert before is not None and after is not None
    assert after.personal_data_erased_at == ERASED_AT
    assert (after.details, after.status, after.domestic_reference) == (
        before.details,
        before.status,
        before.domestic_reference,
    )
    assert from_document(to_document(after)) == after
