"""What every named conversion works with: the outcomes besides a value (`Absent`, `Rejected`), the context it
looks values up in, and its signature. Apart from `conversions` (the registry) so that conversions for one family
of sources (`ictrp`) can live in modules of their own."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from converters.model.criteria_markdown import CriteriaHeadings
from converters.model.vocabulary import IdentifierSystems, Vocabulary


@dataclass(frozen=True, slots=True)
class Absent:
    """The source value was read and means "nothing to record" (e.g. an XML age of "N/A" = no limit)."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class Rejected:
    """The source value could not be used; it stays unmapped with this reason and a problem is reported."""

    reason: str


@dataclass(frozen=True)
class ValueWordings:
    """How free text writes enrollment counts and age ranges (`value_wordings` in the page layouts), compiled."""

    enrollment: re.Pattern[str]  # groups: count, type (a word looked up in `enrollment_type_vocabulary`)
    enrollment_type_vocabulary: str
    range_split: re.Pattern[str]  # between the two ages of a range
    minimum_only: re.Pattern[str]  # groups: age or age2
    maximum_only: re.Pattern[str]  # groups: age or age2
    unit_suffix: re.Pattern[str]  # group: age ("5 years old" -> "5 years")


@dataclass(frozen=True, slots=True)
class ConversionContext:
    """What conversions look values up in, built once per reader."""

    vocabulary: Vocabulary
    identifiers: IdentifierSystems
    local_vocabulary: Vocabulary | None = None  # the mapping file's own vocabularies, looked up first
    wordings: ValueWordings | None = None  # how free text writes counts and age ranges (page layouts)
    criteria_headings: CriteriaHeadings | None = None  # the words of criteria section headings (a field map's)

    def lookup_one(self, vocabulary: str, wording: str) -> str | None:
        """The coded value of a wording: in the mapping's own vocabularies when they have this one, else in the
        shared ones; None when it is unknown (or no vocabulary has that name)."""
        for source in (self.local_vocabulary, self.vocabulary):
            if source is not None:
                try:
                    return source.lookup_one(vocabulary, wording)
                except KeyError:
                    continue  # not a vocabulary of this source
        return None


Parts = dict[str, Any]
Conversion = Callable[[Parts, dict[str, Any], ConversionContext], Any]
