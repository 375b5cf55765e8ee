"""What the routing rules need to know about a request, and nothing more.

The routing service builds a RoutingCase from the request it holds; keeping this input small
and frozen keeps the rules free of the request model, its validation and persistence.
"""

from dataclasses import dataclass

from shared.events.vocabulary import Channel, Direction, MeasureType, OffenceCategory


@dataclass(frozen=True)
class OffenceFacts:
    """One offence of the case, as far as jurisdiction depends on it."""

    category: OffenceCategory
    max_penalty_years: int | None = None  # None: the request does not state it
    criminal_code_article: int | None = None  # Serbian Criminal Code, when qualified
    estimated_gain_rsd: int | None = None
    public_procurement_value_rsd: int | None = None
    committed_by_senior_official: bool = False  # in office, elected or appointed at top level
    linked_to_organized_crime: bool = False


@dataclass(frozen=True)
class MeasureFacts:
    """One requested measure and the canonical municipality where it must be carried out."""

    index: int  # the measure's position in the request, unique within it
    type: MeasureType
    place: str


@dataclass(frozen=True)
class RoutingCase:
    """An incoming request reduced to the facts that decide who executes it."""

    direction: Direction
    channel: Channel
    offence_category: OffenceCategory
    offences: tuple[OffenceFacts, ...]
    measures: tuple[MeasureFacts, ...]
    # Offices that declared themselves not competent for this request: never chosen again.
    excluded_office_ids: frozenset[str] = frozenset()

    @property
    def categories(self) -> frozenset[OffenceCategory]:
        """The case's category together with the category of each of its offences."""
        return frozenset({self.offence_category, *(o.category for o in self.offences)})
