"""The `sdtm` target: Trial Design tables per study or concatenated (see `writer`); `trialbridge validate` takes
a folder holding Trial Design tables for this target's and rule-checks every set of tables in it (`folders`)."""

from __future__ import annotations

from collections.abc import Mapping

from converters.problems import Problem
from converters.targets.base import PathProbe, ValidateConfig, WriterFactory
from converters.targets.sdtm.folders import is_tdm_folder, validate_tdm_folder
from converters.targets.sdtm.writer import invalid_options, make_writer


class SdtmTarget:
    name = "sdtm"
    validated_as = "sdtm-tdm"

    def __init__(self) -> None:
        self.writers: Mapping[str, WriterFactory] = {"sdtm": make_writer}

    def usage_errors(self, options: Mapping[str, str]) -> list[str]:
        """SDTM options the writer cannot use (`--sdtm-formats pdf`): refused before any file is converted."""
        return [f"--{option.replace('_', '-')} {value!r} is not valid: {reason}"
                for option, value, reason in invalid_options(options)]

    def claims(self, probe: PathProbe) -> float:
        return 1.0 if is_tdm_folder(probe.path) else 0.0

    def validate(self, probe: PathProbe, config: ValidateConfig) -> list[Problem]:
        return validate_tdm_folder(probe.path, config.resources)
