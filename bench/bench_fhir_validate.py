"""Throughput of trialbridge's FHIR validator on one core (one process, no threads), and its catch rate.

    .venv/bin/python bench/bench_fhir_validate.py [--seconds 2]
    .venv/bin/python bench/bench_fhir_validate.py --mutations [--fhirjs]

Prints: validator start-up (tables loaded, nothing validated yet) for R4 and R5, the first validation
(specs and invariants prepared on demand), then resources/s for an R4 ResearchStudy shaped like the one in
shared/standards/measured-costs.md (about 5 KB: identifiers, 3 conditions, 5 keywords, a 2,048-character
description, 10 site references, 3 arms, 4 objectives, 2 related artifacts, narrative), for an R4
collection Bundle of one study with its sponsor, investigator, 10 sites, eligibility Group and
PlanDefinition (bundles/s and resources/s), for a bundle with 400 sites, for the same study in R5 shape,
and for the FHIR writer's golden bundles (tests/golden/fhir/) when they are there.

`--mutations` prints the catch rate over the mutation set of tests/validation_fhir/mutations.py (each
mutation must raise its expected code at its expected FHIRPath), by kind and version; `--fhirjs` adds
FHIR.js 4.12.0 with the official packages (any error counts as a catch) for comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.validation_fhir.mutations and tests.fhirjs (not a library import)

from converters.targets.fhir.validator import FhirValidator  # noqa: E402

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>A study</p></div>'}
NCT = {"system": "https://clinicaltrials.gov", "value": "NCT01234567"}


def r4_study() -> dict[str, Any]:
    """An R4 ResearchStudy of about 5 KB (4,770 bytes compact) with the content listed in the module docstring."""
    return {
        "resourceType": "ResearchStudy",
        "id": "nct01234567",
        "meta": {"profile": ["http://example.org/fhir/StructureDefinition/study"]},
        "text": NARRATIVE,
        "identifier": [
            {"use": "official", **NCT},
            {"use": "secondary", "system": "urn:oid:2.16.840.1.113883.3.1077", "value": "SPONSOR-001"},
        ],
        "title": "A Phase 2 Study of Something in Adults With a Condition",
        "protocol": [{"reference": "PlanDefinition/nct01234567-protocol"}],
        "status": "active",
        "primaryPurposeType": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/research-study-prim-purp-type", "code": "treatment"}]},
        "phase": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/research-study-phase",
                              "code": "phase-2"}]},
        "category": [{"text": "Interventional"}],
        "condition": [{"text": f"Condition {i}"} for i in range(3)],
        "contact": [{"name": "Study Contact", "telecom": [{"system": "email", "value": "contact@example.org"}]}],
        "keyword": [{"text": f"keyword {i}"} for i in range(5)],
        "location": [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "US"}]}],
        "description": "x" * 2048,
        "enrollment": [{"reference": "Group/nct01234567-eligibility"}],
        "period": {"start": "2020-01", "end": "2023-06-30"},
        "sponsor": {"reference": "Organization/sponsor"},
        "principalInvestigator": {"reference": "Practitioner/pi"},
        "site": [{"reference": f"Location/site-{i}"} for i in range(10)],
        "arm": [{"name": f"Arm {i}", "type": {"text": "Experimental"}, "description": "An arm"} for i in range(3)],
        "objective": [{"name": f"Objective {i}", "type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/research-study-objective-type", "code": "primary"}]}}
            for i in range(4)],
        "relatedArtifact": [
            {"type": "derived-from", "url": "https://clinicaltrials.gov/study/NCT01234567"},
            {"type": "documentation", "display": "trialbridge converter"},
        ],
    }


def r4_bundle() -> dict[str, Any]:
    study = r4_study()
    others: list[dict[str, Any]] = [
        {"resourceType": "Organization", "id": "sponsor", "text": NARRATIVE, "name": "Sponsor Inc."},
        {"resourceType": "Practitioner", "id": "pi", "text": NARRATIVE,
         "name": [{"family": "Smith", "given": ["Ann"]}]},
        {"resourceType": "Group", "id": "nct01234567-eligibility", "text": NARRATIVE, "type": "person",
         "actual": False, "characteristic": [
             {"code": {"text": "Age"}, "valueRange": {
                 "low": {"value": 18, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}},
              "exclude": False},
             {"code": {"text": "Inclusion criterion"}, "valueCodeableConcept": {"text": "Adults"},
              "exclude": False}]},
        {"resourceType": "PlanDefinition", "id": "nct01234567-protocol", "text": NARRATIVE,
         "name": "Protocol", "status": "active",
         "action": [{"title": "Screening"}, {"title": "Treatment", "timingDuration": {
             "value": 4, "unit": "wk", "system": "http://unitsofmeasure.org", "code": "wk"}}]},
    ]
    others += [
        {"resourceType": "Location", "id": f"site-{i}", "text": NARRATIVE, "name": f"Site {i}",
         "address": {"city": "Boston", "country": "US"}} for i in range(10)
    ]
    entries = [
        {"fullUrl": f"https://example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r}
        for r in [study, *others]
    ]
    return {"resourceType": "Bundle", "id": "b1", "type": "collection", "entry": entries}


def r5_study() -> dict[str, Any]:
    study = r4_study()
    for key in ("enrollment", "sponsor", "principalInvestigator", "contact", "arm", "location", "category"):
        study.pop(key)
    study["progressStatus"] = [{"state": {"coding": [{"system": "http://hl7.org/fhir/research-study-status",
                                                      "code": "active"}]}}]
    study["recruitment"] = {"targetNumber": 100, "eligibility": {"reference": "Group/g"}}
    study["associatedParty"] = [{"role": {"coding": [{"system": "http://hl7.org/fhir/research-study-party-role",
                                                      "code": "sponsor"}]}, "party": {"reference": "Organization/o"}}]
    study["comparisonGroup"] = [{"name": f"Arm {i}", "type": {"text": "Experimental"}} for i in range(3)]
    study["classifier"] = [{"text": "Interventional"}]
    study["relatedArtifact"][0] = {"type": "derived-from", "document": {"url": "https://clinicaltrials.gov/study/NCT01234567"}}
    return study


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def big_bundle(sites: int) -> dict[str, Any]:
    """The study bundle with `sites` Location entries (NCT02513394 has 437 sites)."""
    bundle = r4_bundle()
    study = bundle["entry"][0]["resource"]
    study["site"] = [{"reference": f"Location/site-{i}"} for i in range(sites)]
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Location"]
    bundle["entry"] += [
        {"fullUrl": f"https://example.org/fhir/Location/site-{i}",
         "resource": {"resourceType": "Location", "id": f"site-{i}", "text": NARRATIVE, "name": f"Site {i}",
                      "address": {"city": "Boston", "country": "US"}}}
        for i in range(sites)
    ]
    return bundle


def throughput(seconds: float) -> None:
    start = time.perf_counter()
    r4 = FhirValidator("R4")
    built = time.perf_counter() - start
    start = time.perf_counter()
    r5 = FhirValidator("R5")
    built5 = time.perf_counter() - start
    study, bundle = r4_study(), r4_bundle()
    start = time.perf_counter()
    first = r4.validate(bundle)
    first_s = time.perf_counter() - start
    assert not [p for p in first if p.severity.value in ("error", "fatal")], [p.one_line() for p in first]
    assert not r4.validate(study), [p.one_line() for p in r4.validate(study)]
    study5 = r5_study()
    assert not r5.validate(study5), [p.one_line() for p in r5.validate(study5)]
    size = len(json.dumps(study, separators=(",", ":")))
    n_entries = len(bundle["entry"]) + 1
    print(f"start-up: FhirValidator('R4') {built * 1000:.1f} ms, FhirValidator('R5') {built5 * 1000:.1f} ms; "
          f"first R4 bundle validation {first_s * 1000:.1f} ms")
    rs = rate(lambda: r4.validate(study), seconds)
    print(f"R4 ResearchStudy ({size} bytes): {rs:,.0f} resources/s ({1e6 / rs:,.0f} us each)")
    bs = rate(lambda: r4.validate(bundle), seconds)
    print(f"R4 Bundle ({n_entries} resources incl. the Bundle): {bs:,.0f} bundles/s"
          f" = {bs * n_entries:,.0f} resources/s")
    big = big_bundle(400)
    assert not [p for p in r4.validate(big) if p.severity.value in ("error", "fatal")]
    n_big = len(big["entry"]) + 1
    gs = rate(lambda: r4.validate(big), seconds)
    print(f"R4 Bundle with 400 sites ({n_big} resources): {gs:,.1f} bundles/s = {gs * n_big:,.0f} resources/s")
    r5s = rate(lambda: r5.validate(study5), seconds)
    print(f"R5 ResearchStudy: {r5s:,.0f} resources/s ({1e6 / r5s:,.0f} us each)")
    goldens = sorted((ROOT / "tests" / "golden" / "fhir").glob("*.fhir-r[45].json"))
    if goldens:
        docs = [(json.loads(p.read_text(encoding="utf-8")), r4 if p.name.endswith("-r4.json") else r5)
                for p in goldens]
        resources = sum(len(d.get("entry", [])) + 1 for d, _ in docs)
        for document, validator in docs:
            validator.validate(document)
        gr = rate(lambda: [v.validate(d) for d, v in docs], seconds)
        print(f"writer goldens ({len(docs)} bundles, {resources} resources, R4+R5): {gr * len(docs):,.0f} bundles/s"
              f" = {gr * resources:,.0f} resources/s")


def catch_rate(with_fhirjs: bool) -> None:
    from tests.validation_fhir.mutations import MUTATIONS

    validators = {"R4": FhirValidator("R4"), "R5": FhirValidator("R5")}
    caught: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    missed = []
    for mutation in MUTATIONS:
        key = (mutation.version, mutation.kind)
        total[key] += 1
        found = {(p.code, p.location.path) for p in validators[mutation.version].validate(mutation.apply())}
        if (mutation.code, mutation.path) in found:
            caught[key] += 1
        else:
            missed.append(mutation.id)
    fhirjs: Counter[tuple[str, str]] = Counter()
    if with_fhirjs:
        from tests.fhirjs import real_errors, validate_with_fhirjs

        folder = Path(tempfile.mkdtemp())
        files = {}
        for mutation in MUTATIONS:
            written = folder / f"{mutation.id}.json"
            written.write_text(json.dumps(mutation.apply()), encoding="utf-8")
            files[str(written)] = mutation
        results = validate_with_fhirjs(list(files), {p: m.version for p, m in files.items()})
        for name, messages in results.items():
            if real_errors(messages):
                fhirjs[(files[name].version, files[name].kind)] += 1
    header = f"{'version':8} {'kind':18} {'mutations':>9} {'trialbridge':>12}"
    print(header + (f" {'FHIR.js':>8}" if with_fhirjs else ""))
    for key in sorted(total):
        line = f"{key[0]:8} {key[1]:18} {total[key]:9d} {caught[key]:12d}"
        print(line + (f" {fhirjs[key]:8d}" if with_fhirjs else ""))
    all_total, all_caught = sum(total.values()), sum(caught.values())
    line = f"catch rate: trialbridge {all_caught}/{all_total} ({100 * all_caught / all_total:.0f}%)"
    if with_fhirjs:
        line += f", FHIR.js {sum(fhirjs.values())}/{all_total} ({100 * sum(fhirjs.values()) / all_total:.0f}%)"
    print(line + (f"; missed: {', '.join(missed)}" if missed else ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--mutations", action="store_true", help="print the catch rate over the mutation set")
    parser.add_argument("--fhirjs", action="store_true", help="with --mutations: compare with FHIR.js")
    args = parser.parse_args()
    if args.mutations:
        catch_rate(args.fhirjs)
    else:
        throughput(args.seconds)


if __name__ == "__main__":
    main()
