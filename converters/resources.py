"""Find the shipped data folders (`mappings/`, `schemas/`, `fhir-package/`) and load mapping files as validated data.

In a wheel the folders are packaged as `converters/_data/{mappings,schemas}`; in a source checkout
(editable install, tests) they sit at the repository root. Nothing here is global: a `Resources` object is
created once per run and passed to readers and writers, and it caches what it has loaded. The one thing shared
across runs in a process is each schema compiled by jsonschema-rs (`_compiled_schema`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

import jsonschema_rs
import orjson
import yaml

# libyaml's loader when PyYAML was built with it: the same data as the pure-Python SafeLoader, about 8x faster
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PACKAGE_DIR = Path(__file__).resolve().parent

T = TypeVar("T")


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

    @property
    def fhir_packages_dir(self) -> Path:
        """The project's own FHIR packages, one folder per FHIR version (`fhir-package/`, built by
        tools/build_fhir_package.py), for validators that load definitions from NPM-style packages."""
        return self.root / "fhir-package"

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
                data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
            except (OSError, yaml.YAMLError) as exc:
                raise MappingError(f"cannot load mapping {path}: {exc}") from exc
            self._validate_mapping(path, data)
            self._cache[key] = data
        result: dict[str, Any] = self._cache[key]
        return result

    def derived(self, name: str, build: Callable[[Resources], T]) -> T:
        """What `build` makes from these resources (a table compiled from a mapping file), made on first use and
        kept with them under `name`, so a run builds it once however many files need it."""
        key = f"derived:{name}"
        if key not in self._cache:
            self._cache[key] = build(self)
        return cast(T, self._cache[key])

    def _validate_mapping(self, path: Path, data: Any) -> None:
        header = self.schema("mapping/header.schema.json")
        problems = [] if rust_accepts(compiled_schema(header), data) else _schema_problems(header, data)
        if not problems:
            name = f"mapping/{data['kind']}.schema.json"
            if (self.schemas_dir / name).is_file():
                schema = self.schema(name)
                if not rust_accepts(compiled_schema(schema), data):
                    problems = [f"at /{where}: {message}" for where, message in _schema_errors(schema, data)]
        if problems:
            raise MappingError(f"mapping {path} is invalid: " + "; ".join(problems[:5]))


def compiled_schema(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """`schema` compiled by jsonschema-rs (formats not asserted, as jsonschema does by default)."""
    return _compiled_schema(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS).decode("utf-8"))


@cache
def _compiled_schema(schema_text: str) -> jsonschema_rs.Validator:
    """A per-process cache of compiled schemas, so a run (or a worker) compiles each schema once."""
    return jsonschema_rs.validator_for(json.loads(schema_text), validate_formats=False)


# Characters Python's `\s` takes for space and jsonschema-rs's (ECMA-262) does not, as orjson writes them (C0
# controls escaped, U+0085 as its UTF-8 bytes); a string holding a backslash then "u001c" also matches, which
# only costs the slower check.
_PYTHON_ONLY_SPACE = (b"\\u001c", b"\\u001d", b"\\u001e", b"\\u001f", b"\xc2\x85")


def _has_python_only_space(dumped: bytes) -> bool:
    """Whether orjson's bytes hold one of `_PYTHON_ONLY_SPACE`, found by substring searches at C speed (a regex scan
    of the whole document cost more than validating it); most documents have no escaped control at all."""
    if b"\xc2\x85" in dumped:
        return True
    return b"\\u001" in dumped and any(space in dumped for space in _PYTHON_ONLY_SPACE[:4])


def rust_accepts(validator: jsonschema_rs.Validator, data: Any) -> bool:
    r"""Whether jsonschema-rs finds `data` valid: the fast yes before the pure-Python jsonschema names problems.

    Never laxer than jsonschema when it says yes: what Rust cannot hold (a NaN, a YAML date, a non-string key, an
    integer past 64 bits) and data with a character where Python's and ECMA's `\s` differ get False, so Python
    decides; elsewhere Rust matches patterns as Python does or more strictly (ASCII `\d`, `$` only at the very end,
    `.` not matching CR).
    """
    try:
        if _has_python_only_space(orjson.dumps(data)):
            return False
        return bool(validator.is_valid(data))
    except (TypeError, ValueError):
        return False


def _schema_problems(schema: dict[str, Any], data: Any) -> list[str]:
    return [message for _, message in _schema_errors(schema, data)]


def _schema_errors(schema: dict[str, Any], data: Any) -> list[tuple[str, str]]:
    """(path, message) of each error as pure-Python jsonschema words it: loaded only for a file found bad."""
    import jsonschema

    return [("/".join(str(p) for p in err.absolute_path), err.message)
            for err in jsonschema.Draft202012Validator(schema).iter_errors(data)]
