"""CDISC SDTM Trial Design Model (TS, TA, TE, TV, TI) as CSV, Dataset-JSON 1.1, XPT v5 and Define-XML 2.1: the
writer, its checks, the codecs both ways, and the CDISC CORE rule engine (`core_rules/`).

Mapping decisions and the comparison with the CDISC pilot study are in docs/sdtm-mapping.md; the mapping data
is in mappings/sdtm/.
"""

from __future__ import annotations

from converters.targets.sdtm.target import SdtmTarget
from converters.targets.sdtm.writer import SdtmWriter

__all__ = ["TARGET", "SdtmWriter"]

TARGET = SdtmTarget()
