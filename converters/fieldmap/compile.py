"""Compiling a field map's rules into closures, once per FieldMap, so that reading a record is fast.

Everything about each rule is worked out in advance: the escaped pointer step of each source step, the target
container and pointer text, the vocabulary table. Running a record is then lookups, the conversion call and
string concatenation for the pointers; no path is split, joined or looked up in the rule's metadata per value.

Consecutive rules whose sources start with the same step descend together: the step is followed once and the
rules run, one step further along their sources, on the one node found (when it finds several, a list or a
repeated element, each rule is run in full instead). Every rule is run by the general path, which does exactly
what the rule says, the same for JSON and XML; the commonest JSON rule (one scalar to one field with a
one-argument conversion) is also a single closure that handles the plain case itself and hands anything unusual
to the general path. What a value rule does with the node it found is in `place`.
"""

from __future__ import annotations

from typing import Any

from converters.fieldmap.adapters import Adapter, JsonAdapter
from converters.fieldmap.conversions import ConversionContext
from converters.fieldmap.runners import finisher, json_value_runner, object_runner, value_runner
from converters.fieldmap.spec import Rule
from converters.fieldmap.state import EngineKinds, Env, Finish, Runner, State, is_invalid


def compile_rules(rules: tuple[Rule, ...], adapter: Adapter, ctx: ConversionContext, kinds: EngineKinds,
                  exact: dict[str, dict[str, tuple[str, ...]]]) -> Runner:
    """One closure that runs `rules` on a record (`exact`: each vocabulary's canonical values, which map to
    themselves, looked up before any wording is normalised)."""
    return _Compiler(adapter, ctx, kinds, exact).rules(rules)


class _Compiler:
    """Turns `Rule`s into closures for one adapter, vocabulary and problem catalogue.

    A rule is compiled at each `depth` it is reached from (in full, and one step shorter under each group
    above it); `depth` is how many steps of its source the groups above have already followed."""

    def __init__(self, adapter: Adapter, ctx: ConversionContext, kinds: EngineKinds,
                 exact: dict[str, dict[str, tuple[str, ...]]]) -> None:
        self.adapter = adapter
        self.json = isinstance(adapter, JsonAdapter)
        self.ctx = ctx
        self.kinds = kinds
        self.exact = exact
        # what a rule does with a node it found, compiled once however often the rule is reached
        self._applies: dict[Rule, Runner] = {}
        self._finishes: dict[Rule, Finish] = {}

    def rules(self, rules: tuple[Rule, ...], depth: int = 0) -> Runner:
        """One closure running `rules` in order on one source node (the record, one object, or the node a
        group's shared step found)."""
        keyed: list[tuple[str | None, Runner]] = []  # (the first source step left, if any; the rule or group)
        i = 0
        while i < len(rules):
            rule = rules[i]
            if len(rule.source) < depth + 2:
                keyed.append((rule.source[depth] if len(rule.source) > depth else None, self._rule(rule, depth)))
                i += 1
                continue
            first = rule.source[depth]
            j = i + 1
            while j < len(rules) and len(rules[j].source) >= depth + 2 and rules[j].source[depth] == first:
                j += 1
            keyed.append((first, self._group(rules[i:j], depth)))
            i = j
        steps = tuple(keyed)
        if not self.json:
            runners = tuple(runner for _, runner in steps)

            def run_all(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: State,
                        env: Env) -> None:
                for runner in runners:
                    runner(node, pointer, out, out_ptr, state, env)

            return run_all

        def run(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: State, env: Env) -> None:
            # JSON: a rule whose first step the object lacks (or that needs an object, on a list or a scalar)
            # finds nothing, so it is not called
            if type(node) is dict:
                for key, step in steps:
                    if key is None or key in node:
                        step(node, pointer, out, out_ptr, state, env)
            else:
                for key, step in steps:
                    if key is None:
                        step(node, pointer, out, out_ptr, state, env)

        return run

    def _group(self, rules: tuple[Rule, ...], depth: int) -> Runner:
        """Rules whose sources share the step at `depth`, run one step further on the node that step finds."""
        follow = self.adapter.path(rules[0].source[depth:depth + 1])
        inner = self.rules(rules, depth + 1)
        in_full = tuple(self._general(rule, depth) for rule in rules)

        def group(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: State, env: Env) -> None:
            found = follow(node, pointer)
            if len(found) == 1:
                child, child_ptr = found[0]
                inner(child, child_ptr, out, out_ptr, state, env)
            elif found:  # several candidates: every rule resolves its whole path
                for rule in in_full:
                    rule(node, pointer, out, out_ptr, state, env)

        return group

    def _rule(self, rule: Rule, depth: int) -> Runner:
        """A rule whose source, from `depth` on, is one step or none."""
        if self.json and len(rule.source) == depth + 1 and rule.simple is not None and not rule.append:
            exact = self.exact[rule.vocabulary] if rule.vocabulary is not None else None
            return json_value_runner(rule, depth, self._general(rule, depth), self._finish_of(rule), exact)
        return self._general(rule, depth)

    def _general(self, rule: Rule, depth: int) -> Runner:
        """A rule run as it says: every node it finds (the first only, unless it appends), minus invalid ones."""
        find = self.adapter.path(rule.source[depth:])
        apply = self._apply(rule)
        append = rule.append

        def general(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: State, env: Env) -> None:
            found = find(node, pointer)
            if not found:
                return
            invalid = env.invalid
            if invalid:
                found = [(v, p) for v, p in found if not is_invalid(p, invalid)]
                if not found:
                    return
            if append:
                for value, ptr in found:
                    apply(value, ptr, out, out_ptr, state, env)
            else:
                value, ptr = found[0]
                apply(value, ptr, out, out_ptr, state, env)

        return general

    # -- compiled once per rule --

    def _apply(self, rule: Rule) -> Runner:
        """What the rule does with one node it found (the same at every depth)."""
        found = self._applies.get(rule)
        if found is not None:
            return found
        if rule.each is not None:
            apply = object_runner(rule, self.rules(rule.each), self.kinds)
        else:
            apply = value_runner(rule, self.adapter, self.ctx, self.kinds, self._finish_of(rule))
        self._applies[rule] = apply
        return apply

    def _finish_of(self, rule: Rule) -> Finish:
        finish = self._finishes.get(rule)
        if finish is None:
            finish = self._finishes[rule] = finisher(rule, self.ctx, self.kinds, self.exact)
        return finish
