"""A field map's rules, checked for meaning and turned into `Rule`s.

A field map is validated twice, like linkml-map's specs: for structure by its JSON Schema
(`schemas/mapping/field-map.schema.json`, when `Resources.mapping` loads it: every key, every conversion name),
and for meaning here, against the model and the registries: every target path exists in the `Study` model (and
appends only to lists, fills only objects with `each`), every conversion is in the registry and meant for field
maps, every vocabulary exists, every `set` constant is a field of the object it fills, and a map that reads
criteria says how their section headings are worded (`criteria_headings`).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from converters.fieldmap.conversions import CONVERSIONS, FIELD_MAP, Conversion
from converters.model import Study, TextFormat
from converters.model.criteria_markdown import CriteriaHeadings
from converters.model.vocabulary import Vocabulary
from converters.resources import MappingError


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: the compiler keys its work by rule
class Rule:
    source: tuple[str, ...]
    target: tuple[str, ...]
    append: bool
    convert: Conversion | None
    convert_name: str
    parts: tuple[tuple[str, tuple[str, ...]], ...]
    options: dict[str, Any]
    vocabulary: str | None
    unknown_to: tuple[str, ...] | None
    constants: dict[str, Any]
    each: tuple[Rule, ...] | None
    required: tuple[str, ...]
    simple: Callable[[Any], Any] | None = None  # one-argument conversion when there are no parts or options
    text_format: TextFormat | None = None  # the format of the text a text-keeping conversion writes as it is


def _split_source(path: str) -> tuple[str, ...]:
    return tuple(step for step in path.strip("/").split("/") if step and step != ".")


def _split_target(path: str) -> tuple[tuple[str, ...], bool]:
    append = path.endswith("[]")
    return tuple(path.removesuffix("[]").split(".")), append


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside an annotation (`list[Arm]`, `Organization | None`) and whether it is a list."""
    origin = typing.get_origin(annotation)
    if origin is list:
        inner, _ = _model_of(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                return _model_of(arg)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _target_model(model: type[BaseModel], steps: tuple[str, ...], where: str) -> tuple[type[BaseModel] | None, bool]:
    """Check that the target path exists in the model; return the model class it ends on (if any)."""
    current: type[BaseModel] | None = model
    is_list = False
    for step in steps:
        if current is None or step not in current.model_fields:
            raise MappingError(f"{where}: target field {'.'.join(steps)!r} is not in the model")
        current, is_list = _model_of(current.model_fields[step].annotation)
    return current, is_list


def read_rules(raw_rules: list[dict[str, Any]], model: type[BaseModel], where: str) -> tuple[Rule, ...]:
    """Turn the rules of a field-map file into `Rule`s, checking every target against `model`."""
    rules: list[Rule] = []
    for raw in raw_rules:
        source_text = str(raw["from"])
        steps, append = _split_target(str(raw["to"]))
        target_model, is_list = _target_model(model, steps, where)
        if append and not is_list:
            raise MappingError(f"{where}: {raw['to']!r} appends to a field that is not a list")
        convert_name = str(raw.get("convert", "text"))
        conversion = CONVERSIONS.get(convert_name)
        if conversion is None:
            raise MappingError(f"{where}: unknown conversion {convert_name!r}")
        if FIELD_MAP not in conversion.kinds:
            raise MappingError(f"{where}: conversion {convert_name!r} is not one a field map can use")
        each = None
        required: tuple[str, ...] = ()
        if "each" in raw:
            if target_model is None:
                raise MappingError(f"{where}: {raw['to']!r} is not an object, so `each` cannot fill it")
            each = read_rules(raw["each"], target_model, f"{where} > {source_text}")
            required = tuple(n for n, f in target_model.model_fields.items() if f.is_required())
            for name in raw.get("set", {}):
                if name not in target_model.model_fields:
                    raise MappingError(f"{where}: constant {name!r} is not a field of {target_model.__name__}")
        unknown_to = None
        if "unknown_to" in raw:
            unknown_to, _ = _split_target(str(raw["unknown_to"]))
            _target_model(model, unknown_to, where)
        options = dict(raw.get("options", {}))
        text_format = TextFormat(raw["text_format"]) if "text_format" in raw else None
        if text_format is not None and not conversion.keeps_text:
            options["text_format"] = text_format.value  # the conversion reads the text in its format
            text_format = None
        simple = None
        if each is None and "with" not in raw and not options and conversion.simple is not None:
            simple = conversion.simple[0]
        rules.append(Rule(
            source=_split_source(source_text),
            target=steps,
            append=append,
            convert=None if each is not None else conversion.run,
            convert_name=convert_name,
            parts=tuple((role, _split_source(path)) for role, path in raw.get("with", {}).items()),
            options=options,
            vocabulary=raw.get("vocabulary"),
            unknown_to=unknown_to,
            constants=dict(raw.get("set", {})),
            each=each,
            required=required,
            simple=simple,
            text_format=text_format,
        ))
    return tuple(rules)


def all_rules(rules: tuple[Rule, ...]) -> Iterator[Rule]:
    """Every rule, those inside `each` included, depth first."""
    for rule in rules:
        yield rule
        if rule.each is not None:
            yield from all_rules(rule.each)



@dataclass(frozen=True)
class FieldMapSpec:
    """A field map checked for meaning: its rules, where a record starts, and why some paths stay unmapped."""

    name: str
    root: str
    rules: tuple[Rule, ...]
    unmapped_reasons: tuple[tuple[str, str], ...]  # (generic source path, reason)
    criteria_headings: CriteriaHeadings | None  # for the `criteria` conversion

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any], name: str, vocabulary: Vocabulary) -> FieldMapSpec:
        """Check the meaning of a field map's data (already checked for structure); MappingError if wrong."""
        rules = read_rules(mapping["rules"], Study, name)
        headings = CriteriaHeadings.from_mapping(mapping["criteria_headings"]) if "criteria_headings" in mapping \
            else None
        if headings is None and any(rule.convert_name in ("criteria", "ictrp_criteria") for rule in all_rules(rules)):
            raise MappingError(f"{name}: the criteria conversion needs the map's criteria_headings")
        for rule in all_rules(rules):
            if rule.vocabulary is not None:
                try:
                    vocabulary.values(rule.vocabulary)
                except KeyError:
                    raise MappingError(f"{name}: unknown vocabulary {rule.vocabulary!r}") from None
        return cls(
            name=name,
            root=str(mapping.get("root", "")),
            rules=rules,
            unmapped_reasons=tuple(
                (str(entry["path"]).rstrip("/"), str(entry["reason"])) for entry in mapping.get("unmapped", [])
            ),
            criteria_headings=headings,
        )
