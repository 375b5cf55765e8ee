"""Rules 1 to 3: the offices with special jurisdiction over the whole country.

Each finds its office by a role held in the directory. When the office has declined the
request (excluded_office_ids), the rule says so and the next rule is tried.
"""

from collections.abc import Iterable

from services.routing.domain.case import MeasureFacts, OffenceFacts, RoutingCase
from services.routing.domain.decision import RuleId, RuleTrace
from services.routing.domain.directory import Directory, OfficeRole
from services.routing.domain.placement import Placement, Step, numbered, office_doubts
from shared.events.vocabulary import BUDAPEST_MEASURES, OffenceCategory

WAR_CRIMES_ARTICLES = (370, 386)  # Criminal Code, first and last article (inclusive)
OC_GAIN_THRESHOLD_RSD = 200_000_000
OC_PROCUREMENT_THRESHOLD_RSD = 800_000_000
_OC_CATEGORIES = frozenset({OffenceCategory.ORGANIZED_CRIME, OffenceCategory.TERRORISM})
# "Economic or official offences", and money laundering linked to the same thresholds.
_THRESHOLD_CATEGORIES = frozenset(
    {OffenceCategory.CORRUPTION, OffenceCategory.ECONOMIC_CRIME, OffenceCategory.MONEY_LAUNDERING}
)


def war_crimes(case: RoutingCase, directory: Directory, pending: tuple[MeasureFacts, ...]) -> Step:
    """Rule 1: war crimes go to the War Crimes Prosecutor's Office with every measure."""
    first, last = WAR_CRIMES_ARTICLES
    grounds = (
        ["offence category war_crimes"] if OffenceCategory.WAR_CRIMES in case.categories else []
    )
    articles = sorted({a for o in case.offences if (a := o.criminal_code_article) is not None})
    grounds += [f"Criminal Code art. {a}" for a in articles if first <= a <= last]
    if not grounds:
        return _no_match(RuleId.WAR_CRIMES, f"no war_crimes category, no art. {first}-{last}")
    return _nationwide(case, directory, pending, RuleId.WAR_CRIMES, "; ".join(grounds))


def organized_crime(
    case: RoutingCase, directory: Directory, pending: tuple[MeasureFacts, ...]
) -> Step:
    """Rule 2: organized crime, terrorism, senior officials, and offences above the thresholds."""
    grounds = [f"offence category {c}" for c in sorted(case.categories & _OC_CATEGORIES)]
    for offence in case.offences:
        grounds += _offence_oc_grounds(offence, case.offence_category)
    if not grounds:
        return _no_match(
            RuleId.ORGANIZED_CRIME,
            "no organized crime or terrorism, no senior official, no link to organized crime, "
            f"no gain above RSD {OC_GAIN_THRESHOLD_RSD:,} or procurement above "
            f"RSD {OC_PROCUREMENT_THRESHOLD_RSD:,}",
        )
    why = "; ".join(dict.fromkeys(grounds))
    return _nationwide(case, directory, pending, RuleId.ORGANIZED_CRIME, why)


def _offence_oc_grounds(offence: OffenceFacts, case_category: OffenceCategory) -> Iterable[str]:
    if offence.committed_by_senior_official:
        yield f"{offence.category} committed in office by a senior official"
    if offence.linked_to_organized_crime:
        # An offence committed by or for an organized group is organized crime, whatever it is.
        yield f"{offence.category} linked to organized crime"
    if not {offence.category, case_category} & _THRESHOLD_CATEGORIES:
        return
    gain, procurement = offence.estimated_gain_rsd, offence.public_procurement_value_rsd
    if gain is not None and gain > OC_GAIN_THRESHOLD_RSD:
        yield f"{offence.category} with gain RSD {gain:,} above {OC_GAIN_THRESHOLD_RSD:,}"
    if procurement is not None and procurement > OC_PROCUREMENT_THRESHOLD_RSD:
        yield (
            f"{offence.category} with public procurement RSD {procurement:,} "
            f"above {OC_PROCUREMENT_THRESHOLD_RSD:,}"
        )


def high_tech_crime(
    case: RoutingCase, directory: Directory, pending: tuple[MeasureFacts, ...]
) -> Step:
    """Rule 3: a cybercrime case goes whole to the high-tech office; in any other case only
    its Budapest Convention measures do, and the other measures go on to the next rules."""
    if OffenceCategory.CYBERCRIME in case.categories:
        return _nationwide(case, directory, pending, RuleId.HIGH_TECH_CRIME, "cybercrime case")
    budapest = tuple(m for m in pending if m.type in BUDAPEST_MEASURES)
    if not budapest:
        return _no_match(RuleId.HIGH_TECH_CRIME, "no cybercrime and no Budapest measure")
    kinds = ", ".join(sorted({str(m.type) for m in budapest}))
    why = f"Budapest Convention measure ({kinds}) in a {case.offence_category} case"
    others = [m.index for m in pending if m not in budapest]
    note = f"; {numbered(others)} go on to the next rules" if others else ""
    return _nationwide(case, directory, budapest, RuleId.HIGH_TECH_CRIME, why, note)


_ROLES = {
    RuleId.WAR_CRIMES: OfficeRole.WAR_CRIMES,
    RuleId.ORGANIZED_CRIME: OfficeRole.ORGANIZED_CRIME,
    RuleId.HIGH_TECH_CRIME: OfficeRole.HIGH_TECH_CRIME,
}


def _no_match(rule: RuleId, reason: str) -> Step:
    return Step(RuleTrace(rule, matched=False, reason=reason))


def _nationwide(
    case: RoutingCase,
    directory: Directory,
    measures: tuple[MeasureFacts, ...],
    rule: RuleId,
    why: str,
    note: str = "",
) -> Step:
    office = directory.special_office(_ROLES[rule])
    if office is None:
        # A missing special office is a defect of the directory, not a reason to let a
        # territorial office take a case it has no jurisdiction over.
        failure = f"{why}, but directory version {directory.version} has no {_ROLES[rule]} office"
        return Step(RuleTrace(rule, matched=True, reason=failure), failure=failure)
    if office.id in case.excluded_office_ids:
        reason = f"{why}, but {office.id} declined this request: trying the next rule"
        return Step(RuleTrace(rule, matched=False, reason=reason), declined=(office.id,))
    basis = f"{why}: {office.name_en}, for the whole country"
    placed = tuple(
        Placement(m, office, rule, basis, tuple(office_doubts(office))) for m in measures
    )
    reason = f"{why}: {numbered([m.index for m in measures])} to {office.id}{note}"
    return Step(RuleTrace(rule, matched=True, reason=reason), placements=placed)
