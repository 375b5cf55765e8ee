"""The e-mail a subscription gets for an event, in Serbian (Latin script) or English.

Only what identifies the request and says where it stands goes in: the domestic reference,
the requesting authority's reference and name, the status, the names of offices, enumerated
results and outcomes, deadline dates, and a link to tracking. Never the persons concerned,
the facts of the case, or any free text of an event (reasons, grounds, summaries), which may
name persons: whoever needs those follows the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.notify.domain.request_facts import RequestFacts
from services.notify.domain.subscription import Language
from shared.events.catalogue import (
    AssignmentDeclined,
    DeadlineAlert,
    DeadlineBreached,
    Payload,
    PersonalDataErased,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
)


@dataclass(frozen=True)
class Email:
    subject: str
    text: str


SR, EN = Language.SERBIAN_LATIN, Language.ENGLISH

SUBJECTS: dict[Language, dict[type[Payload], str]] = {
    SR: {
        RequestReceived: "Zahtev primljen",
        RequestRouted: "Zahtev dodeljen na izvršenje",
        RoutingFailed: "Zahtev nije raspoređen",
        AssignmentDeclined: "Tužilaštvo se oglasilo nenadležnim",
        RequestExecuted: "Izveštaj o izvršenju",
        RequestWithdrawn: "Zahtev povučen",
        RequestClosed: "Zahtev zatvoren",
        DeadlineAlert: "Rok uskoro ističe",
        DeadlineBreached: "Rok je istekao",
        PersonalDataErased: "Lični podaci obrisani",
    },
    EN: {
        RequestReceived: "Request received",
        RequestRouted: "Request assigned for execution",
        RoutingFailed: "Request could not be routed",
        AssignmentDeclined: "Office declared itself not competent",
        RequestExecuted: "Execution report",
        RequestWithdrawn: "Request withdrawn",
        RequestClosed: "Request closed",
        DeadlineAlert: "Deadline approaching",
        DeadlineBreached: "Deadline passed",
        PersonalDataErased: "Personal data erased",
    },
}

SENTENCES: dict[Language, dict[type[Payload], str]] = {
    SR: {
        RequestReceived: "Zahtev za međunarodnu pravnu pomoć je primljen i zaveden pod brojem "
        "{reference}.",
        RequestRouted: "Zahtev je dodeljen na izvršenje: {offices}.",
        RoutingFailed: "Nijedno pravilo nije odredilo nadležno javno tužilaštvo; zahtev čeka "
        "odluku operatera.",
        AssignmentDeclined: "{office} se oglasilo nenadležnim; zahtev se prosleđuje nadležnom "
        "tužilaštvu.",
        RequestExecuted: "{office} je izvestilo o izvršenju: {result}. Izveštaja koji se još "
        "čekaju: {outstanding}.",
        RequestWithdrawn: "Organ molilac je povukao zahtev.",
        RequestClosed: "Zahtev je zatvoren. Ishod: {outcome}.",
        DeadlineAlert: "Rok ističe {due}: {kind} ({basis}).",
        DeadlineBreached: "Rok je istekao {due}: {kind} ({basis}).",
        PersonalDataErased: "Lični podaci iz zahteva {reference} su obrisani; ostatak zapisa "
        "je sačuvan.",
    },
    EN: {
        RequestReceived: "The request for mutual legal assistance was received and registered "
        "under {reference}.",
        RequestRouted: "The request was assigned for execution to: {offices}.",
        RoutingFailed: "No rule found the competent prosecution office; the request waits for "
        "an operator.",
        AssignmentDeclined: "{office} declared itself not competent; the request is forwarded "
        "to the competent office.",
        RequestExecuted: "{office} reported execution: {result}. Reports still awaited: "
        "{outstanding}.",
        RequestWithdrawn: "The requesting authority withdrew the request.",
        RequestClosed: "The request was closed. Outcome: {outcome}.",
        DeadlineAlert: "A deadline falls due on {due}: {kind} ({basis}).",
        DeadlineBreached: "A deadline passed on {due}: {kind} ({basis}).",
        PersonalDataErased: "The personal data of request {reference} was erased; the rest "
        "of its record is kept.",
    },
}

LABELS: dict[Language, dict[str, str]] = {
    SR: {
        "reference": "Broj predmeta",
        "authority": "Broj organa molioca",
        "status": "Status",
        "link": "Detalji",
        "footer": "Ova poruka je poslata automatski iz sistema za praćenje zahteva za "
        "međunarodnu pravnu pomoć i ne sadrži lične podatke.",
    },
    EN: {
        "reference": "Domestic reference",
        "authority": "Requesting authority's reference",
        "status": "Status",
        "link": "Details",
        "footer": "This message was sent automatically by the mutual legal assistance "
        "tracking system and contains no personal data.",
    },
}

# Statuses, execution results and outcomes in words.
WORDS: dict[Language, dict[str, str]] = {
    SR: {
        "unknown": "nepoznat",
        "received": "primljen",
        "routed": "dodeljen na izvršenje",
        "routing_failed": "čeka raspoređivanje",
        "rerouting": "ponovo se raspoređuje",
        "executing": "u izvršenju",
        "executed": "izvršen",
        "partially_executed": "delimično izvršeno",
        "not_executed": "nije izvršeno",
        "withdrawn": "povučen",
        "closed": "zatvoren",
        "completed": "izvršen u celosti",
        "partially_completed": "delimično izvršen",
        "refused": "odbijen",
    },
    EN: {
        "unknown": "unknown",
        "received": "received",
        "routed": "assigned for execution",
        "routing_failed": "waiting for routing",
        "rerouting": "being routed again",
        "executing": "being executed",
        "executed": "executed",
        "partially_executed": "partially executed",
        "not_executed": "not executed",
        "withdrawn": "withdrawn",
        "closed": "closed",
        "completed": "completed",
        "partially_completed": "partially completed",
        "refused": "refused",
    },
}


def render(language: Language, payload: Payload, facts: RequestFacts, link: str) -> Email:
    """The e-mail for one event (after `facts` took it in), with `link` to the request."""
    kind = _template_key(payload)
    reference = facts.domestic_reference or payload.request_id
    sentence = SENTENCES[language][kind].format(**_fields(language, payload, facts))
    labels = LABELS[language]
    lines = [sentence, "", f"{labels['reference']}: {reference}"]
    if facts.authority_reference:
        lines.append(f"{labels['authority']}: {facts.authority_reference} ({facts.authority_name})")
    lines += [
        f"{labels['status']}: {_word(language, facts.status)}",
        f"{labels['link']}: {link}",
        "",
        "--",
        labels["footer"],
        "",
    ]
    return Email(subject=f"[{reference}] {SUBJECTS[language][kind]}", text="\n".join(lines))


def _template_key(payload: Payload) -> type[Payload]:
    if isinstance(payload, DeadlineBreached):
        return DeadlineBreached
    if isinstance(payload, DeadlineAlert):
        return DeadlineAlert
    return type(payload)


def _fields(language: Language, payload: Payload, facts: RequestFacts) -> dict[str, object]:
    fields: dict[str, object] = {"reference": facts.domestic_reference or payload.request_id}
    match payload:
        case RequestRouted():
            names = dict.fromkeys(a.office_name for a in payload.assignments)
            fields["offices"] = ", ".join(names)
        case AssignmentDeclined():
            fields["office"] = facts.office_name(payload.office_id)
        case RequestExecuted():
            fields["office"] = facts.office_name(payload.office_id)
            fields["result"] = _word(language, payload.result)
            fields["outstanding"] = payload.outstanding
        case RequestClosed():
            fields["outcome"] = _word(language, payload.outcome)
        case DeadlineAlert():
            fields["due"] = _date(language, payload.due)
            fields["kind"] = payload.kind.replace("_", " ")
            fields["basis"] = payload.basis
    return fields


def _word(language: Language, value: str) -> str:
    return WORDS[language].get(str(value), str(value).replace("_", " "))


def _date(language: Language, day: date) -> str:
    return day.strftime("%d.%m.%Y.") if language is SR else day.isoformat()
