"""The assistance request: its model, the places it can name, and the rules of submission.

`RequestDetails` is the payload of `mla.request.received` and checks structure only;
`RequestSubmission` adds what is checked the day a request arrives (known places, no past
requested date). `Gazetteer` resolves a place name to its municipality in `offices.json`.
"""

from shared.request.gazetteer import Gazetteer, load_gazetteer
from shared.request.model import (
    EXAMPLE_REQUEST,
    Authority,
    Contact,
    Measure,
    Offence,
    Person,
    RelatedRequest,
    RequestDetails,
)
from shared.request.submission import (
    RequestSubmission,
    SubmittedMeasure,
    submitted_on,
    to_details,
)

__all__ = [
    "EXAMPLE_REQUEST",
    "Authority",
    "Contact",
    "Gazetteer",
    "Measure",
    "Offence",
    "Person",
    "RelatedRequest",
    "RequestDetails",
    "RequestSubmission",
    "SubmittedMeasure",
    "load_gazetteer",
    "submitted_on",
    "to_details",
]
