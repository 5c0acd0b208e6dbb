"""CommonMark source text: plain text wherever the target is plain text, valid CommonMark where FHIR types it
`markdown`, and no Markdown escape left in any output of any fixture (issue 10, item 5)."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from converters.model import (
    Arm,
    CriteriaSection,
    Criterion,
    Design,
    Eligibility,
    Identifier,
    IdentifierKind,
    Intervention,
    SourceInfo,
    Study,
    TextFormat,
    Titles,
)
from converters.model.criteria_markdown import iter_items, parse_criteria
from converters.model.text import (
    as_commonmark,
    blocks_to_plain,
    escape_markdown,
    markdown_to_plain,
    parse_markdown,
    plain_text_view,
    text_format_at,
)
from converters.pipeline import ConvertOptions, convert
from converters.resources import Resources
from converters.targets.base import WriterConfig
from converters.targets.fhir import FhirMaps, build_bundle
from converters.targets.sdtm import SdtmWriter
from tests.conftest import FIXTURES, ROOT
from tests.readers_ctgov.helpers import CTGOV_HEADINGS, file_document, read

MD = TextFormat.MARKDOWN
ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")
SHA = "0" * 63 + "2"


def _tool() -> ModuleType:
    path = ROOT / "tools" / "count_markdown_escapes.py"
    spec = importlib.util.spec_from_file_location("count_markdown_escapes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- the conversions -------------------------------------------------------------------------------------


def test_markdown_to_plain_resolves_escapes_and_markup() -> None:
    assert markdown_to_plain("1×10\\^5 cells/Kg") == "1×10^5 cells/Kg"
    assert markdown_to_plain("Creatinine \\<1.5×ULN, SLEDAI \\>6, \\[ELISA\\], 5\\. item, \\~1") == \
        "Creatinine <1.5×ULN, SLEDAI >6, [ELISA], 5. item, ~1"
    assert markdown_to_plain("**Key** _inclusion_ `code \\> x` &amp; &lt;") == "Key inclusion code \\> x & <"
    assert markdown_to_plain("See [the protocol](https://example.org/p) or <https://example.org>") == \
        "See the protocol (https://example.org/p) or https://example.org"
    assert markdown_to_plain("Intro:\n\n* one \\> 1\n* two\n  1. nested\n  2. more\n\n<!-- -->\n\nEnd") == \
        "Intro:\n\n* one > 1\n* two\n  1. nested\n  2. more\n\nEnd"


def test_plain_text_escaped_for_commonmark_reads_literally() -> None:
    text = "Dose *not* [fixed] <yet> & 2_000_\n1. first\n# not a heading\n    - not code\n\n\\ back"
    markdown = as_commonmark(text, TextFormat.PLAIN)
    assert markdown == ("Dose \\*not\\* \\[fixed\\] \\<yet> \\& 2_000\\_\\\n1\\. first\\\n\\# not a heading\\\n"
                        "\\- not code\n\n\\\\ back")
    assert markdown_to_plain(markdown) == "Dose *not* [fixed] <yet> & 2_000_\n1. first\n# not a heading\n" \
                                          "- not code\n\n\\ back"
    assert as_commonmark(" **as written** \\> ", MD) == "**as written** \\>"


PLAIN_TEXT = st.text(alphabet=st.sampled_from(list("ab1 .\n\t-+*_`[]()<>!#&\\=~|:;xé")), max_size=40)


def _normalised(text: str) -> str:
    """What plain text keeps through CommonMark: lines (leading/trailing blanks dropped) and paragraphs."""
    paragraphs = re.split(r"\n[ \t]*\n", text)
    kept = ["\n".join(line.strip() for line in p.split("\n") if line.strip()) for p in paragraphs]
    return "\n\n".join(p for p in kept if p)


@settings(max_examples=300, deadline=None)
@example("1) a\n==\n- b")
@example("a\\\nb")
@given(PLAIN_TEXT)
def test_escaped_plain_text_round_trips(text: str) -> None:
    assert markdown_to_plain(escape_markdown(text)) == _normalised(text)


@settings(max_examples=300, deadline=None)
@given(PLAIN_TEXT)
def test_literal_shortcut_gives_what_the_parser_gives(text: str) -> None:
    assert markdown_to_plain(text) == blocks_to_plain(parse_markdown(text).children)


MARKUP_FREE_TEXT = st.lists(st.sampled_from(["a", "b c", " ", "    ", "\n", "\n\n", " \n", "1.", "2)", "12345678901.",
                                              "-", "+", "x-y", "\u00a0", "\t", "\f", "é", ":", "$", "(", "'"]),
                            max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@example("a\n\n    b")
@example("a\n    b  \nc ")
@example(" 1. a")
@given(MARKUP_FREE_TEXT)
def test_paragraph_shortcut_gives_what_the_parser_gives(text: str) -> None:
    """Texts without markup characters (most summaries) are read as paragraphs without the parser."""
    assert markdown_to_plain.__wrapped__(text) == blocks_to_plain(parse_markdown.__wrapped__(text).children)


def test_text_format_rule() -> None:
    formats = {"/arms": MD, "/arms/1/label": TextFormat.PLAIN}
    assert text_format_at(formats, "/arms/0/description") is MD
    assert text_format_at(formats, "/arms/1/label") is TextFormat.PLAIN
    assert text_format_at(formats, "/armsx") is TextFormat.PLAIN
    assert text_format_at({}, "/brief_summary") is TextFormat.PLAIN


# --- criteria ---------------------------------------------------------------------------------------------


def test_criteria_parser_reads_nested_markdown_lists_with_escapes() -> None:
    text = ("**Inclusion Criteria:**\n\n* Age \\>= 18\n* Laboratory values:\n\n  * ANC ≥1.0×10\\^9/L\n"
            "  * Creatinine \\<1.5 × ULN\n\n    1. or clearance \\> 60 mL/min\n\n* Consent\n\n"
            "Cohort A:\n\n1. Prior _CAR-T_ therapy\n\n<!-- -->\n\n1. Other\n\n"
            "### Exclusion Criteria\n\n* Pregnancy\n")
    inclusion, exclusion = parse_criteria(text, CTGOV_HEADINGS, MD)
    assert (inclusion.category, inclusion.heading) == ("inclusion", "Inclusion Criteria:")
    (age, labs, consent, cohort) = inclusion.items
    assert (age.marker, age.text) == ("*", "Age >= 18")
    assert [c.text for c in labs.children] == ["ANC ≥1.0×10^9/L", "Creatinine <1.5 × ULN"]
    assert [(c.marker, c.text) for c in labs.children[1].children] == [("1.", "or clearance > 60 mL/min")]
    assert consent.text == "Consent"
    assert cohort.heading and cohort.text == "Cohort A:"
    assert [(c.marker, c.text) for c in cohort.children] == [("1.", "Prior CAR-T therapy"), ("1.", "Other")]
    assert (exclusion.category, [i.text for i in exclusion.items]) == ("exclusion", ["Pregnancy"])
    for item in iter_items(inclusion.items + exclusion.items):
        assert not ESCAPE.search(item.text)
        assert item.span is not None
        source = text[item.span[0]:item.span[1]]
        assert markdown_to_plain(source) == item.text, "the span is the item's own source text"


def test_legacy_plain_criteria_keep_their_backslashes_and_line_reading() -> None:
    [section] = parse_criteria("Inclusion Criteria:\n\n  -  path C:\\> 2\n     wrapped\n", CTGOV_HEADINGS)
    assert [(i.marker, i.text, i.span) for i in section.items] == [("-", "path C:\\> 2\n     wrapped", None)]


@pytest.fixture(scope="module")
def v2_study(resources: Resources) -> Study:
    _, outcomes = read(file_document(FIXTURES / "ctgov" / "v2" / "NCT05809934.json"), resources)
    assert outcomes[0].study is not None
    return outcomes[0].study


def test_ctgov_v2_markup_fields_are_recorded_as_markdown(v2_study: Study) -> None:
    formats = v2_study.source.text_formats
    assert formats["/brief_summary"] is MD and formats["/eligibility/criteria_text"] is MD
    assert formats["/arms/0/description"] is MD and formats["/outcomes/0/description"] is MD
    assert "/titles/brief" not in formats and "/eligibility/criteria" not in formats, "plain text fields"
    texts = [i.text for s in v2_study.eligibility.criteria for i in iter_items(s.items)]
    assert any("< 40 mL/min" in t for t in texts) and not any(ESCAPE.search(t) for t in texts)
    assert "\\< 40 mL/min" in (v2_study.eligibility.criteria_text or ""), "the source text stays as written"


def test_mirror_page_layout_declares_markdown(resources: Resources) -> None:
    _, outcomes = read(file_document(FIXTURES / "seeds" / "001_f387f9769c9c7516.txt"), resources)
    study = outcomes[0].study
    assert study is not None and study.source.layout == "ctgov-mirror"
    assert text_format_at(study.source.text_formats, "/interventions/0/dosing/0") is MD
    assert plain_text_view(study).interventions[0].dosing[0] == "1×10^5 cells/Kg"
    assert study.interventions[0].dosing[0] == "1×10\\^5 cells/Kg", "the model keeps the page's text"


# --- writers: one test per kind of target -----------------------------------------------------------------


def markdown_study() -> Study:
    """A study whose texts a ClinicalTrials.gov mirror page gave as Markdown (every field)."""
    criteria = [CriteriaSection(category="inclusion", heading="Inclusion Criteria", items=[
        Criterion(text="Platelets ≥50×10\\^9/L;", marker="3."),
        Criterion(text="Creatinine \\<1.5×ULN", marker="7."),
    ])]
    fields = ("identifiers", "titles", "brief_summary", "detailed_description", "design", "arms", "interventions",
              "eligibility")
    return Study(
        source=SourceInfo(file="mirror.txt", format="registry-page", layout="ctgov-mirror", sha256=SHA,
                          text_formats={f"/{name}": MD for name in fields}),
        identifiers=[Identifier(value="NCT06420154", kind=IdentifierKind.REGISTRY, registry="nct")],
        titles=Titles(brief="CAR-T 1×10\\^5 cells/Kg in \\<65 year olds",
                      official="Anti-CD19 CAR-T \\[phase 1\\] in autoimmune disease"),
        brief_summary="A **first-in-human** study:\n\n* dose 1×10\\^5 cells/Kg\n* dose 3×10\\^5 cells/Kg",
        detailed_description="Cells are given once \\(day 0\\).",
        design=Design(study_type="INTERVENTIONAL", bio_spec_description="Whole blood \\<5 mL"),
        arms=[Arm(label="Treatment group", type="EXPERIMENTAL", description="Infusion of 1×10\\^5 cells/Kg",
                  intervention_names=["anti-CD19-CAR-T cells"])],
        interventions=[Intervention(name="anti-CD19-CAR-T cells", type="BIOLOGICAL",
                                    description="A single infusion of CAR-T cells.",
                                    arm_group_labels=["Treatment group"],
                                    dosing=["2\\*10\\^6 cells/Kg; 1×10\\^5 cells/Kg"],
                                    frequency="single infusion")],
        eligibility=Eligibility(criteria=criteria, sex="ALL"),
    )


def _bundle(resources: Resources, study: Study, version: str) -> dict[str, Any]:
    return build_bundle(study, FhirMaps.load(resources, version), resources).bundle  # type: ignore[arg-type]


def _resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def test_fhir_string_elements_hold_plain_text(resources: Resources) -> None:
    for version in ("R4", "R5"):
        bundle = _bundle(resources, markdown_study(), version)
        research = _resource(bundle, "ResearchStudy")
        assert research["title"] == "CAR-T 1×10^5 cells/Kg in <65 year olds"
        group = _resource(bundle, "Group")
        texts = [c["code"]["text"] for c in group["characteristic"] if "extension" in c]
        assert texts == ["Platelets ≥50×10^9/L;", "Creatinine <1.5×ULN"]
        criterion = group["characteristic"][-1]["extension"][0]["extension"][0]
        assert criterion == {"url": "text", "valueString": "Creatinine <1.5×ULN"}
    r4 = _resource(_bundle(resources, markdown_study(), "R4"), "ResearchStudy")
    assert r4["arm"][0]["description"] == "Infusion of 1×10^5 cells/Kg", "R4 arm.description is a string"


def test_fhir_markdown_elements_hold_commonmark(resources: Resources) -> None:
    study = markdown_study()
    r5 = _resource(_bundle(resources, study, "R5"), "ResearchStudy")
    assert r5["descriptionSummary"] == study.brief_summary, "the source's CommonMark, as written"
    assert r5["description"] == "Cells are given once \\(day 0\\)."
    assert r5["comparisonGroup"][0]["description"] == "Infusion of 1×10\\^5 cells/Kg"
    r4 = _resource(_bundle(resources, study, "R4"), "ResearchStudy")
    assert r4["description"] == f"{study.brief_summary}\n\n{study.detailed_description}"
    plain = study.model_copy(update={"source": study.source.model_copy(update={"text_formats": {}}),
                                     "detailed_description": "Dose *not* fixed: <see> [1]"})
    r5_plain = _resource(_bundle(resources, plain, "R5"), "ResearchStudy")
    assert r5_plain["description"] == "Dose \\*not\\* fixed: \\<see> \\[1\\]", "plain text escaped"
    assert markdown_to_plain(r5_plain["description"]) == "Dose *not* fixed: <see> [1]"


def test_narratives_hold_plain_text(resources: Resources) -> None:
    for version in ("R4", "R5"):
        bundle = _bundle(resources, markdown_study(), version)
        for entry in bundle["entry"]:
            div = entry["resource"]["text"]["div"]
            assert not ESCAPE.search(div.replace("&lt;", "<").replace("&gt;", ">")), entry["resource"]["id"]
        group_div = _resource(bundle, "Group")["text"]["div"]
        assert "Platelets ≥50×10^9/L;" in group_div and "Creatinine &lt;1.5×ULN" in group_div


def test_plan_definition_doses(resources: Resources) -> None:
    r4 = _resource(_bundle(resources, markdown_study(), "R4"), "PlanDefinition")
    doses = [a["description"] for step in r4["action"] for a in step.get("action", []) if "DOSE" in a["id"]]
    assert doses == ["2*10^6 cells/Kg", "1×10^5 cells/Kg"], "R4 action.description is a string"
    r5 = _resource(_bundle(resources, markdown_study(), "R5"), "PlanDefinition")
    doses = [a["description"] for step in r5["action"] for a in step.get("action", []) if "DOSE" in a["id"]]
    assert doses == ["2\\*10^6 cells/Kg", "1×10^5 cells/Kg"], "R5 action.description is markdown"
    assert [markdown_to_plain(d) for d in doses] == ["2*10^6 cells/Kg", "1×10^5 cells/Kg"]


def test_sdtm_values_are_plain_text(resources: Resources, tmp_path: Path) -> None:
    writer = SdtmWriter(WriterConfig(resources=resources))
    result = writer.write_study(markdown_study(), tmp_path)
    assert result.files
    with (tmp_path / "sdtm" / "csv" / "ti.csv").open(encoding="utf-8", newline="") as handle:
        tests = [row["IETEST"] for row in csv.DictReader(handle)]
    assert tests == ["Platelets ≥50×10^9/L;", "Creatinine <1.5×ULN"]
    with (tmp_path / "sdtm" / "csv" / "ts.csv").open(encoding="utf-8", newline="") as handle:
        values = {row["TSPARMCD"]: row["TSVAL"] for row in csv.DictReader(handle)}
    assert values["TITLE"] == "Anti-CD19 CAR-T [phase 1] in autoimmune disease"
    assert "Whole blood <5 mL" in values.values()
    for path in (tmp_path / "sdtm").rglob("*"):
        if path.suffix in (".csv", ".json", ".xml"):
            assert not ESCAPE.search(path.read_text(encoding="utf-8").replace("\\\\", "")), path


# --- every fixture, every target --------------------------------------------------------------------------


def test_no_markdown_escape_left_in_any_output_of_any_fixture(resources: Resources, tmp_path: Path) -> None:
    inputs = [FIXTURES / "seeds", FIXTURES / "ctgov" / "v2", FIXTURES / "ctgov" / "xml"]
    options = ConvertOptions(out_dir=tmp_path, targets=("fhir-r4", "fhir-r5", "sdtm"), validate_outputs=False)
    report = convert(inputs, options, resources)
    assert report.studies_written() >= 80
    tool = _tool()
    counts = tool.count_escapes(tmp_path, resources)
    assert counts.total == 0, counts.found[:10]
    # not vacuous: the sources had escapes, and FHIR markdown elements keep them as valid CommonMark
    declared = tool.declared_formats(resources)
    escapes = [tool.source_escapes(json.loads(path.read_text(encoding="utf-8")), declared)
               for path in tmp_path.rglob("study.json")]
    assert sum(1 for found in escapes if found) >= 20
