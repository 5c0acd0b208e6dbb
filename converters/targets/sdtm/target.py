"""The `sdtm` target: Trial Design tables per study or concatenated (see `writer`). `trialbridge validate` takes a
folder holding one set of Trial Design tables (in it or in its csv/json/xpt subfolders, with its define.xml) for
this target's, and checks it as the writer checks what it writes (`folders.validate_table_set`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from converters.problems import Problem
from converters.targets.base import PathProbe, ValidateConfig, WriterFactory
from converters.targets.sdtm.checks import OutputValidators
from converters.targets.sdtm.folders import is_table_set_root, table_set_paths, validate_table_set
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
        return 1.0 if is_table_set_root(probe.path) else 0.0

    def covers(self, probe: PathProbe) -> frozenset[Path]:
        return table_set_paths(probe.path)

    def companion(self, probe: PathProbe) -> str | None:
        return None

    def validate(self, probe: PathProbe, config: ValidateConfig) -> list[Problem]:
        validators = config.built("sdtm-validators", lambda: OutputValidators(config.resources))
        return validate_table_set(probe.path, validators)
