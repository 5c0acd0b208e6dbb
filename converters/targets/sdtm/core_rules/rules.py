"""Load CDISC CORE rule files as they are and answer questions about them (status, standards, scope).

The shipped rule file (`schemas/cdisc/core-rules/core-rules-tdm.yaml`) is a list of entries, each with the
folder the rule sits in upstream (`Published`, `Deprecated`, `Unpublished`) and the rule's `rule.yml` content
unchanged under `rule`. A bare `rule.yml` (a mapping with `Core`, `Check`, ...) loads too. Nothing here
re-types a rule: `CoreRule` only gives names to the parts the runner reads and keeps the raw content.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PUBLISHED = "Published"


class RuleFileError(Exception):
    """The rule file is missing or not in the expected shape (a configuration error, not a data problem)."""


@dataclass(frozen=True)
class StandardRef:
    """One standard a rule lists under `Authorities`, with the conformance-rule ids it implements there."""

    organization: str
    name: str
    version: str
    substandard: str | None
    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """The rule's `Scope`: classes and domains included or excluded (empty means no restriction)."""

    include_classes: tuple[str, ...] = ()
    exclude_classes: tuple[str, ...] = ()
    include_domains: tuple[str, ...] = ()
    exclude_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class CoreRule:
    """One CDISC CORE rule, read from its YAML without changing it."""

    core_id: str
    folder: str
    status: str
    rule_type: str
    sensitivity: str
    executability: str
    description: str
    message: str
    output_variables: tuple[str, ...]
    standards: tuple[StandardRef, ...]
    scope: Scope
    check: Mapping[str, Any]
    operations: tuple[Mapping[str, Any], ...]
    match_datasets: tuple[Mapping[str, Any], ...]
    header_comments: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_published(self) -> bool:
        """Published upstream: in the `Published` folder (when known) and with Core status Published."""
        return self.folder in (PUBLISHED, "") and self.status == PUBLISHED

    @property
    def publication(self) -> str:
        """Where the rule stands upstream, in one word (the folder wins over the Core status it carries)."""
        return self.folder or self.status

    def lists_standard(self, name: str, version: str) -> bool:
        return any(s.name == name and s.version == version for s in self.standards)

    def conformance_ids(self, name: str | None = None, version: str | None = None) -> tuple[str, ...]:
        """The SDTMIG/FDA conformance-rule ids (e.g. CG0258, FB1102), for one standard or for all."""
        ids: dict[str, None] = {}
        for ref in self.standards:
            if name is not None and (ref.name != name or ref.version != version):
                continue
            for rule_id in ref.rule_ids:
                ids.setdefault(rule_id, None)
        return tuple(ids)

    def standard_labels(self) -> tuple[str, ...]:
        """`SDTMIG 3.4` style labels of every standard the rule lists, sorted and without repeats."""
        labels = {f"{s.name} {s.version}" for s in self.standards}
        return tuple(sorted(labels))


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value)
    return (str(value),)


def _standards(authorities: Any) -> tuple[StandardRef, ...]:
    refs: list[StandardRef] = []
    for authority in authorities or []:
        for std in authority.get("Standards") or []:
            rule_ids = tuple(
                str((ref.get("Rule Identifier") or {}).get("Id"))
                for ref in std.get("References") or []
                if (ref.get("Rule Identifier") or {}).get("Id")
            )
            refs.append(
                StandardRef(
                    organization=str(authority.get("Organization", "")),
                    name=str(std.get("Name", "")),
                    version=str(std.get("Version", "")),
                    substandard=std.get("Substandard"),
                    rule_ids=rule_ids,
                )
            )
    return tuple(refs)


def _scope(scope: Any) -> Scope:
    scope = scope or {}
    classes = scope.get("Classes") or {}
    domains = scope.get("Domains") or {}
    return Scope(
        include_classes=_strings(classes.get("Include")),
        exclude_classes=_strings(classes.get("Exclude")),
        include_domains=_strings(domains.get("Include")),
        exclude_domains=_strings(domains.get("Exclude")),
    )


def rule_from_yaml(
    content: Mapping[str, Any], *, folder: str = "", header_comments: Sequence[str] = (), core_id: str = ""
) -> CoreRule:
    """A `CoreRule` from the content of one `rule.yml` (`core_id`: the upstream folder name, for drafts
    that have no `Core.Id` yet)."""
    core = content.get("Core") or {}
    outcome = content.get("Outcome") or {}
    core_id = str(core.get("Id") or core_id)
    if not core_id or "Check" not in content:
        raise RuleFileError(f"a rule without Core.Id or Check: {sorted(content)[:6]}")
    return CoreRule(
        core_id=str(core_id),
        folder=folder,
        status=str(core.get("Status", "")),
        rule_type=str(content.get("Rule Type", "")),
        sensitivity=str(content.get("Sensitivity", "")),
        executability=str(content.get("Executability", "")),
        description=" ".join(str(content.get("Description", "")).split()),
        message=" ".join(str(outcome.get("Message", "")).split()),
        output_variables=_strings(outcome.get("Output Variables")),
        standards=_standards(content.get("Authorities")),
        scope=_scope(content.get("Scope")),
        check=content.get("Check") or {},
        operations=tuple(content.get("Operations") or ()),
        match_datasets=tuple(content.get("Match Datasets") or ()),
        header_comments=tuple(str(c) for c in header_comments),
        raw=content,
    )


def _entries(data: Any) -> Iterator[CoreRule]:
    if isinstance(data, Mapping) and "Core" in data:
        yield rule_from_yaml(data)
        return
    if not isinstance(data, list):
        raise RuleFileError("expected a list of rule entries or one rule.yml mapping")
    for entry in data:
        if not isinstance(entry, Mapping):
            raise RuleFileError("a rule entry is not a mapping")
        if "rule" in entry:
            yield rule_from_yaml(
                entry["rule"], folder=str(entry.get("folder", "")),
                header_comments=entry.get("header_comments") or (), core_id=str(entry.get("core_id") or ""),
            )
        else:
            yield rule_from_yaml(entry)


def _yaml_loader() -> type[yaml.SafeLoader]:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is 5x faster on the 0.5 MB file


def load_core_rules(path: Path) -> tuple[CoreRule, ...]:
    """Every rule in a rule file, in file order (duplicate ids are an error)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_yaml_loader())
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"cannot read CORE rule file {path}: {exc}") from exc
    rules = tuple(_entries(data))
    seen: set[str] = set()
    for rule in rules:
        if rule.core_id in seen:
            raise RuleFileError(f"rule {rule.core_id} appears twice in {path}")
        seen.add(rule.core_id)
    return rules


def iter_conditions(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every leaf condition (a mapping with `operator`) of a `Check`, depth first."""
    if isinstance(node, Mapping):
        for key in ("all", "any", "not"):
            if key in node:
                yield from iter_conditions(node[key])
        if not any(key in node for key in ("all", "any", "not")):
            yield node
    elif isinstance(node, list):
        for item in node:
            yield from iter_conditions(item)


COLUMN_COMPARATORS = frozenset({
    "is_unique_set", "is_not_unique_set", "is_unique_relationship", "is_not_unique_relationship",
})


def referenced_variables(rule: CoreRule) -> tuple[str, ...]:
    """Dataset variables a rule reads (for documentation): condition targets, comparators that are always
    variables (uniqueness operators, `DOM.VAR`, `--VAR`) and operation variables; `--` kept as is."""
    names: dict[str, None] = {}
    for cond in iter_conditions(rule.check):
        target = cond.get("name")
        if isinstance(target, str) and not target.startswith("$"):
            names.setdefault(target, None)
        value = cond.get("value")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str) or cond.get("value_is_literal"):
                continue
            if cond.get("operator") in COLUMN_COMPARATORS or "." in item or item.startswith("--"):
                names.setdefault(item, None)
    for op in rule.operations:
        if isinstance(op.get("name"), str):
            names.setdefault(f"{op['domain']}.{op['name']}" if op.get("domain") else op["name"], None)
        for var in (op.get("filter") or {}):
            names.setdefault(f"{op['domain']}.{var}" if op.get("domain") else str(var), None)
    return tuple(names)
