"""A made-up incident log for a 24-hour live event in Westmere, as a control room writes it.

The day's mix follows what #gmp24 published (Greater Manchester Police, 14 October 2010:
about 3,200 calls, a third of them about concern for someone's welfare, anti-social
behaviour or road collisions, many resolved without anyone being sent). Summaries carry the
personal data call takers really write — callers' names and numbers, ages, house numbers,
number plates, dates of birth, emails — so the redaction can be shown to take every one out.
Everything is fictional: names are drawn from common UK names, numbers from Ofcom's drama
ranges (07700 900xxx, 0121 496 0xxx) and plates are made up.

`generate(3000)` gives the rows with the personal data planted in each; `write_csv` writes a
log in the INCIDENT_LOG.md format.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

FIRST = [
    ("John", "man"), ("Dean", "man"), ("Mohammed", "man"), ("Gary", "man"), ("Tomasz", "man"),
    ("Kwame", "man"), ("Liam", "man"), ("Darren", "man"), ("Arjun", "man"), ("Callum", "man"),
    ("Sarah", "woman"), ("Karen", "woman"), ("Aisha", "woman"), ("Siobhan", "woman"),
    ("Margaret", "woman"), ("Priya", "woman"), ("Chloe", "woman"), ("Agnieszka", "woman"),
    ("Tracey", "woman"), ("Fatima", "woman"),
]  # fmt: skip
SURNAMES = [
    "Smith", "Jones", "Khan", "Patel", "O'Brien", "Kowalczyk", "Mensah", "Taylor", "Hughes",
    "Begum", "Walsh", "Nowak", "Ahmed", "Clarke", "Murphy", "Okafor", "Davies", "Singh",
]  # fmt: skip
STREETS = [
    ("Dudley Road", "Dudley Road"), ("Lock Street", "Canal Side"), ("Mill Lane", "Canal Side"),
    ("Hollins Avenue", "Hollins Park"), ("Abbey Close", "Abbeyfield"), ("Market Street",
    "Westmere Town Centre"), ("Station Road", "Westmere Town Centre"), ("Park Crescent",
    "Hollins Park"), ("Church Lane", "Abbeyfield"), ("Canal Walk", "Canal Side"),
]  # fmt: skip
HOUSES = ["Rose Cottage", "The Old Rectory", "Ivy House", "Meadow View Farm"]

# (type, weight, summaries, outcomes): {who} is a person, {victim} a second one.
KINDS: list[tuple[str, int, list[str], list[str]]] = [
    (
        "Concern for welfare",
        16,
        [
            "{who} not seen by neighbours for three days, curtains still drawn",
            "caller worried about {who}, who has left a note saying goodbye",
            "elderly man seen walking in the road in his slippers, confused",
            "{who} called from {phone} saying their {relation} has not come home",
        ],
        [
            "officers found the man safe and took him home",
            "officers forced entry; {pronoun} was found safe and checked by paramedics",
            "found safe and well at a friend's house",
            "passed to the mental health triage car, who are with them now",
        ],
    ),
    (
        "Anti-social behaviour",
        14,
        [
            "group of youths kicking a football against cars on {street}",
            "{who} reports teenagers throwing eggs at windows",
            "motorbikes being ridden on the playing fields, caller {name} on {phone}",
            "fireworks being let off at the bus shelter",
        ],
        [
            "officers attended and spoke to the group, who moved on",
            "passed to the neighbourhood team for a visit tomorrow",
            "gone on arrival; patrols will pass by tonight",
        ],
    ),
    (
        "Road traffic collision",
        10,
        [
            "two cars in collision, {plate_vehicle} and a taxi, no injuries",
            "cyclist knocked off bike by {plate_vehicle}, driver {name} stopped",
            "car into a lamp post, driver {who} {breath}",
            "minor collision at the roundabout blocking one lane",
        ],
        [
            "no injuries; the road was cleared within the hour",
            "driver arrested for drink driving",
            "details exchanged, no police action needed",
            "the cyclist was taken to hospital with a minor injury",
        ],
    ),
    (
        "Shoplifting",
        7,
        [
            "store detective holding {who} for stealing razor blades",
            "{who} seen leaving with a bag of meat without paying",
            "known shoplifter back in store, staff have called",
        ],
        [
            "arrested for theft and taken into custody",
            "dealt with by a community resolution",
            "gone on arrival; CCTV is being reviewed",
        ],
    ),
    (
        "Domestic incident",
        7,
        [
            "shouting heard from {address}, caller {name} on {phone}",
            "{who} says their ex-partner is outside and will not leave",
            "neighbour reports a woman crying and a door being banged",
        ],
        [
            "officers attended; a man was arrested for assault",
            "officers attended; advice given and safeguarding referral made",
            "all safe; a follow-up visit is booked",
        ],
    ),
    (
        "Suspicious vehicle",
        6,
        [
            "{plate_vehicle} parked outside the school for two hours",
            "van reg {plate} driving slowly around the estate at night",
            "car with no tax left on {street}, keys in the ignition",
        ],
        [
            "checked: the owner lives locally, no offences",
            "the vehicle was seized for no insurance",
            "no trace on arrival",
        ],
    ),
    (
        "Burglary",
        6,
        [
            "{who} came home to find the back door forced at {address}",
            "shed broken into at {house}, {street}, two bikes taken",
            "caller {name} heard glass breaking next door",
        ],
        [
            "crime recorded; forensic officers visit tomorrow",
            "officers searched the area; one man arrested",
            "crime recorded and crime prevention advice given",
        ],
    ),
    (
        "Missing person",
        5,
        [
            "{who} has not returned from school, DOB {dob}",
            "{who} left the care home this afternoon and has not come back",
            "{who} missing since this morning, family contactable at {email}",
        ],
        [
            "found safe at a friend's house and returned home",
            "found safe in the town centre",
            "still missing; officers are searching and an appeal may follow",
        ],
    ),
    (
        "Noise complaint",
        5,
        [
            "loud music from a party at {address}",
            "{who} complains of dogs barking all night",
            "generator running at a building site on {street}",
        ],
        [
            "passed to the council's noise team",
            "officers asked for the music to be turned down, which it was",
            "no police action; advice given",
        ],
    ),
    (
        "Criminal damage",
        4,
        [
            "graffiti sprayed on the bus shelter",
            "car tyres slashed on {street}, owner {name}",
            "window smashed at the community centre",
        ],
        ["crime recorded; no suspects yet", "crime recorded and passed to the local team"],
    ),
    (
        "Lost property",
        3,
        [
            "{who} has lost a purse on the number 9 bus",
            "a wallet handed in belonging to {name}, DOB {dob}",
        ],
        ["recorded as lost property", "returned to its owner"],
    ),
    (
        "Abandoned 999 call",
        5,
        ["silent 999 call from a mobile, {phone}", "child playing with the phone"],
        ["called back: all fine, no police needed", "no answer on call back; no further action"],
    ),
    (
        "Animals",
        3,
        ["horse loose on {street}", "{who} reports a dog locked in a hot car, {plate_vehicle}"],
        ["owner found and the horse returned", "the owner returned to the car; advice given"],
    ),
    (
        "Fraud",
        3,
        [
            "{who} was called by someone pretending to be their bank",
            "{who} sent money to an online seller who never delivered, emailed from {email}",
        ],
        ["passed to Action Fraud", "advice given; the bank has been told"],
    ),
    (
        "Assault",
        4,
        [
            "fight outside the pub, {who} has a cut head",
            "{who} punched at the bus station by a man who ran off",
        ],
        [
            "one man arrested; the injured man was treated by paramedics",
            "crime recorded; CCTV is being checked",
        ],
    ),
]

RELATIONS = ["son", "daughter", "husband", "mum", "dad", "partner"]


@dataclass
class Row:
    """One line of the made-up log and the personal data planted in it."""

    record: dict[str, str]
    planted: list[tuple[str, str]] = field(default_factory=list)  # (kind, value)


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.planted: list[tuple[str, str]] = []

    def person(self) -> tuple[str, str, str]:
        first, gender = self.rng.choice(FIRST)
        return first, self.rng.choice(SURNAMES), gender

    def who(self) -> str:
        first, last, gender = self.person()
        age = self.rng.randint(14, 91)
        form = self.rng.randrange(8)
        self.planted.append(("name", f"{first} {last}" if form not in (5, 6) else last))
        self.planted.append(("age", str(age)))
        title = "Mr" if gender == "man" else self.rng.choice(["Mrs", "Ms", "Miss"])
        return [
            f"{first} {last}, {age},",
            f"{first} {last} ({age})",
            f"{first} {last} aged {age}",
            f"IP {first} {last}, {age}",
            f"caller {first} {last}, {age} years old,",
            f"{title} {last}, {age},",
            f"{age}-year-old {title} {last}",
            f"{age}-year-old {first} {last}",
        ][form]

    def name(self) -> str:
        first, last, _ = self.person()
        self.planted.append(("name", f"{first} {last}"))
        return f"{first} {last}"

    def phone(self) -> str:
        number = self.rng.choice(
            [
                f"07700 900{self.rng.randint(0, 999):03d}",
                f"0121 496 0{self.rng.randint(0, 999):03d}",
                f"+44 7700 900{self.rng.randint(0, 999):03d}",
                f"07700900{self.rng.randint(0, 999):03d}",
            ]
        )
        self.planted.append(("phone", number))
        return number

    def plate(self) -> str:
        letters = "ABCDEFGHJKLMNOPRSTUVWXY"
        plate = (
            "".join(self.rng.choice(letters) for _ in range(2))
            + f"{self.rng.randint(51, 74)} "
            + "".join(self.rng.choice(letters) for _ in range(3))
        )
        self.planted.append(("vehicle_registration", plate))
        return plate

    def plate_vehicle(self) -> str:
        car = self.rng.choice(["silver Ford Focus", "black VW Golf", "white Transit van"])
        return f"{car} {self.plate()}"

    def dob(self) -> str:
        day, month = self.rng.randint(1, 28), self.rng.randint(1, 12)
        dob = f"{day:02d}/{month:02d}/{self.rng.randint(1940, 2012)}"
        self.planted.append(("date_of_birth", dob))
        return dob

    def email(self) -> str:
        first, last, _ = self.person()
        local = f"{first}.{last}".lower().replace("'", "")
        address = f"{local}{self.rng.randint(1, 99)}@example.com"
        self.planted.append(("email", address))
        return address

    def address(self) -> str:
        street, _ = self.rng.choice(STREETS)
        number = str(self.rng.randint(1, 240))
        self.planted.append(("house_number", f"{number} {street}"))
        return f"{number} {street}"

    def house(self) -> str:
        house = self.rng.choice(HOUSES)
        self.planted.append(("house_name", house))
        return house


def generate(count: int = 3000, seed: int = 24, start: dt.datetime | None = None) -> list[Row]:
    """`count` log lines over 24 hours from `start` (UK time, default 05:00 on 22 Nov 2024)."""
    rng = random.Random(seed)
    start = start or dt.datetime(2024, 11, 22, 5, 0)
    weights = [k[1] for k in KINDS]
    step = dt.timedelta(hours=24) / max(count, 1)
    rows = []
    for index in range(count):
        writer = _Writer(rng)
        kind, _, summaries, outcomes = rng.choices(KINDS, weights)[0]
        street, area = rng.choice(STREETS)
        where = rng.random()
        if where < 0.3:
            location = f"{writer.address()}, {area}"
        elif where < 0.4:
            location = f"{writer.house()}, {street}, {area}"
        elif where < 0.7:
            location = f"{street}, {area}"
        else:
            location = area
        pronoun = rng.choice(["he", "she"])
        values = {
            "who": writer.who,
            "name": writer.name,
            "phone": writer.phone,
            "plate": writer.plate,
            "plate_vehicle": writer.plate_vehicle,
            "dob": writer.dob,
            "email": writer.email,
            "address": writer.address,
            "house": writer.house,
        }
        summary = _fill(rng.choice(summaries), values, street, rng)
        outcome = _fill(rng.choice(outcomes), values, street, rng).replace("{pronoun}", pronoun)
        moment = start + step * index + dt.timedelta(seconds=rng.randint(0, 20))
        rows.append(
            Row(
                {
                    "time": f"{moment:%H:%M}",
                    "type": kind,
                    "location": location,
                    "summary": summary,
                    "outcome": outcome,
                },
                writer.planted,
            )
        )
    return rows


def _fill(
    template: str, values: dict[str, Callable[[], str]], street: str, rng: random.Random
) -> str:
    text = template.replace("{street}", street).replace("{relation}", rng.choice(RELATIONS))
    text = text.replace("{breath}", rng.choice(["breathalysed", "unhurt"]))
    for key, make in values.items():
        while "{" + key + "}" in text:
            text = text.replace("{" + key + "}", make(), 1)
    return text


def write_csv(rows: list[Row], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=["time", "type", "location", "summary", "outcome"])
    writer.writeheader()
    for row in rows:
        writer.writerow(row.record)
