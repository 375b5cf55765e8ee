"""What the routing engine answers: planned assignments, or why none, with the rule trace."""

from dataclasses import dataclass
from enum import StrEnum


class RuleId(StrEnum):
    """The rules in the order the engine tries them (checks first, then placements)."""

    DIRECTION_CHECK = "direction_check"
    MEASURES_CHECK = "measures_check"
    CHANNEL_CHECK = "channel_check"
    WAR_CRIMES = "war_crimes"
    ORGANIZED_CRIME = "organized_crime"
    HIGH_TECH_CRIME = "high_tech_crime"
    ANTI_CORRUPTION = "anti_corruption"
    TERRITORIAL = "territorial"  # in the trace; assignments name the office level below
    TERRITORIAL_HIGHER = "territorial_higher"
    TERRITORIAL_BASIC = "territorial_basic"


@dataclass(frozen=True)
class RuleTrace:
    """One rule tried. `matched` means the rule decided something: a check refused the
    request, or a placement rule placed at least one measure."""

    rule: str
    matched: bool
    reason: str


@dataclass(frozen=True)
class PlannedAssignment:
    """The measures of the request that one office is to execute."""

    office_id: str
    measure_indexes: tuple[int, ...]
    rule: str
    inferred: bool  # rests on a link the directory marks inferred: an operator should confirm
    basis: str


@dataclass(frozen=True)
class RoutingDecision:
    """Either assignments covering every measure, or a failure saying why not: never both."""

    assignments: tuple[PlannedAssignment, ...]
    trace: tuple[RuleTrace, ...]
    directory_version: int
    failure: str | None = None

    def __post_init__(self) -> None:
        if bool(self.assignments) == (self.failure is not None):
            raise ValueError("a routing decision has assignments or a failure, not both")

    @property
    def routed(self) -> bool:
        """True when every measure has an office."""
        return self.failure is None

    @property
    def inferred(self) -> bool:
        """True when some assignment needs an operator's confirmation."""
        return any(a.inferred for a in self.assignments)
