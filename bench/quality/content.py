"""The shared content model of the quality corpus: a handful of seeded "articles".

Every family of the corpus (PDF layouts, scans, DOCX, PPTX, XLSX, HTML, EPUB) renders the same
articles, so a score difference between families is the converter's, never the content's.

An article is a title, a one-sentence standfirst, and a body of sections: level-2 headings,
a level-3 subheading, paragraphs of two to four sentences, a bulleted list and two ruled tables
(a three-column table that fits any column width, and a five-column table for full-width
layouts). Sentences are drawn from phrase pools with a seeded ``random.Random`` and are unique
across the whole corpus, so every ``present``/``order``/``repeat`` test points at exactly one
place in the document.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SEED = 20261129
ARTICLE_COUNT = 8

# (title, keyword used in the section headings, label of the small table's first column,
# the row labels of that table)
TOPICS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "Harbour Freight Volumes in the Northern District",
        "harbour",
        "Berth",
        ("Quay", "Pier", "Dock", "Jetty"),
    ),
    (
        "Rail Maintenance on the Eastern Line",
        "rail",
        "Section",
        ("Ashby", "Burton", "Carlow", "Denby"),
    ),
    (
        "Water Quality in Upland Reservoirs",
        "water",
        "Lake",
        ("Kelso", "Luce", "Morden", "Nevis"),
    ),
    (
        "Library Lending after the Renovation",
        "library",
        "Branch",
        ("Central", "Hillside", "Marsh", "Oakley"),
    ),
    (
        "Solar Output on Municipal Rooftops",
        "solar",
        "Roof",
        ("Depot", "School", "Hall", "Archive"),
    ),
    (
        "Bus Punctuality in the City Centre",
        "transit",
        "Route",
        ("Red", "Green", "Orange", "Violet"),
    ),
    # A short title: narrower than half the text width, as titles often are.
    ("Grain Storage in Silos", "grain", "Silo", ("Alpha", "Bravo", "Canter", "Delta")),
    (
        "Waste Collection in Outer Suburbs",
        "waste",
        "Ward",
        ("Elm", "Fernhill", "Glen", "Hartley"),
    ),
)

SUBJECTS = (
    "The survey team",
    "Our field staff",
    "The regional council",
    "Each site manager",
    "The steering committee",
    "Local contractors",
    "The audit group",
    "Two senior engineers",
    "The planning office",
    "Most depot crews",
    "The finance department",
    "An independent reviewer",
    "The operations desk",
    "Several volunteers",
    "The records clerk",
    "The new supervisor",
)
VERBS = (
    "reviewed",
    "measured",
    "compared",
    "recorded",
    "reported",
    "estimated",
    "tracked",
    "summarised",
    "examined",
    "checked",
    "mapped",
    "questioned",
)
OBJECTS = (
    "the weekly delivery schedules",
    "seasonal changes in demand",
    "the cost of overnight storage",
    "every complaint from nearby residents",
    "the age of the older equipment",
    "the number of missed inspections",
    "fuel use on the longest routes",
    "the backlog of urgent repairs",
    "staff hours spent on paperwork",
    "the condition of the access roads",
    "energy bills for the winter months",
    "the accuracy of the printed timetables",
    "training records for new recruits",
    "the spare parts held in stock",
    "visitor numbers at weekends",
    "the response time to reported faults",
    "rainfall totals near the main site",
    "the queue of pending applications",
    "noise levels during night shifts",
    "insurance claims from the last decade",
)
TAILS = (
    "during the spring quarter",
    "across all inland routes",
    "before the new contracts began",
    "with help from two partner firms",
    "for the third year running",
    "using records kept since {year}",
    "and found a rise of {pct} percent",
    "and noted a fall of {pct} percent",
    "over a period of {n} weeks",
    "at {n} separate locations",
    "after the heavy storms in {month}",
    "while the main gate was closed",
    "ahead of the budget meeting",
    "in close cooperation with the unions",
    "as part of the annual review",
    "without any extra funding",
    "under the revised safety rules",
    "on behalf of the county board",
)
MONTHS = ("January", "March", "April", "June", "August", "October", "November")
LIST_VERBS = ("Replace", "Inspect", "Publish", "Extend", "Repaint", "Survey", "Relocate", "Review")
LIST_OBJECTS = (
    "the worn signal cables",
    "the northern fence line",
    "a quarterly summary for residents",
    "the night service by one hour",
    "the old loading platform",
    "the drainage along the west side",
    "the smaller storage units",
    "the contract with the cleaning firm",
    "the emergency contact list",
    "the lighting in the car park",
)


@dataclass(frozen=True, slots=True)
class Table:
    rows: tuple[tuple[str, ...], ...]  # the first row is the header, the first column labels rows

    @property
    def width(self) -> int:
        return len(self.rows[0])


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "h2" | "h3" | "p" | "li" | "table"
    text: str = ""
    sentences: tuple[str, ...] = ()  # paragraphs: the sentences ``text`` is made of
    table: Table | None = None


@dataclass(frozen=True, slots=True)
class Article:
    index: int
    title: str
    standfirst: str  # one sentence under the title (a PPTX subtitle)
    sheet: str  # a short name: XLSX sheet, file stems
    blocks: tuple[Block, ...]

    @property
    def tables(self) -> list[Table]:
        return [block.table for block in self.blocks if block.table is not None]


class _Sentences:
    """Unique sentences from the phrase pools."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def sentence(self) -> str:
        for _ in range(1000):
            tail = self.rng.choice(TAILS).format(
                year=self.rng.randrange(1995, 2021),
                pct=self.rng.randrange(3, 48),
                n=self.rng.randrange(4, 40),
                month=self.rng.choice(MONTHS),
            )
            text = (
                f"{self.rng.choice(SUBJECTS)} {self.rng.choice(VERBS)} "
                f"{self.rng.choice(OBJECTS)} {tail}."
            )
            if text not in self.used:
                self.used.add(text)
                return text
        raise RuntimeError("phrase pools exhausted")

    def paragraph(self, count: int) -> Block:
        sentences = tuple(self.sentence() for _ in range(count))
        return Block("p", " ".join(sentences), sentences)

    def item(self) -> Block:
        for _ in range(1000):
            text = f"{self.rng.choice(LIST_VERBS)} {self.rng.choice(LIST_OBJECTS)}"
            if text not in self.used:
                self.used.add(text)
                return Block("li", text)
        raise RuntimeError("list pools exhausted")


def _small_table(rng: random.Random, label: str, rows: tuple[str, ...]) -> Table:
    body = [
        (name, f"{rng.randrange(110, 990)}", f"{rng.randrange(2, 60)}.{rng.randrange(10)}%")
        for name in rows
    ]
    return Table(((label, "Units", "Share"), *body))


def _wide_table(rng: random.Random) -> Table:
    body = []
    for quarter in ("Q1", "Q2", "Q3", "Q4"):
        orders = rng.randrange(1200, 9800)
        body.append(
            (
                quarter,
                f"{orders:,}",
                str(rng.randrange(12, 340)),
                f"{rng.randrange(40, 990)}.{rng.randrange(10)}",
                f"{rng.randrange(4, 31)}%",
            )
        )
    return Table((("Quarter", "Orders", "Returns", "Sales", "Margin"), *body))


def articles(count: int = ARTICLE_COUNT, seed: int = SEED) -> list[Article]:
    """The corpus's articles; the same ``seed`` always gives the same text."""
    rng = random.Random(seed)
    pool = _Sentences(rng)
    result: list[Article] = []
    for index in range(count):
        title, key, label, row_names = TOPICS[index % len(TOPICS)]
        if index >= len(TOPICS):
            title = f"{title} ({index // len(TOPICS) + 1})"
        blocks = (
            Block("h2", f"Background to the {key} study"),
            pool.paragraph(3),
            pool.paragraph(2),
            Block("h3", f"Methods used for the {key} counts"),
            pool.paragraph(2),
            pool.item(),
            pool.item(),
            pool.item(),
            Block("h2", f"Findings on {key} activity"),
            pool.paragraph(3),
            Block("table", table=_small_table(rng, label, row_names)),
            pool.paragraph(2),
            Block("h2", f"Quarterly {key} figures"),
            pool.paragraph(2),
            Block("table", table=_wide_table(rng)),
            pool.paragraph(2),
        )
        result.append(
            Article(
                index=index,
                title=title,
                standfirst=pool.sentence(),
                sheet=f"{key.title()} {index + 1}",
                blocks=blocks,
            )
        )
    return result
