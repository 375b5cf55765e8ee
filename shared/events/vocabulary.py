"""The controlled vocabulary of an assistance request (see DOMAIN.md).

Plain enumerations shared by the event catalogue, intake's validation and routing's rules,
so that a value means the same thing in every service.
"""

from enum import StrEnum


class Direction(StrEnum):
    INCOMING = "incoming"  # a foreign authority asks Serbia
    OUTGOING = "outgoing"  # Serbia asks abroad


class Channel(StrEnum):
    MINISTRY_OF_JUSTICE = "ministry_of_justice"
    DIRECT = "direct"  # between judicial authorities (2nd Additional Protocol art. 4, memorandum)
    EUROJUST = "eurojust"
    EJN = "ejn"
    CYBERCRIME_24_7 = "cybercrime_24_7"
    INTERPOL = "interpol"


class LegalBasis(StrEnum):
    CONVENTION_1959 = "convention_1959"
    CONVENTION_1959_PROTOCOL_2 = "convention_1959_protocol_2"
    BUDAPEST = "budapest"
    BUDAPEST_PROTOCOL_2 = "budapest_protocol_2"
    UNTOC = "untoc"
    UNCAC = "uncac"
    UN_DRUGS_1988 = "un_drugs_1988"
    BILATERAL_TREATY = "bilateral_treaty"
    MEMORANDUM = "memorandum"
    RECIPROCITY = "reciprocity"
    NATIONAL_LAW = "national_law"  # Law on Mutual Assistance in Criminal Matters (2009)


class OffenceCategory(StrEnum):
    ORGANIZED_CRIME = "organized_crime"
    TERRORISM = "terrorism"
    WAR_CRIMES = "war_crimes"
    CORRUPTION = "corruption"
    ECONOMIC_CRIME = "economic_crime"
    MONEY_LAUNDERING = "money_laundering"
    CYBERCRIME = "cybercrime"
    TRAFFICKING_HUMAN_BEINGS = "trafficking_human_beings"
    TRAFFICKING_DRUGS = "trafficking_drugs"
    TRAFFICKING_WEAPONS = "trafficking_weapons"
    MIGRANT_SMUGGLING = "migrant_smuggling"
    DOMESTIC_VIOLENCE = "domestic_violence"
    OTHER = "other"


class MeasureType(StrEnum):
    HEARING_WITNESS = "hearing_witness"
    HEARING_EXPERT = "hearing_expert"
    HEARING_VICTIM = "hearing_victim"
    HEARING_SUSPECT = "hearing_suspect"
    HEARING_VIDEOCONFERENCE = "hearing_videoconference"
    SERVICE_OF_DOCUMENTS = "service_of_documents"
    SEARCH_AND_SEIZURE = "search_and_seizure"
    BANKING_INFORMATION = "banking_information"
    ACCOUNT_MONITORING = "account_monitoring"
    PRODUCTION_OF_DOCUMENTS = "production_of_documents"
    PRESERVATION_OF_DATA = "preservation_of_data"
    SUBSCRIBER_DATA = "subscriber_data"
    TRAFFIC_DATA = "traffic_data"
    FREEZING_OF_ASSETS = "freezing_of_assets"
    CONFISCATION_OF_ASSETS = "confiscation_of_assets"
    TEMPORARY_TRANSFER_OF_DETAINED_PERSON = "temporary_transfer_of_detained_person"
    CONTROLLED_DELIVERY = "controlled_delivery"
    COVERT_INVESTIGATION = "covert_investigation"
    CROSS_BORDER_OBSERVATION = "cross_border_observation"
    JOINT_INVESTIGATION_TEAM = "joint_investigation_team"
    SPONTANEOUS_INFORMATION = "spontaneous_information"
    TRANSFER_OF_PROCEEDINGS = "transfer_of_proceedings"


# The Budapest Convention measures (preservation, subscriber and traffic data): they go to the
# high-tech crime prosecution whatever the rest of the request is.
BUDAPEST_MEASURES = frozenset(
    {MeasureType.PRESERVATION_OF_DATA, MeasureType.SUBSCRIBER_DATA, MeasureType.TRAFFIC_DATA}
)


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class Confidentiality(StrEnum):
    NORMAL = "normal"
    CONFIDENTIAL = "confidential"
    STRICTLY_CONFIDENTIAL = "strictly_confidential"


class TranslationStatus(StrEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    TRANSLATED = "translated"


class PersonRole(StrEnum):
    SUSPECT = "suspect"
    ACCUSED = "accused"
    WITNESS = "witness"
    VICTIM = "victim"
    EXPERT = "expert"
    OTHER = "other"


class ExecutionResult(StrEnum):
    EXECUTED = "executed"
    PARTIALLY_EXECUTED = "partially_executed"
    NOT_EXECUTED = "not_executed"


class Outcome(StrEnum):
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ErasureGround(StrEnum):
    """Why the personal data of a request was erased."""

    DATA_SUBJECT_REQUEST = "data_subject_request"  # a person concerned asked (right to erasure)
    RETENTION_ENDED = "retention_ended"  # the retention period of the case file ran out
    SUPERVISORY_ORDER = "supervisory_order"  # ordered by the data-protection authority or a court
