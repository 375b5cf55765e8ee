"""The vocabulary the generated requests are drawn from: requesting countries with their
authorities, cities and languages, offences, measures, people and the texts clerks write.

Weights follow the shape of a real caseload: neighbours ask most, a few categories and
measures dominate, most requests are normal and come directly or through the ministry.
"""

from __future__ import annotations

# country, weight, language, authority pattern, cities
COUNTRIES: list[tuple[str, int, str, str, tuple[str, ...]]] = [
    (
        "BA",
        18,
        "bs",
        "Prosecutor's Office of {city}",
        ("Sarajevo", "Banja Luka", "Tuzla", "Bijeljina", "Mostar"),
    ),
    (
        "HR",
        14,
        "hr",
        "Municipal State Attorney's Office in {city}",
        ("Zagreb", "Osijek", "Vukovar", "Split", "Rijeka"),
    ),
    (
        "ME",
        12,
        "sr",
        "Basic State Prosecutor's Office in {city}",
        ("Podgorica", "Nikšić", "Bar", "Herceg Novi"),
    ),
    ("MK", 6, "mk", "Basic Public Prosecutor's Office {city}", ("Skopje", "Kumanovo", "Bitola")),
    ("HU", 7, "hu", "{city} District Public Prosecutor's Office", ("Budapest", "Szeged", "Pécs")),
    (
        "SI",
        6,
        "sl",
        "District State Prosecutor's Office in {city}",
        ("Ljubljana", "Maribor", "Celje", "Koper"),
    ),
    (
        "DE",
        8,
        "de",
        "Staatsanwaltschaft {city}",
        ("München", "Frankfurt am Main", "Stuttgart", "Berlin", "Köln"),
    ),
    ("AT", 6, "de", "Staatsanwaltschaft {city}", ("Wien", "Graz", "Linz", "Innsbruck")),
    (
        "RO",
        4,
        "ro",
        "Parchetul de pe lângă Tribunalul {city}",
        ("Timișoara", "Bucharest", "Cluj-Napoca"),
    ),
    ("BG", 3, "bg", "District Prosecutor's Office {city}", ("Sofia", "Vidin", "Plovdiv")),
    ("CH", 3, "de", "Staatsanwaltschaft des Kantons {city}", ("Zürich", "Bern", "Basel-Stadt")),
    ("IT", 3, "it", "Procura della Repubblica di {city}", ("Milano", "Trieste", "Roma", "Bari")),
    ("FR", 2, "fr", "Parquet de {city}", ("Paris", "Lyon", "Marseille", "Strasbourg")),
    (
        "NL",
        2,
        "nl",
        "Openbaar Ministerie, arrondissementsparket {city}",
        ("Rotterdam", "Amsterdam"),
    ),
    ("SE", 1, "sv", "Åklagarmyndigheten, {city}", ("Stockholm", "Malmö", "Göteborg")),
    ("GR", 2, "el", "Public Prosecutor's Office of {city}", ("Athens", "Thessaloniki")),
    ("SK", 1, "sk", "District Prosecutor's Office {city}", ("Bratislava", "Košice")),
    ("CZ", 1, "cs", "District Public Prosecutor's Office in {city}", ("Praha", "Brno")),
    ("PL", 1, "pl", "District Prosecutor's Office in {city}", ("Warszawa", "Kraków")),
    ("TR", 1, "tr", "Chief Public Prosecutor's Office of {city}", ("Istanbul", "Ankara")),
    ("UA", 1, "uk", "Prosecutor's Office of {city} Oblast", ("Kyiv", "Odesa")),
    ("ES", 1, "es", "Fiscalía Provincial de {city}", ("Madrid", "Barcelona")),
    ("GB", 1, "en", "Crown Prosecution Service, {city}", ("London", "Manchester")),
    ("US", 1, "en", "U.S. Attorney's Office, {city}", ("Southern District of New York", "Chicago")),
    ("BE", 1, "fr", "Parquet du procureur du Roi de {city}", ("Bruxelles", "Liège")),
    ("AL", 1, "sq", "Prosecution Office at the Court of {city}", ("Tirana", "Durrës")),
]

CATEGORIES = [
    ("economic_crime", 16),
    ("trafficking_drugs", 14),
    ("money_laundering", 9),
    ("organized_crime", 8),
    ("corruption", 7),
    ("cybercrime", 10),
    ("other", 12),
    ("domestic_violence", 6),
    ("migrant_smuggling", 5),
    ("trafficking_human_beings", 3),
    ("trafficking_weapons", 4),
    ("war_crimes", 2),
    ("terrorism", 1),
]

MEASURES = [
    ("hearing_witness", 22),
    ("hearing_suspect", 9),
    ("hearing_victim", 6),
    ("hearing_expert", 2),
    ("hearing_videoconference", 4),
    ("service_of_documents", 18),
    ("search_and_seizure", 6),
    ("banking_information", 12),
    ("account_monitoring", 2),
    ("production_of_documents", 10),
    ("preservation_of_data", 3),
    ("subscriber_data", 6),
    ("traffic_data", 4),
    ("freezing_of_assets", 2),
    ("confiscation_of_assets", 1),
    ("controlled_delivery", 1),
    ("cross_border_observation", 1),
    ("spontaneous_information", 1),
]

CHANNELS = [
    ("direct", 45),
    ("ministry_of_justice", 40),
    ("eurojust", 5),
    ("ejn", 4),
    ("interpol", 4),
    ("cybercrime_24_7", 2),
]
LEGAL_BASES = [
    ("convention_1959", 30),
    ("convention_1959_protocol_2", 35),
    ("bilateral_treaty", 12),
    ("untoc", 6),
    ("budapest", 5),
    ("uncac", 3),
    ("un_drugs_1988", 4),
    ("reciprocity", 3),
    ("national_law", 2),
]
CONFIDENTIALITY = [("normal", 70), ("confidential", 25), ("strictly_confidential", 5)]
TRANSLATION = [("translated", 60), ("not_needed", 25), ("pending", 15)]
ROLES = [
    ("suspect", 40),
    ("witness", 30),
    ("victim", 12),
    ("accused", 10),
    ("expert", 3),
    ("other", 5),
]
RESULTS = [("executed", 80), ("partially_executed", 14), ("not_executed", 6)]

FIRST_NAMES = (
    "Marko",
    "Ana",
    "Nikola",
    "Jelena",
    "Stefan",
    "Milica",
    "Ivan",
    "Maja",
    "Luka",
    "Sara",
    "Dragan",
    "Mira",
    "Petar",
    "Tamara",
    "Goran",
    "Ivana",
    "Hans",
    "Eva",
    "Emir",
    "Amra",
    "Tomislav",
    "Katarina",
    "László",
    "Zsófia",
    "Mihai",
)
SURNAMES = (
    "Petrović",
    "Jovanović",
    "Nikolić",
    "Marković",
    "Đorđević",
    "Stojanović",
    "Ilić",
    "Kovačević",
    "Horvat",
    "Babić",
    "Hodžić",
    "Müller",
    "Nagy",
    "Popescu",
    "Novak",
    "Example",
    "Sample",
    "Stanković",
    "Pavlović",
    "Milošević",
)

FACTS = (
    "Between {month} and {month2} {year} the suspects transferred {amount} EUR from accounts "
    "of a company registered in {city} to accounts in {place} through invoices for services "
    "that were never rendered.",
    "On {day} {month} {year} a shipment of {kg} kg of {drug} was seized in {city}; the lorry "
    "had been loaded in {place} by a transport company whose records are sought.",
    "The victim was defrauded through an online investment platform operated from {place}; "
    "payments of {amount} EUR were made between {month} and {month2} {year}.",
    "An organised group smuggled migrants across the border near {place} in {month} {year}; "
    "the drivers were arrested in {city} and named accomplices living in Serbia.",
    "The accused, a public official in {city}, is suspected of accepting {amount} EUR to award "
    "a procurement contract to a company with premises in {place}.",
    "Threatening messages were sent to the victim from accounts registered with a provider "
    "in {place}; subscriber and traffic data for {month} {year} are needed to identify them.",
    "A witness to the robbery of a jewellery shop in {city} on {day} {month} {year} now lives "
    "in {place} and must be heard on the description of the perpetrators.",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DRUGS = ("cocaine", "heroin", "cannabis", "amphetamine")
URGENCY_REASONS = (
    "The suspect is in custody and the custody time limit expires soon.",
    "The trial opens shortly and the evidence is needed before it.",
    "The company is being wound up and its records may be destroyed.",
    "The data are kept by the provider only for a short period.",
)
MEASURE_DETAILS = (
    "Hearing on the transactions and the persons who ordered them.",
    "Documents on the ownership and management of the company.",
    "Statements of the accounts for the period concerned.",
    "Serve the summons and the indictment; return the proof of service.",
    None,
)
