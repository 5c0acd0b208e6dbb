"""Shared vocabularies and identifier systems are data; lookups never guess."""

from __future__ import annotations

import yaml

from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.resources import Resources
from tests.conftest import ROOT


def test_vocabulary_values_are_the_ctgov_v2_enums(resources: Resources) -> None:
    spec = yaml.safe_load((ROOT / "fixtures" / "ctgov" / "openapi" / "ctg-oas-v2.yaml").read_text())
    enums = spec["components"]["schemas"]
    vocab = Vocabulary(resources)
    for name in ("Status", "Phase", "StudyType", "DesignAllocation", "InterventionalAssignment",
                 "PrimaryPurpose", "DesignMasking", "Sex", "ArmGroupType", "InterventionType",
                 "RecruitmentStatus", "OfficialRole", "ContactRole", "ResponsiblePartyType", "AgencyClass"):
        assert set(vocab.values(name)) == set(enums[name]["enum"]), name


def test_wordings(resources: Resources) -> None:
    vocab = Vocabulary(resources)
    assert vocab.lookup("Status", "Not yet recruiting") == ("NOT_YET_RECRUITING",)
    assert vocab.lookup("Status", "Active, not recruiting") == ("ACTIVE_NOT_RECRUITING",)
    assert vocab.lookup("Phase", "Phase 1/Phase 2") == ("PHASE1", "PHASE2")
    assert vocab.lookup("Status", "Ongoing-ish") is None


def test_identifier_systems(resources: Resources) -> None:
    systems = IdentifierSystems(resources)
    assert systems.classify("NCT06420154") == "nct"
    assert systems.system("nct") == "https://clinicaltrials.gov"
    assert systems.classify("2014-005181-30") == "eudract"
    assert systems.classify("ISRCTN12345678") == "isrctn"
    assert systems.classify("CD19-CN-A4") is None
    assert systems.classify("NCT0642015") is None
