"""CDISC SDTM Trial Design Model output (TS, TA, TE, TV, TI) as CSV, Dataset-JSON 1.1, XPT v5 and Define-XML 2.1.

Mapping decisions and the comparison with the CDISC pilot study are in docs/sdtm-mapping.md; the mapping data
is in mappings/sdtm/.
"""

from __future__ import annotations

from converters.targets.base import WriterFactory
from converters.targets.sdtm.writer import SdtmWriter, make_writer

__all__ = ["WRITERS", "SdtmWriter"]

WRITERS: dict[str, WriterFactory] = {"sdtm": make_writer}
