"""The closures a compiled rule is made of: what it does with a node it found.

A value rule gathers the value(s), converts them, looks them up in a vocabulary and places them; an object rule
builds an object from its `each` rules; the commonest JSON rule does all of it in one closure. Each function here
builds a closure once per rule (see `compile`); the closures run per value, so everything they need is worked
out in advance and bound as a free variable.
"""

from __future__ import annotations

import itertools
from typing import Any

from converters.fieldmap.adapters import MISSING, Adapter, escape
from converters.fieldmap.conversions import SIMPLE_CONVERSIONS, Absent, ConversionContext, Parts, Rejected
from converters.fieldmap.spec import Rule
from converters.fieldmap.state import (
    NOTHING_RECORDED,
    SAME,
    STRUCTURE,
    EngineKinds,
    Env,
    Finish,
    Gather,
    Placer,
    Runner,
    State,
    container_at,
    container_getter,
    is_invalid,
    peeker,
    reject,
)


def json_value_runner(rule: Rule, depth: int, general: Runner, finish: Finish,
                      exact: dict[str, tuple[str, ...]] | None) -> Runner:
    """One JSON scalar to one field with a one-argument conversion.

    It handles the plain case itself (a scalar that converts, an empty target, a vocabulary's canonical
    value) and hands anything else (a list, a rejected or unknown value, a filled target) on, to the general
    path (`general`) or to `finish`, which then do exactly what they always do. `exact`: the canonical values of
    the rule's vocabulary, if it has one."""
    simple = rule.simple
    assert simple is not None
    same_type = SIMPLE_CONVERSIONS[rule.convert_name][1]
    step = rule.source[depth]
    sep = "/" + escape(step)
    target = rule.target
    key = target[-1]
    text = "/" + "/".join(target)
    depth_out = len(target) - 1
    first = target[0]
    holder = target[:-1]

    def value_rule(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: State,
                   env: Env) -> None:
        if type(node) is not dict:
            return
        value = node.get(step, MISSING)
        if value is MISSING:
            return
        kind = type(value)
        if kind is list:
            general(node, pointer, out, out_ptr, state, env)
            return
        ptr = pointer + sep
        invalid = env.invalid
        if invalid and is_invalid(ptr, invalid):
            return
        if kind is same_type:
            result = value
        else:
            result = STRUCTURE if kind is dict else simple(value)
            if exact is None and isinstance(result, Rejected | Absent):
                finish(result, [ptr], ptr, out, out_ptr, state, env)
                return
        if exact is not None:
            hit = exact.get(result) if type(result) is str else None
            if hit is None:
                finish(result, [ptr], ptr, out, out_ptr, state, env)
                return
            result = hit[0]
        parent: dict[str, Any] | None
        if depth_out == 0:
            parent = out
        elif depth_out == 1:
            parent = out.get(first)
            if parent is None:
                parent = out[first] = {}
        else:
            parent = container_at(out, holder)
        if key in parent:
            finish(result, [ptr], ptr, out, out_ptr, state, env)
            return
        parent[key] = result
        state.provenance[out_ptr + text] = ptr
        state.consumed.add(ptr)

    return value_rule


def object_runner(rule: Rule, run_each: Runner, kinds: EngineKinds) -> Runner:
    """An object rule (`each:`): the object is built by `run_each` from the node found, and kept (appended, or
    set when the field is empty) only when something in it was usable and the fields the model requires are there;
    otherwise what was read is listed unmapped with the reason."""
    target, append, constants, required = rule.target, rule.append, rule.constants, rule.required
    key = target[-1]
    target_text = "/" + "/".join(target)
    target_name = ".".join(target)
    already = f"{target_name} was already filled from another field"
    constant_suffixes = tuple("/" + name for name in constants)
    top = len(target) == 1  # a field of the object being filled itself (the commonest case)
    container = container_getter(target[:-1])
    peek = peeker(target)
    dropped = kinds.dropped_object

    def apply(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: State, env: Env) -> None:
        existing = out.get(key) if top else peek(out)
        if append:
            target_ptr = f"{out_ptr}{target_text}/{len(existing) if isinstance(existing, list) else 0}"
        elif existing is not None:
            state.rejected.setdefault(pointer, already)
            return
        else:
            target_ptr = out_ptr + target_text
        obj: dict[str, Any] = dict(constants) if constants else {}
        sub = State()
        run_each(node, pointer, obj, target_ptr, sub, env)
        if not sub.consumed:
            state.merge(sub)
            return  # nothing in the source object was usable (or it was empty): nothing to create
        if required:
            missing = [name for name in required if name not in obj]
            if missing:
                state.problems.extend(sub.problems)
                state.rejected.update(sub.rejected)
                reason = f"no {', '.join(missing)} for {target_name}"
                state.rejected.setdefault(pointer, reason)
                for read in itertools.chain(sub.consumed, sub.absent):
                    state.rejected.setdefault(read, reason)
                state.problems.append(dropped(env.location(pointer), path=pointer, target=target_name,
                                              missing=", ".join(missing)))
                return
        for suffix in constant_suffixes:
            sub.provenance[target_ptr + suffix] = pointer
        parent = out if top else container(out)
        if append:
            parent.setdefault(key, []).append(obj)
        else:
            parent[key] = obj
        state.merge(sub)

    return apply


def value_runner(rule: Rule, adapter: Adapter, ctx: ConversionContext, kinds: EngineKinds,
                 finish: Finish) -> Runner:
    """A value rule: the value(s) read from the node found, converted, and handed to `finish`."""
    scalar = adapter.scalar
    simple = rule.simple
    if simple is not None:  # one value, a one-argument conversion

        def apply_simple(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: State,
                         env: Env) -> None:
            ok, value = scalar(node)
            finish(simple(value) if ok else STRUCTURE, [pointer], pointer, out, out_ptr, state, env)

        return apply_simple
    gather = gatherer(adapter, rule)
    convert, options = rule.convert, rule.options
    assert convert is not None
    bad_value = kinds.bad_value

    def apply(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: State, env: Env) -> None:
        gathered = gather(node, pointer)
        if isinstance(gathered, Rejected):
            reject(state, [pointer], gathered.reason, pointer, env, bad_value)
            return
        parts, used = gathered
        if not used:
            return
        finish(convert(parts, options, ctx), used, pointer, out, out_ptr, state, env)

    return apply


def gatherer(adapter: Adapter, rule: Rule) -> Gather:
    """The scalar value(s) a conversion reads: the node itself, or its named parts (`with:`), each the
    first node found at its path."""
    scalar = adapter.scalar
    if not rule.parts:
        def whole(node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
            ok, value = scalar(node)
            return ({"value": value}, [pointer]) if ok else STRUCTURE

        return whole
    path = adapter.path
    roles = tuple((role, path(steps), Rejected(f"{role}: expected a single value, found a structure"))
                  for role, steps in rule.parts)

    def named(node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
        parts: Parts = {}
        used: list[str] = []
        for role, find, structure in roles:
            found = find(node, pointer)
            if not found:
                continue
            value, ptr = found[0]
            ok, value = scalar(value)
            if not ok:
                return structure
            parts[role] = value
            used.append(ptr)
        return parts, used

    return named


def finisher(rule: Rule, ctx: ConversionContext, kinds: EngineKinds,
             exact_values: dict[str, dict[str, tuple[str, ...]]]) -> Finish:
    """What happens to a converted value: rejected, absent, looked up in a vocabulary, placed."""
    place = placer(rule.target, rule.append)
    place_unknown = placer(rule.unknown_to, False) if rule.unknown_to is not None else None
    append, vocabulary = rule.append, rule.vocabulary
    exact = exact_values[vocabulary] if vocabulary is not None else {}
    lookup = ctx.vocabulary.lookup
    already = f"{'.'.join(rule.target)} was already filled from another field"
    same = f"says the same as the field that filled {'.'.join(rule.target)}"

    def finish(result: Any, used: list[str], pointer: str, out: dict[str, Any], out_ptr: str, state: State,
               env: Env) -> None:
        if isinstance(result, Rejected):
            reject(state, used, result.reason, pointer, env, kinds.bad_value)
            return
        if isinstance(result, Absent):
            for ptr in used:
                state.absent.setdefault(ptr, result.note or NOTHING_RECORDED)
            return
        values: list[Any]
        if vocabulary is not None:
            found = None
            if isinstance(result, str):
                found = exact.get(result) or lookup(vocabulary, result)
            if found is None or (len(found) > 1 and not append):
                state.problems.append(kinds.unknown_value(
                    env.location(pointer), value=result, path=pointer, vocabulary=vocabulary))
                if place_unknown is not None and isinstance(result, str) and place_unknown(
                    [result], pointer, out, out_ptr, state
                ):
                    state.consumed.update(used)  # kept as written in its *_text field
                    return
                for ptr in used:
                    state.rejected.setdefault(ptr, f"{result!r} is not a known {vocabulary} value")
                return
            values = list(found)
        elif append and isinstance(result, list):
            values = result
        else:
            values = [result]
        placed = place(values, pointer, out, out_ptr, state)
        if placed is SAME:
            for ptr in used:
                state.absent.setdefault(ptr, same)
        elif placed:
            state.consumed.update(used)
        else:
            state.rejected.setdefault(pointer, already)

    return finish


def placer(target: tuple[str, ...], append: bool) -> Placer:
    """Write the value(s); False when the field is already filled with something else, SAME when with
    the same value (a retired and a current field saying one thing)."""
    container = container_getter(target[:-1])
    key = target[-1]
    text = "/" + "/".join(target)
    if append:
        def place_all(values: Any, source_ptr: str, out: dict[str, Any], out_ptr: str,
                      state: State) -> bool | str:
            items = container(out).setdefault(key, [])
            base = out_ptr + text
            provenance = state.provenance
            for value in values:
                provenance[f"{base}/{len(items)}"] = source_ptr
                items.append(value)
            return True

        return place_all

    def place_one(values: Any, source_ptr: str, out: dict[str, Any], out_ptr: str,
                  state: State) -> bool | str:
        parent = container(out)
        if key in parent:
            existing = parent[key]
            if isinstance(existing, dict) and isinstance(values[0], dict):
                if set(existing) & set(values[0]):
                    return False
                existing.update(values[0])
                state.provenance[out_ptr + text] = source_ptr
                return True
            return SAME if existing == values[0] else False
        parent[key] = values[0]
        state.provenance[out_ptr + text] = source_ptr
        return True

    return place_one

