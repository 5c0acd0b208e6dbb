"""Checks of every package the SDTM writer writes, each loaded once per writer.

- Dataset-JSON: the official Dataset-JSON 1.1 schema (`schemas/cdisc/dataset-json-1.1/`), compiled with
  fastjsonschema (about 0.2 ms per file against 3 ms for jsonschema). The schema declares draft 2019-09, which
  fastjsonschema does not know; it uses no keyword whose meaning differs from draft 7, so it is compiled as
  draft 7 (the tests check the same files with jsonschema's own 2019-09 validator). jsonschema-rs, on the same
  draft-7 schema and never laxer (`converters.resources.rust_accepts`), says yes first; fastjsonschema is
  compiled only for the first file Rust does not accept, and its message is the one reported.
- Define-XML: the Define-XML 2.1 XSD set (`schemas/cdisc/define-xml-2.1/`), with lxml, offline.
- CDISC CORE rules: `converters.targets.sdtm.core_rules.CoreRuleRunner` on the tables exactly as written, each
  finding reported by the policy `trialbridge validate` uses too (`findings`, mappings/sdtm/finding-severity.yaml).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lxml import etree

from converters.problem_codes import sdtm_writer as codes
from converters.problems import Location, Problem
from converters.resources import MappingError, Resources, compiled_schema, rust_accepts
from converters.targets.sdtm.findings import FindingPolicy, TsColumns, finding_reporter

if TYPE_CHECKING:  # the rule engine is imported when the first check runs, not by every run's start-up
    from pathlib import Path

    from converters.targets.sdtm.core_rules import CoreRuleRunner

DATASET_JSON_SCHEMA = "cdisc/dataset-json-1.1/dataset.schema.json"
DEFINE_XSD = "cdisc/define-xml-2.1/cdisc-define-2.1/define2-1-0.xsd"


def dataset_json_schema(resources: Resources) -> dict[str, Any]:
    """The Dataset-JSON schema declared as draft 7 (see above)."""
    schema = dict(resources.schema(DATASET_JSON_SCHEMA))
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return schema


def compile_dataset_json_schema(resources: Resources) -> Callable[[Any], Any]:
    import fastjsonschema

    return fastjsonschema.compile(dataset_json_schema(resources))


def load_define_schema(resources: Resources) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(resources.schemas_dir / DEFINE_XSD), parser))


class OutputValidators:
    """The checks of Trial Design tables, built once: by the writer for what it writes, by `trialbridge validate`
    for tables read back (`folders.validate_table_set`), so both reach one verdict. `runner`: one already built."""

    def __init__(self, resources: Resources, *, runner: CoreRuleRunner | None = None) -> None:
        self.resources = resources
        self._dataset_json_rust = compiled_schema(dataset_json_schema(resources))
        self._define = load_define_schema(resources)
        self.policy = FindingPolicy.load(resources)
        self._runner: CoreRuleRunner | None = runner
        self._runner_error: str | None = None

    @cached_property
    def _dataset_json(self) -> Callable[[Any], Any]:
        return compile_dataset_json_schema(self.resources)

    def dataset_json_error(self, doc: Mapping[str, Any]) -> str | None:
        if rust_accepts(self._dataset_json_rust, doc):
            return None
        import fastjsonschema

        try:
            self._dataset_json(doc)
        except fastjsonschema.JsonSchemaValueException as exc:
            return str(exc.message)
        return None

    def define_error(self, content: bytes, built: etree._Element | None = None) -> str | None:
        """The first XSD error of a rendered define.xml (re-parsed, so the error has its line), or None.

        `built`, the tree `content` was rendered from, is validated first: when it is valid, so is its rendering,
        which then needs no parse (a third of the check); anything else is decided on the re-parsed bytes."""
        if built is not None and self._define.validate(built):
            return None
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        try:
            document = etree.fromstring(content, parser)
        except etree.XMLSyntaxError as exc:  # a file written in pieces (`define_file_error`) could be cut short
            return f"not well-formed XML: {exc}"
        if self._define.validate(document):
            return None
        error = self._define.error_log.last_error
        return f"line {error.line}: {error.message}" if error else "invalid"

    def define_file_error(self, path: Path) -> str | None:
        """The first XSD error of a define.xml file, found while it is parsed (libxml2 validates the parser's
        events with the same schema and the same validator as a tree: the whole document is checked, identity
        constraints included), with each definition dropped once read: what is held does not grow with the file
        (beyond the validator's own table of OIDs). None when valid.

        Entities keep lxml's default (internal ones only; nothing is fetched): with `resolve_entities=False` and a
        schema, lxml 6.0's iterparse lets a file cut short pass. A root never closed is refused all the same."""
        depth, closed = 0, False
        try:
            for event, element in etree.iterparse(str(path), events=("start", "end"), schema=self._define,
                                                  no_network=True, huge_tree=True):
                if event == "start":
                    depth += 1
                    continue
                depth -= 1
                closed = depth == 0
                if depth >= 3:  # a definition below MetaDataVersion, or a reference of a value list
                    element.clear()
                    while element.getprevious() is not None:
                        del element.getparent()[0]
        except etree.XMLSyntaxError as exc:
            return str(exc) or "invalid"
        return None if closed else "the document ends before its root element is closed"

    def _rule_runner(self) -> CoreRuleRunner | None:
        if self._runner is None and self._runner_error is None:
            try:
                from converters.targets.sdtm.core_rules import CoreRuleRunner

                self._runner = CoreRuleRunner(self.resources)
            except MappingError as exc:
                self._runner_error = str(exc)
        return self._runner

    def core_rules(self, tables: Mapping[str, list[dict[str, Any]]], files: Mapping[str, str],
                   folder: str) -> list[Problem]:
        """The CORE rule report on the tables as written (findings, skipped rules, one summary)."""
        runner = self._rule_runner()
        if runner is None:
            return [codes.SDTM_RULES_UNAVAILABLE(Location(file=folder), reason=self._runner_error or "unknown")]
        report = runner.run(dict(tables), file=folder, files=dict(files))
        return report.problems(finding_reporter(self.policy, TsColumns.of_rows(tables.get("TS", []))))

    def core_rules_on_columns(self, tables: Mapping[str, Mapping[str, Sequence[Any]]], files: Mapping[str, str],
                              folder: str) -> list[Problem]:
        """`core_rules` on tables given by column (domain -> variable -> values; a table without rows has no
        variables), as the writer holds them: no record dicts to build."""
        runner = self._rule_runner()
        if runner is None:
            return [codes.SDTM_RULES_UNAVAILABLE(Location(file=folder), reason=self._runner_error or "unknown")]
        report = runner.run_frames(runner.column_frames(tables), file=folder, files=dict(files))
        return report.problems(finding_reporter(self.policy, TsColumns.of_columns(tables.get("TS", {}))))

