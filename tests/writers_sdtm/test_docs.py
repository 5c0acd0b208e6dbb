"""docs/sdtm-mapping.md stays in step with the mapping files it documents."""

from __future__ import annotations

import re

from converters.targets.sdtm.spec import SdtmSpec
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "sdtm-mapping.md").read_text(encoding="utf-8")


def test_every_ts_parameter_is_in_the_table_with_its_name(spec: SdtmSpec) -> None:
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| ([A-Z0-9]{2,8}) \| ([^|]+) \|", DOC, re.MULTILINE)}
    for p in spec.parameters:
        assert rows.get(p.code, "").strip() == p.name, p.code


def test_the_documented_versions_are_the_configured_ones(spec: SdtmSpec) -> None:
    assert f"package **{spec.terminology.package.date}**" in DOC
    assert f"SDTMIG **{spec.settings.sdtmig_version}**" in DOC
    assert spec.settings.fallback_creation_datetime in DOC
