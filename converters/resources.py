"""Find the shipped data folders (`mappings/`, `schemas/`) and load mapping files as validated data.

In a wheel the folders are packaged as `converters/_data/{mappings,schemas}`; in a source checkout
(editable install, tests) they sit at the repository root. Nothing here is global: a `Resources` object is
created once per run and passed to readers and writers, and it caches what it has loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

_PACKAGE_DIR = Path(__file__).resolve().parent


class MappingError(Exception):
    """A mapping or schema file is missing or invalid; a configuration error, not a data problem."""


def default_data_root() -> Path:
    """The folder holding `mappings/` and `schemas/`: packaged data first, then the source tree."""
    packaged = _PACKAGE_DIR / "_data"
    if (packaged / "mappings").is_dir():
        return packaged
    return _PACKAGE_DIR.parent


@dataclass
class Resources:
    """Loads and caches mapping files and schemas below one data root."""

    root: Path = field(default_factory=default_data_root)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def mappings_dir(self) -> Path:
        return self.root / "mappings"

    @property
    def schemas_dir(self) -> Path:
        return self.root / "schemas"

    def schema(self, name: str) -> dict[str, Any]:
        """A JSON schema from `schemas/` by file name (cached)."""
        key = f"schema:{name}"
        if key not in self._cache:
            path = self.schemas_dir / name
            try:
                self._cache[key] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise MappingError(f"cannot load schema {path}: {exc}") from exc
        return dict(self._cache[key])

    def mapping(self, name: str) -> dict[str, Any]:
        """A mapping file from `mappings/` (e.g. `registry_page/labels.yaml`), validated before use.

        Every mapping file has a header (`id`, `title`, `version`, `kind`, `description`) and is checked
        against `schemas/mapping/<kind>.schema.json` when one exists, else against the header schema only.
        """
        key = f"mapping:{name}"
        if key not in self._cache:
            path = self.mappings_dir / name
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise MappingError(f"cannot load mapping {path}: {exc}") from exc
            self._validate_mapping(path, data)
            self._cache[key] = data
        result: dict[str, Any] = self._cache[key]
        return result

    def _validate_mapping(self, path: Path, data: Any) -> None:
        header = self.schema("mapping/header.schema.json")
        problems = [e.message for e in jsonschema.Draft202012Validator(header).iter_errors(data)]
        if not problems:
            kind_schema = self.schemas_dir / "mapping" / f"{data['kind']}.schema.json"
            if kind_schema.is_file():
                schema = self.schema(f"mapping/{data['kind']}.schema.json")
                for err in jsonschema.Draft202012Validator(schema).iter_errors(data):
                    where = "/".join(str(p) for p in err.absolute_path)
                    problems.append(f"at /{where}: {err.message}")
        if problems:
            raise MappingError(f"mapping {path} is invalid: " + "; ".join(problems[:5]))
