"""The content of a generated request, as a clerk would have entered it at intake."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from bench import corpus
from shared.personal_data.request_fields import seal_details
from shared.personal_data.sealing import DataKey
from shared.request.model import RequestDetails

CASES = 4000
"""How many distinct routing situations (direction, channel, offences, measures) requests
share: a caseload repeats them, and the routing engine then runs once per situation."""


class DetailsWriter:
    """Writes varied, valid `RequestDetails` (validated by the model itself)."""

    def __init__(self, rnd: random.Random, places: list[str]) -> None:
        self._random = rnd
        self._places = places
        self._countries = corpus.COUNTRIES
        self._country_weights = [c[1] for c in corpus.COUNTRIES]
        self._cases: dict[int, dict[str, Any]] = {}

    def write(self, received: datetime) -> tuple[int, RequestDetails]:
        """A request received at `received`, and the number of its routing situation."""
        rnd = self._random
        code, _, language, pattern, cities = rnd.choices(self._countries, self._country_weights)[0]
        city = rnd.choice(cities)
        case = rnd.randrange(CASES)
        if case not in self._cases:
            self._cases[case] = self._case()
        urgent = rnd.random() < 0.15
        document: dict[str, Any] = {
            **self._cases[case],
            "legal_basis": _pick(rnd, corpus.LEGAL_BASES),
            "requesting_authority": {
                "name": pattern.format(city=city),
                "country": code,
                "reference": f"{rnd.choice(('Kt', 'KTO', 'St', 'Js', 'PPN'))} "
                f"{rnd.randint(1, 9999)}/{received.year - rnd.randint(0, 2)}",
                "contact": {"email": f"mla@{city.lower().replace(' ', '-')}.example"}
                if rnd.random() < 0.6
                else None,
            },
            "summary_of_facts": self._facts(city),
            "persons": [self._person() for _ in range(rnd.choice((0, 1, 1, 2, 2, 3, 5)))],
            "urgency": "urgent" if urgent else "normal",
            "urgency_reasons": rnd.choice(corpus.URGENCY_REASONS) if urgent else None,
            "requested_date": (received + timedelta(days=rnd.randint(30, 240))).date().isoformat()
            if rnd.random() < 0.3
            else None,
            "confidentiality": _pick(rnd, corpus.CONFIDENTIALITY),
            "language": language,
            "translation_status": _pick(rnd, corpus.TRANSLATION),
            "related_requests": [{"reference": f"Kt {rnd.randint(1, 999)}/{received.year - 1}"}]
            if rnd.random() < 0.1
            else [],
        }
        if rnd.random() < 0.5:
            document["requested_authority"] = {
                "name": "Supreme Public Prosecution Office of the Republic of Serbia",
                "country": "RS",
            }
        # As intake stores them: the personal fields sealed under the request's own key.
        plain = RequestDetails.model_validate(document).model_dump(mode="json")
        sealed = seal_details(plain, DataKey.generate(f"bench-{self._random.getrandbits(64):x}"))
        return case, RequestDetails.model_validate(sealed)

    def _case(self) -> dict[str, Any]:
        rnd = self._random
        category = _pick(rnd, corpus.CATEGORIES)
        return {
            "direction": "outgoing" if rnd.random() < 0.04 else "incoming",
            "channel": _pick(rnd, corpus.CHANNELS),
            "offence_category": category,
            "offences": [self._offence(category)]
            + [self._offence(_pick(rnd, corpus.CATEGORIES)) for _ in range(rnd.randint(0, 2))],
            "measures": [self._measure() for _ in range(rnd.choice((1, 1, 1, 2, 2, 3, 4)))],
        }

    def _facts(self, city: str) -> str:
        rnd = self._random
        text: str = rnd.choice(corpus.FACTS).format(
            month=rnd.choice(corpus.MONTHS),
            month2=rnd.choice(corpus.MONTHS),
            year=rnd.randint(2019, 2026),
            day=rnd.randint(1, 28),
            amount=f"{rnd.randint(5, 900) * 1000:,}",
            kg=rnd.randint(2, 400),
            drug=rnd.choice(corpus.DRUGS),
            city=city,
            place=rnd.choice(self._places),
        )
        return text

    def _offence(self, category: str) -> dict[str, Any]:
        rnd = self._random
        article = rnd.randint(100, 360)
        return {
            "qualification": f"Criminal Code art. {article} ({category.replace('_', ' ')})",
            "category": category,
            "max_penalty_years": rnd.choice((None, 3, 5, 8, 10, 12, 15)),
            "criminal_code_article": article if rnd.random() < 0.4 else None,
            "estimated_gain_rsd": rnd.randint(1, 500) * 100_000 if rnd.random() < 0.2 else None,
            "linked_to_organized_crime": rnd.random() < 0.08,
        }

    def _person(self) -> dict[str, Any]:
        rnd = self._random
        return {
            "role": _pick(rnd, corpus.ROLES),
            "name": f"{rnd.choice(corpus.FIRST_NAMES)} {rnd.choice(corpus.SURNAMES)}",
            "date_of_birth": f"{rnd.randint(1950, 2004)}-{rnd.randint(1, 12):02d}-"
            f"{rnd.randint(1, 28):02d}"
            if rnd.random() < 0.6
            else None,
            "nationality": rnd.choice(("RS", "BA", "HR", "ME", None)),
        }

    def _measure(self) -> dict[str, Any]:
        rnd = self._random
        return {
            "type": _pick(rnd, corpus.MEASURES),
            "place": rnd.choice(self._places),
            "details": rnd.choice(corpus.MEASURE_DETAILS),
        }


def _pick(rnd: random.Random, choices: list[tuple[str, int]]) -> str:
    return rnd.choices([c for c, _ in choices], [w for _, w in choices])[0]
