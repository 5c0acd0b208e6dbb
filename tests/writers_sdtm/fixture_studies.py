"""Every study the SDTM writer tests can get without /work/shared: the hand-built ones, the seed-page study
goldens (tests/golden/seeds/*.study.json, written by the registry-page reader's tests) and the structured
ClinicalTrials.gov fixtures (fixtures/ctgov/**) read by whichever reader recognises them."""

from __future__ import annotations

from converters.model import Study
from converters.resources import Resources
from tests.fixture_studies import CTGOV_FIXTURES, ROOT, SEED_GOLDENS, seed_studies, structured_studies

from .studies import bare_study, observational_study, randomized_study, seed_001_study

__all__ = ["CTGOV_FIXTURES", "ROOT", "SEED_GOLDENS", "all_studies", "hand_built", "seed_studies",
           "structured_studies"]


def hand_built() -> list[tuple[str, Study]]:
    return [("hand/seed-001", seed_001_study()), ("hand/randomized", randomized_study()),
            ("hand/observational", observational_study()), ("hand/bare", bare_study())]


def all_studies(resources: Resources) -> list[tuple[str, Study]]:
    return hand_built() + seed_studies() + structured_studies(resources)
