"""The fill processor: AcroForm fields matched by name, label and description; overlays on
PDFs without fields and on images; settings, failures and the optional LLM matcher."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.extractor import StructuredExtractor
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.fill import FillProcessor
from pagemill.processors.fill.matching import Key, Target, assign, similarity
from pagemill.processors.fill.request import parse_field_data, parse_threshold
from pagemill.processors.fill.text import label_spots, make_line
from tests.formgen import acroform_pdf, paper_form_pdf

PERSON = {
    "full_name": {"value": "Ada Lovelace", "description": "The applicant's full name"},
    "dob": {"value": "1815-12-10", "description": "Date of birth"},
    "newsletter": {"value": "yes", "description": "Subscribe to the newsletter"},
    "favourite_colour": {"value": "Blue"},
    "country": {"value": "germany"},
    "shoe_size": {"value": "42", "description": "Shoe size"},
}


def fill(path: Path, processor: FillProcessor | None = None, **settings: Any) -> ProcessorOutput:
    job = ProcessorInput(document=path, filename=path.name, settings=settings)
    return (processor or FillProcessor()).run(job)


def field_values(data: bytes) -> dict[str, Any]:
    fields = PdfReader(io.BytesIO(data)).get_fields() or {}
    return {name: field.get("/V") for name, field in fields.items()}


def test_acroform_fields_are_filled_by_name(tmp_path: Path) -> None:
    form = acroform_pdf(tmp_path / "form.pdf")

    result = fill(form, field_data=json.dumps(PERSON)).result

    assert result["output_format"] == "pdf" and result["success"] is True
    assert sorted(result["fields_filled"]) == [
        "country",
        "dob",
        "favourite_colour",
        "full_name",
        "newsletter",
    ]
    assert result["fields_not_found"] == ["shoe_size"]
    assert result["page_count"] == 1
    values = field_values(base64.b64decode(result["output_base64"]))
    assert values["name"] == "Ada Lovelace"
    assert values["birth"] == "1815-12-10"
    assert values["subscribe"] == "/Yes"
    assert values["colour"] == "/blue"
    assert values["country"] == "Germany"  # the option's own spelling
    assert result["metadata"]["fill_method"] == "acroform"


def test_meaningless_field_names_are_matched_by_the_label_beside_them(tmp_path: Path) -> None:
    names = {
        "name": "Text1",
        "birth": "Text2",
        "subscribe": "Check3",
        "country": "Combo4",
        "colour": "Group5",
    }
    form = acroform_pdf(tmp_path / "form.pdf", names=names)

    result = fill(form, field_data=PERSON).result

    values = field_values(base64.b64decode(result["output_base64"]))
    assert values["Text1"] == "Ada Lovelace"
    assert values["Text2"] == "1815-12-10"
    assert values["Check3"] == "/Yes"
    assert values["Combo4"] == "Germany"
    matched = {m["key"]: m["target"] for m in result["metadata"]["matches"]}
    assert matched["full_name"] == "Text1"


def test_a_value_a_field_cannot_take_is_not_filled_and_says_why(tmp_path: Path) -> None:
    form = acroform_pdf(tmp_path / "form.pdf")

    result = fill(form, field_data={"country": {"value": "Atlantis"}}).result

    assert result["fields_filled"] == [] and result["fields_not_found"] == ["country"]
    assert "cannot take 'Atlantis'" in result["metadata"]["unfillable"]["country"]


def test_the_threshold_decides_what_counts_as_a_match(tmp_path: Path) -> None:
    form = acroform_pdf(tmp_path / "form.pdf")
    data = {"applicant": {"value": "Ada", "description": "full name of the person"}}

    loose = fill(form, field_data=data, confidence_threshold="0.3").result
    strict = fill(form, field_data=data, confidence_threshold=0.99).result

    assert loose["fields_filled"] == ["applicant"]
    assert strict["fields_filled"] == [] and strict["fields_not_found"] == ["applicant"]


def test_png_output_renders_the_filled_pages(tmp_path: Path) -> None:
    form = acroform_pdf(tmp_path / "form.pdf")

    result = fill(form, field_data=PERSON, output_format="png").result

    assert result["output_format"] == "png"
    image = Image.open(io.BytesIO(base64.b64decode(result["output_base64"])))
    assert image.format == "PNG" and image.width == 1224  # letter width at 144 dpi


def test_a_pdf_without_fields_gets_the_values_next_to_its_labels(tmp_path: Path) -> None:
    form = paper_form_pdf(
        tmp_path / "paper.pdf",
        ["Employee name: ____________________   Date: ____________", "Department ___________"],
    )

    result = fill(
        form,
        field_data={
            "employee_name": {"value": "Grace Hopper"},
            "date": {"value": "1944-03-01"},
            "dept": {"value": "Navy"},
            "salary": {"value": "1"},
        },
    ).result

    assert result["metadata"]["fill_method"] == "overlay"
    assert sorted(result["fields_filled"]) == ["date", "dept", "employee_name"]
    assert result["fields_not_found"] == ["salary"]
    data = base64.b64decode(result["output_base64"])
    # Each value is written after its own label, on its line, before the next label.
    label, value, date = (_position(data, t) for t in ("Employee name", "Grace Hopper", "Date:"))
    assert label[0] < value[0] < date[0]
    assert abs(label[1] - value[1]) < 4 and abs(date[1] - _position(data, "1944-03-01")[1]) < 4
    assert _position(data, "Navy")[1] < label[1]  # on the second line, lower on the page


def test_characters_helvetica_cannot_show_are_reported(tmp_path: Path) -> None:
    form = paper_form_pdf(tmp_path / "paper.pdf", ["Name: __________"])

    result = fill(form, field_data={"name": {"value": "Ω Lovelace"}}).result

    assert result["metadata"]["characters_replaced"] == ["Ω Lovelace"]
    assert "? Lovelace" in _page_text(base64.b64decode(result["output_base64"]))


def test_nothing_matching_is_a_clear_error(tmp_path: Path) -> None:
    form = paper_form_pdf(tmp_path / "paper.pdf", ["Quarterly report", "Revenue grew"])

    with pytest.raises(ProcessingError, match="no form fields, and no label"):
        fill(form, field_data={"passport_number": {"value": "X1"}})


def test_an_image_form_is_ocred_and_filled_as_png(tmp_path: Path) -> None:
    paper = paper_form_pdf(
        tmp_path / "paper.pdf",
        ["Employee name: ______________", "Department: ___________"],
        size=14,
    )
    pdf = pdfium.PdfDocument(str(paper))
    image_path = tmp_path / "form.png"
    pdf[0].render(scale=2).to_pil().save(image_path, dpi=(144, 144))
    pdf.close()

    result = fill(
        image_path,
        field_data={"employee_name": {"value": "Grace"}, "department": {"value": "Navy"}},
    ).result

    assert result["output_format"] == "png"
    assert sorted(result["fields_filled"]) == ["department", "employee_name"]
    filled = Image.open(io.BytesIO(base64.b64decode(result["output_base64"])))
    original = Image.open(image_path).convert("RGB")
    assert filled.size == original.size
    assert filled.convert("RGB").tobytes() != original.tobytes()  # something was drawn
    assert result["metadata"]["ocr_pages"] == [0]


def test_documents_that_are_not_forms_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("Name: Ada")
    with pytest.raises(ProcessingError, match="PDFs and images"):
        fill(text, field_data={"name": {"value": "x"}})


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({}, "needs field_data"),
        ({"field_data": "{not json"}, "not valid JSON"),
        ({"field_data": {"a": {"description": "no value"}}}, "has no value"),
        ({"field_data": {"a": {"value": [1]}}}, "must be text"),
        ({"field_data": {"a": {"value": "x", "colour": "red"}}}, "'colour'"),
        ({"field_data": {"a": "x"}, "confidence_threshold": 2}, "from 0 to 1"),
        ({"field_data": {"a": "x"}, "confidence_threshold": "high"}, "from 0 to 1"),
        ({"field_data": {"a": "x"}, "matching": "psychic"}, "'matching'"),
        ({"field_data": {"a": "x"}, "output_format": "docx"}, "'output_format'"),
        ({"field_data": {"a": "x"}, "matching": "llm"}, "needs an LLM endpoint"),
        ({"field_data": {"a": "x"}, "bogus": 1, "other": 2}, "'bogus', 'other'"),
    ],
)
def test_settings_are_checked(settings: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        FillProcessor().check_settings(settings)
    assert fragment in caught.value.detail


def test_field_data_shapes() -> None:
    keys = parse_field_data({"a": {"value": 3.0, "description": "A"}, "b": True, "c": "x"})
    assert keys == (Key("a", "3", "A"), Key("b", "Yes", ""), Key("c", "x", ""))
    assert parse_threshold(None) == 0.5 and parse_threshold("0.25") == 0.25


def test_similarity_reads_names_as_words() -> None:
    assert similarity("dateOfBirth", "Date of birth:") == 1.0
    assert similarity("dob", "Date of Birth") == 1.0
    assert similarity("zip", "Postal code") == 1.0
    assert similarity("first_name", "Last name") < 0.8
    assert similarity("", "Name") == 0.0


def test_assignment_is_one_to_one_and_best_first() -> None:
    keys = [Key("name", "Ada"), Key("full_name", "Ada Lovelace")]
    targets = [Target("t0", ("Full name",), 0, "text"), Target("t1", ("Name",), 0, "text")]

    matches = assign(keys, targets, 0.5)

    assert {(m.key.key, m.target.target_id) for m in matches} == {
        ("full_name", "t0"),
        ("name", "t1"),
    }


def test_label_spots_cut_a_line_at_colons_and_blanks() -> None:
    chars = "Name: ____  Date: ___"
    pieces = [(c, (float(i * 6), 0.0, float(i * 6 + 5), 10.0)) for i, c in enumerate(chars)]
    line = make_line(0, pieces, "")
    assert line is not None

    spots = label_spots(line)

    assert [s.label for s in spots] == ["Name", "Date"]
    assert spots[0].x == chars.index("_") * 6  # over the blank
    assert spots[0].limit < chars.index("Date") * 6


class ChoosingExtractor(StructuredExtractor):
    """Answers the id of the target whose text names what the property describes."""

    name = "fake-llm"

    def __init__(self, picks: dict[str, str] | None = None, fail: bool = False) -> None:
        self.picks = picks or {}
        self.fail = fail
        self.seen: list[str] = []

    def extract(self, text: str, schema: dict[str, Any], instructions: str) -> dict[str, Any]:
        self.seen.append(text)
        if self.fail:
            raise ProcessingError("the endpoint is down", retryable=True)
        answer: dict[str, Any] = {}
        for key, label in self.picks.items():
            for line in text.splitlines():
                if label in line:
                    answer[key] = line.split("]")[0].lstrip("[")
        answer["unknown_key"] = "f999"
        return answer


def test_the_llm_matcher_picks_fields_and_lexical_matching_fills_the_rest(
    tmp_path: Path,
) -> None:
    names = {"name": "Text1", "birth": "Text2"}
    form = acroform_pdf(tmp_path / "form.pdf", names=names)
    extractor = ChoosingExtractor({"who": "Full name"})
    processor = FillProcessor(extractor)

    result = fill(
        form, processor, field_data={"who": "Ada", "dob": "1815-12-10"}, context="A library card"
    ).result

    values = field_values(base64.b64decode(result["output_base64"]))
    assert values["Text1"] == "Ada" and values["Text2"] == "1815-12-10"
    methods = {m["key"]: m["method"] for m in result["metadata"]["matches"]}
    assert methods == {"who": "llm", "dob": "lexical"}
    assert extractor.seen[0].startswith("Context: A library card")
    assert processor.version == "fill-1+fake-llm"


def test_an_llm_outage_falls_back_to_lexical_matching_unless_llm_was_required(
    tmp_path: Path,
) -> None:
    form = acroform_pdf(tmp_path / "form.pdf")
    processor = FillProcessor(ChoosingExtractor(fail=True))

    result = fill(form, processor, field_data={"dob": "1815-12-10"}).result

    assert result["fields_filled"] == ["dob"]
    assert "the endpoint is down" in result["metadata"]["llm_error"]
    with pytest.raises(ProcessingError, match="the endpoint is down"):
        fill(form, processor, field_data={"dob": "1815-12-10"}, matching="llm")


def test_offline_matching_says_the_context_was_not_used(tmp_path: Path) -> None:
    form = acroform_pdf(tmp_path / "form.pdf")

    result = fill(form, field_data={"dob": "1815"}, context="a hint").result

    assert "LLM matching only" in result["metadata"]["context"]


def _position(data: bytes, text: str) -> tuple[float, float]:
    """Where ``text`` starts on page 0: (left, bottom) in PDF points."""
    pdf = pdfium.PdfDocument(data)
    try:
        textpage = pdf[0].get_textpage()
        searcher = textpage.search(text)
        found = searcher.get_next()
        assert found is not None, f"{text!r} is not on the page"
        left, bottom, _, _ = textpage.get_charbox(found[0])
        return float(left), float(bottom)
    finally:
        pdf.close()


def _page_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        textpage = pdf[0].get_textpage()
        return str(textpage.get_text_range())
    finally:
        pdf.close()
