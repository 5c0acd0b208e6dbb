"""A fast evaluator for the common subset of FHIRPath invariants, giving exactly fhirpathpy's results.

fhirpathpy walks its parse tree on every call (50-200 us per invariant); a ResearchStudy has about forty
invariants to evaluate (one per Reference, Coding, Identifier, Period, ...). This module turns the same
parse tree, once, into nested Python closures that take a few microseconds. It is an optimisation, not a
second engine:

- it covers a subset: navigation, literals, `%resource`/`%rootResource`/`%context`/`%ucum`, `$this`,
  and/or/xor/implies, =, !=, in, contains, +, &, | (of literals), comparisons of numbers and strings,
  indexers, and the functions exists, empty, not, count, first, hasValue, where, all, select, repeat, iif,
  trace, ofType, is, startsWith, endsWith, contains, substring, matches, toString, isDistinct,
  allTrue/allFalse/anyTrue/anyFalse;
- every construct mirrors what fhirpathpy does (including where it departs from the FHIRPath text), and
  whenever a value falls outside the cases mirrored here (a primitive with a `_name` companion, dates,
  floats, quantities, non-boolean operands, type functions, ...) the evaluation raises `Fallback` and the
  caller evaluates the expression with fhirpathpy instead;
- an expression using anything else does not compile (`Unsupported`) and always runs in fhirpathpy.
A test evaluates every invariant of the emitted resource types both ways over the official examples and
mutated copies, and requires identical outcomes.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any

from converters.targets.fhir.validator import absence


class Unsupported(Exception):
    """The expression uses something this module does not compile."""


class Fallback(Exception):
    """This evaluation meets a value this module does not mirror; evaluate with fhirpathpy."""


#: A compiled node: (focus collection, evaluation state) -> result collection.
Fn = Callable[[list[Any], "State"], list[Any]]

_DATE_TYPES = frozenset({"date", "dateTime", "instant", "time"})
_VARIABLES = frozenset({"resource", "rootResource", "context", "ucum"})
_EMPTY: list[Any] = []


@dataclass(slots=True)
class Model:
    """The parts of the FHIRPath model navigation needs (same tables as fhirpathpy's model)."""

    path2type: Mapping[str, str]
    choices: Mapping[str, list[str]]
    elsewhere: Mapping[str, str]
    type2parent: Mapping[str, str]

    def is_type(self, name: str, wanted: str) -> bool:
        """fhirpathpy's TypeInfo.is_type: walk up the base types (and path types) of `name`."""
        current: str | None = name
        seen = 0
        while current and seen < 64:
            if current == wanted:
                return True
            current = self.type2parent.get(current) or self.path2type.get(current)
            seen += 1
        return False


@dataclass(slots=True)
class State:
    """One evaluation: the model, %resource/%rootResource/%ucum (as collections) and %context, and the values of
    the focus-free subexpressions already computed with those variables (`memo`, see `Variables`)."""

    model: Model
    variables: Mapping[str, list[Any]]
    context: list[Any]
    memo: dict[object, list[Any]] = dataclass_field(default_factory=dict)


class Variables(dict[str, list[Any]]):
    """%resource, %rootResource and %ucum of one resource, with one `State` for every evaluation in it.

    The state's memo keeps the values of focus-free subexpressions: they depend on the variables alone, so every
    invariant evaluated in the same resource reuses them (bdl-3 reads `%resource.type` once per bundle, not three
    times per entry). Evaluations do not nest, so the one state serves them all, each setting its %context.
    """

    __slots__ = ("state",)

    def __init__(self, model: Model, values: Mapping[str, list[Any]]) -> None:
        super().__init__(values)
        self.state = State(model, self, [])


def node(data: Any, path: str) -> tuple[Any, str]:
    """A navigated item: its JSON data and its type path (as fhirpathpy's ResourceNode)."""
    if isinstance(data, dict) and "resourceType" in data:
        return (data, str(data["resourceType"]))
    return (data, path)


def variable(data: Any) -> tuple[Any, str, str]:
    """A resource given as %resource / %rootResource.

    fhirpathpy keeps these as plain dicts: navigation types them by `resourceType` as it does any resource,
    but type tests see a System.Object. The third member marks them so that type tests fall back.
    """
    return (data, str(data.get("resourceType", "")) if isinstance(data, dict) else "", "variable")


def _data(item: Any) -> Any:
    return item[0] if type(item) is tuple else item


def _is_date(item: Any) -> bool:
    return type(item) is tuple and item[1] in _DATE_TYPES


def _is_quantity(item: Any) -> bool:
    return type(item) is tuple and item[1] == "Quantity"


# --- navigation -------------------------------------------------------------------------------------


def _member(key: str) -> Fn:
    # this step's model look-ups per parent type path, made once (a cache of compiled things, per expression)
    steps: dict[str, tuple[Model, tuple[tuple[str, str, str], ...]]] = {}

    def step(model: Model, path: str) -> tuple[tuple[str, str, str], ...]:
        """(JSON key, its `_key` companion, the child's type path) for each key this member may have."""
        known = steps.get(path)
        if known is not None and known[0] is model:
            return known[1]
        child = model.elsewhere.get(f"{path}.{key}", f"{path}.{key}")
        types = model.choices.get(child)
        if types:
            keys = tuple((key + s, "_" + key + s, model.path2type.get(child + s, child + s)) for s in types)
        else:
            plain = "Extension" if key == "extension" else child
            keys = ((key, "_" + key, model.path2type.get(plain, plain)),)
        steps[path] = (model, keys)
        return keys

    def member(focus: list[Any], state: State) -> list[Any]:
        model = state.model
        out: list[Any] = []
        for item in focus:
            if type(item) is not tuple:
                continue
            data, path = item[0], item[1]
            if not isinstance(data, dict):
                continue
            value: Any = None
            child = ""
            known = steps.get(path)
            for field, companion, child_type in (
                known[1] if known is not None and known[0] is model else step(model, path)
            ):
                if companion in data:
                    raise Fallback
                if field in data:
                    value, child = data[field], child_type
                    break
            if value is None:
                continue
            if isinstance(value, list):
                for v in value:  # `node(v, child)`, inline: this is the hottest loop of every invariant
                    out.append((v, str(v["resourceType"])) if isinstance(v, dict) and "resourceType" in v
                               else (v, child))
            else:
                out.append(node(value, child))
        return out

    return member


# --- logic and operators ----------------------------------------------------------------------------


def _boolean_operand(value: list[Any]) -> Any:
    """fhirpathpy's Boolean operand: [] stays [], one boolean is unwrapped, anything else is an error."""
    if not value:
        return _EMPTY
    if len(value) > 1:
        raise Fallback
    data = _data(value[0])
    if type(data) is not bool:
        raise Fallback
    return data


def _or(a: Any, b: Any) -> Any:
    if isinstance(b, list):
        return True if a is True else _EMPTY
    if isinstance(a, list):
        return True if b is True else _EMPTY
    return a or b


def _and(a: Any, b: Any) -> Any:
    if isinstance(b, list):
        return False if a is False else _EMPTY
    if isinstance(a, list):
        return _EMPTY if b is True else False
    return a and b


def _xor(a: Any, b: Any) -> Any:
    if isinstance(a, list) or isinstance(b, list):
        return _EMPTY
    return (a and not b) or (not a and b)


def _implies(a: Any, b: Any) -> Any:
    if isinstance(b, list):
        if a is False:
            return True
        return _EMPTY
    if isinstance(a, list):
        return True if b is True else _EMPTY
    if a is False:
        return True
    return a and b


_LOGIC = {"or": _or, "and": _and, "xor": _xor, "implies": _implies}


def _wrap(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _logic(op: str, left: Fn, right: Fn) -> Fn:
    fn = _LOGIC[op]

    def logic(focus: list[Any], state: State) -> list[Any]:
        x, y = left(focus, state), right(focus, state)  # `_boolean_operand`, inline for one plain boolean
        a = x[0] if len(x) == 1 and type(x[0]) is bool else _boolean_operand(x)
        b = y[0] if len(y) == 1 and type(y[0]) is bool else _boolean_operand(y)
        value = fn(a, b)
        return value if isinstance(value, list) else [value]

    return logic


def _equal(negate: bool, left: Fn, right: Fn) -> Fn:
    def equal(focus: list[Any], state: State) -> list[Any]:
        a, b = left(focus, state), right(focus, state)
        if not a or not b:
            return _EMPTY
        if len(a) != len(b):
            result = False
        else:  # fhirpathpy compares the first items' raw data (Quantities its own way: left to it)
            x, y = a[0], b[0]
            if type(x) is tuple:
                if x[1] == "Quantity":
                    raise Fallback
                x = x[0]
            if type(y) is tuple:
                if y[1] == "Quantity":
                    raise Fallback
                y = y[0]
            result = x == y
        return [not result if negate else result]

    return equal


def _membership(collection_left: bool, left: Fn, right: Fn) -> Fn:
    """`a in b` (collection on the right) or `a contains b` (collection on the left), on raw data."""

    def membership(focus: list[Any], state: State) -> list[Any]:
        a, b = left(focus, state), right(focus, state)
        item, collection = (b, a) if collection_left else (a, b)
        if not item:
            return _EMPTY
        if not collection:
            return [False]
        if len(item) > 1:
            raise Fallback
        wanted = _data(item[0])
        return [any(_data(x) == wanted for x in collection)]

    return membership


def _comparable(item: Any) -> Any:
    """A number (floats as Decimal, as fhirpathpy reads them) or a non-date string; else fall back."""
    value = _data(item)
    if type(value) is float:
        return Decimal(str(value))
    if (type(value) is int or type(value) is Decimal) or (type(value) is str and not _is_date(item)):
        return value
    raise Fallback


def _one_each(apply: Callable[[Any, Any], list[Any]], left: Fn, right: Fn) -> Fn:
    """A binary operator on one item each side: empty when a side is empty; longer collections fall back."""

    def binary(focus: list[Any], state: State) -> list[Any]:
        a, b = left(focus, state), right(focus, state)
        if not a or not b:
            return _EMPTY
        if len(a) != 1 or len(b) != 1:
            raise Fallback
        return apply(a[0], b[0])

    return binary


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _compare(op: str, left: Fn, right: Fn) -> Fn:
    test = _ORDER.get(op)
    if test is None:
        raise Unsupported(f"operator {op}")

    def compare(a: Any, b: Any) -> list[Any]:
        x, y = _comparable(a), _comparable(b)
        if (type(x) is str) != (type(y) is str):
            raise Fallback
        return [test(x, y)]

    return _one_each(compare, left, right)


def _add(a: Any, b: Any) -> list[Any]:
    """`+` of two strings or two integers; dates and decimals are left to fhirpathpy."""
    if _is_date(a) or _is_date(b):
        raise Fallback
    x, y = _data(a), _data(b)
    if type(x) is str and type(y) is str:
        return [x + y]
    if type(x) is int and type(y) is int:
        return [x + y]
    raise Fallback


def _union(left: Fn, right: Fn) -> Fn:
    """`a | b` of computed values (literals): fhirpathpy's distinct, by JSON text, in order.

    On navigated items fhirpathpy rebuilds the nodes without their types; that is left to it.
    """

    def union(focus: list[Any], state: State) -> list[Any]:
        items = left(focus, state) + right(focus, state)
        if any(type(item) is tuple for item in items):
            raise Fallback
        seen: set[str] = set()
        out: list[Any] = []
        for item in items:
            try:
                key = json.dumps(item, sort_keys=True)
            except TypeError as exc:
                raise Fallback from exc
            if key not in seen:
                seen.add(key)
                out.append(item)
        return out

    return union


def _repeat_key(item: Any) -> Any:
    """The identity fhirpathpy's repeat() dedupes by: a node's data and type path, or a plain value."""
    if type(item) is tuple:
        return ("node", json.dumps(item[0], sort_keys=True, default=str), item[1])
    try:
        hash(item)
    except TypeError as exc:
        raise Fallback from exc
    return ("value", item)


def _single_string(focus: list[Any]) -> str:
    """The one string of a collection; anything else falls back."""
    if len(focus) != 1:
        raise Fallback
    data = _data(focus[0])
    if type(data) is not str:
        raise Fallback
    return data


def _string_operand(value: list[Any]) -> str:
    """An operand of `&`: an empty collection counts as ''."""
    return _single_string(value) if value else ""


def _concat(left: Fn, right: Fn) -> Fn:
    def concat(focus: list[Any], state: State) -> list[Any]:
        return [_string_operand(left(focus, state)) + _string_operand(right(focus, state))]

    return concat


# --- functions --------------------------------------------------------------------------------------


def _string_function(apply: Callable[[str], list[Any]]) -> Fn:
    """A string function: empty on an empty focus, else `apply` to its one string."""

    def on_string(focus: list[Any], state: State) -> list[Any]:
        if not focus:
            return _EMPTY
        return apply(_single_string(focus))

    return on_string


def _truthy_first(result: list[Any]) -> bool:
    """fhirpathpy's where(): keep an item when the criterion's first result is truthy."""
    if not result:
        return False
    first = result[0]
    return True if type(first) is tuple else bool(first)


def _is_true(result: list[Any]) -> bool:
    return len(result) == 1 and _data(result[0]) == True  # noqa: E712 - mirrors fhirpathpy's is_true


def _literal_string(params: list[Any]) -> str:
    if len(params) != 1 or params[0][0] != "literal" or not isinstance(params[0][1], str):
        raise Unsupported("a non-literal string parameter")
    return str(params[0][1])


def _literal_int(param: Any) -> int:
    if param[0] != "literal" or type(param[1]) is not int:
        raise Unsupported("a non-literal integer parameter")
    return int(param[1])


def _fallback_function(focus: list[Any], state: State) -> list[Any]:
    raise Fallback


#: Functions that exist in fhirpathpy but depend on types or values mirrored nowhere here.
_RUNTIME_FALLBACK = frozenset(
    {"ofType", "is", "as", "descendants", "children", "distinct", "union", "combine", "exclude",
     "single", "last", "tail", "skip", "take", "toInteger", "toDecimal", "toDate", "toDateTime", "length",
     "lower", "upper", "replace", "replaceMatches", "indexOf", "now", "today"}
)


def _function(name: str, params: list[Any]) -> Fn:
    """Compile a function call; `params` are ("literal", value) or ("expr", Fn) pairs."""
    if name == "empty" and not params:
        return lambda focus, state: [not focus]
    if name == "exists" and not params:
        return lambda focus, state: [bool(focus)]
    if name == "count" and not params:
        return lambda focus, state: [len(focus)]
    if name == "hasValue" and not params:
        def has_value(focus: list[Any], state: State) -> list[Any]:
            if len(focus) != 1:
                return [False]
            data = _data(focus[0])
            return [data is not None and not isinstance(data, dict | list)]
        return has_value
    if name == "not" and not params:
        def not_(focus: list[Any], state: State) -> list[Any]:
            if len(focus) != 1:
                return _EMPTY
            data = _data(focus[0])
            return [not data] if type(data) is bool else [False]  # fhirpathpy: a non-boolean counts as true
        return not_
    if name == "first" and not params:
        return lambda focus, state: focus[:1]
    if name == "repeat" and len(params) == 1:
        step = _expr_param(params[0])

        def repeat(focus: list[Any], state: State) -> list[Any]:
            result: list[Any] = []
            queue = list(focus)
            seen: set[Any] = set()
            while queue:
                found = [item for item in step([queue.pop(0)], state) if _repeat_key(item) not in seen]
                for item in found:
                    seen.add(_repeat_key(item))
                result += found
                queue += found
            return result

        return repeat
    if name in ("where", "exists", "all", "select") and len(params) == 1:
        criterion = _expr_param(params[0])
        if name == "select":
            return lambda focus, state: [r for item in focus for r in criterion([item], state)]
        if name == "all":
            return lambda focus, state: [all(_is_true(criterion([item], state)) for item in focus)]

        def where(focus: list[Any], state: State) -> list[Any]:
            return [item for item in focus if _truthy_first(criterion([item], state))]

        if name == "where":
            return where
        return lambda focus, state: [bool(where(focus, state))]
    if name == "iif" and len(params) in (2, 3):
        cond, ok = _expr_param(params[0]), _expr_param(params[1])
        fail = _expr_param(params[2]) if len(params) == 3 else None

        def iif(focus: list[Any], state: State) -> list[Any]:
            if _is_true(cond(focus, state)):
                return ok(focus, state)
            return fail(focus, state) if fail is not None else _EMPTY

        return iif
    if name in ("startsWith", "endsWith"):
        prefix = _literal_string(params)
        test = str.startswith if name == "startsWith" else str.endswith
        return _string_function(lambda text: [bool(text) and test(text, prefix)])
    if name == "contains" and len(params) == 1:
        part = _literal_string(params)
        return _string_function(lambda text: [part in text])
    if name == "matches":
        regex = _literal_string(params)
        if not regex:
            return lambda focus, state: _EMPTY
        pattern = re.compile(regex, re.DOTALL)
        return _string_function(lambda text: [pattern.search(text) is not None])
    if name == "substring" and len(params) in (1, 2):
        start = _literal_int(params[0])
        length = _literal_int(params[1]) if len(params) == 2 else None

        def substring(text: str) -> list[Any]:
            if start < 0 or start >= len(text):
                return _EMPTY
            return [text[start:] if length is None else text[start: start + length]]

        return _string_function(substring)
    if name == "toString" and not params:
        def to_string(focus: list[Any], state: State) -> list[Any]:
            if len(focus) != 1:
                return _EMPTY
            data = _data(focus[0])
            if type(data) is str:
                return [data]
            if type(data) is int:
                return [str(data)]
            raise Fallback
        return to_string
    if name == "isDistinct" and not params:
        def is_distinct(focus: list[Any], state: State) -> list[Any]:
            if all(type(item) is tuple and type(item[0]) is str for item in focus):
                # navigated strings only: their JSON texts are equal exactly when they are
                return [len({item[0] for item in focus}) == len(focus)]
            navigated = [type(item) is tuple for item in focus]
            if any(navigated) and not all(navigated):
                raise Fallback
            try:
                keys = {json.dumps(_data(item), sort_keys=True) for item in focus}
            except TypeError as exc:
                raise Fallback from exc
            return [len(keys) == len(focus)]
        return is_distinct
    if name in ("allTrue", "allFalse", "anyTrue", "anyFalse") and not params:
        def booleans(focus: list[Any]) -> list[bool]:
            values = [_data(item) for item in focus]
            if any(type(v) is not bool for v in values):
                raise Fallback
            return values
        if name == "allTrue":
            return lambda focus, state: [all(booleans(focus))]
        if name == "anyTrue":
            return lambda focus, state: [any(booleans(focus))]
        if name == "allFalse":
            return lambda focus, state: [all(not v for v in booleans(focus))]
        return lambda focus, state: [any(not v for v in booleans(focus))]
    raise Unsupported(f"function {name}()")


def _type_test(name: str, specifier: str) -> Fn:
    """`ofType(T)` / `is(T)` on navigated items, as fhirpathpy's TypeInfo does it (model types only)."""
    parts = specifier.replace("`", "").split(".")
    if len(parts) == 2:
        namespace, wanted = parts
    elif len(parts) == 1:
        namespace, wanted = "", parts[0]
    else:
        raise Unsupported(f"type specifier {specifier}")
    if namespace not in ("", "FHIR") or not wanted:
        raise Unsupported(f"type specifier {specifier}")  # System types: left to fhirpathpy

    def matches(item: Any, state: State) -> bool:
        if type(item) is not tuple or len(item) == 3:
            raise Fallback  # a computed value, or an environment variable, has a System type in fhirpathpy
        path = item[1]
        type_name = path if "." not in path else "BackboneElement"
        return state.model.is_type(type_name, wanted)

    if name == "ofType":
        return lambda focus, state: [item for item in focus if matches(item, state)]

    def is_(focus: list[Any], state: State) -> list[Any]:
        if not focus:
            return _EMPTY
        if len(focus) > 1:
            raise Fallback
        return [matches(focus[0], state)]

    return is_


def _expr_param(param: Any) -> Fn:
    if param[0] == "expr":
        fn: Fn = param[1]
        return fn
    value = param[1]
    return lambda focus, state: [value]


# --- the compiler -----------------------------------------------------------------------------------


def _children(ast: Mapping[str, Any]) -> list[Any]:
    return list(ast.get("children", []))


def _op(ast: Mapping[str, Any]) -> str:
    return str(ast["terminalNodeText"][0])


def _memoized(fn: Fn) -> Fn:
    """A focus-free subexpression, computed once per set of variables (`State.memo`, see `Variables`)."""
    key = object()

    def memoized(focus: list[Any], state: State) -> list[Any]:
        found = state.memo.get(key)
        if found is None:
            found = state.memo[key] = fn(focus, state)
        return found

    return memoized


class _Compiler:
    def __init__(self) -> None:
        self.macro_depth = 0
        self.in_free = False  # inside a memoized focus-free subexpression: nothing below is memoized again

    def compile(self, ast: Mapping[str, Any]) -> Fn:
        if self.in_free or absence.trivial(ast) or not absence.focus_free(ast):
            return self.compile_node(ast)
        self.in_free = True
        try:
            return _memoized(self.compile_node(ast))
        finally:
            self.in_free = False

    def compile_node(self, ast: Mapping[str, Any]) -> Fn:
        kind = ast.get("type")
        children = _children(ast)
        if kind in ("TermExpression", "InvocationTerm", "ParenthesizedTerm"):
            return self.compile(children[0])
        if kind == "LiteralTerm":
            value = self.literal(children[0])
            constant = [] if value is None else [value]
            return lambda focus, state: constant
        if kind == "ExternalConstantTerm":
            name = self.identifier(children[0]["children"][0])
            if name not in _VARIABLES:
                raise Unsupported(f"variable %{name}")
            if name == "context":
                return lambda focus, state: state.context
            return lambda focus, state: state.variables[name]
        if kind == "ThisInvocation":
            if self.macro_depth == 0:
                raise Unsupported("$this outside a function argument")
            return lambda focus, state: focus
        if kind == "MemberInvocation":
            key = self.identifier(children[0])
            if key[:1].isupper() or key == "length":
                raise Unsupported(f"the path step {key}")
            return _member(key)
        if kind == "FunctionInvocation":
            return self.function(children[0], None)
        if kind == "InvocationExpression":
            left = self.compile(children[0])
            invocation = children[1]
            if invocation["type"] == "FunctionInvocation":
                return self.function(invocation["children"][0], left)
            right = self.compile(invocation)
            return lambda focus, state: right(left(focus, state), state)
        if kind == "IndexerExpression":
            coll, index = self.compile(children[0]), self.compile(children[1])

            def indexer(focus: list[Any], state: State) -> list[Any]:
                items, idx = coll(focus, state), index(focus, state)
                if not idx:
                    return _EMPTY
                position = _data(idx[0])
                if type(position) is not int:
                    raise Fallback
                return [items[position]] if 0 <= position < len(items) else _EMPTY

            return indexer
        if kind in ("OrExpression", "AndExpression", "ImpliesExpression", "XorExpression"):
            return _logic(_op(ast), self.compile(children[0]), self.compile(children[1]))
        if kind == "EqualityExpression":
            op = _op(ast)
            if op not in ("=", "!="):
                raise Unsupported(f"operator {op}")
            return _equal(op == "!=", self.compile(children[0]), self.compile(children[1]))
        if kind == "MembershipExpression":
            op = _op(ast)
            return _membership(op == "contains", self.compile(children[0]), self.compile(children[1]))
        if kind == "InequalityExpression":
            return _compare(_op(ast), self.compile(children[0]), self.compile(children[1]))
        if kind == "UnionExpression":
            return _union(self.compile(children[0]), self.compile(children[1]))
        if kind == "AdditiveExpression":
            op = _op(ast)
            left, right = self.compile(children[0]), self.compile(children[1])
            if op == "+":
                return _one_each(_add, left, right)
            if op == "&":
                return _concat(left, right)
            raise Unsupported(f"operator {op}")
        raise Unsupported(f"{kind}")

    def function(self, functn: Mapping[str, Any], left: Fn | None) -> Fn:
        parts = _children(functn)
        name = self.identifier(parts[0])
        raw = _children(parts[1]) if len(parts) > 1 else []
        if name == "trace":  # the identity (its label and projection only feed fhirpathpy's trace callback)
            return left if left is not None else (lambda focus, state: focus)
        if name in ("ofType", "is") and len(raw) == 1:
            fn = _type_test(name, str(raw[0].get("text", "")))
            return fn if left is None else (lambda focus, state: fn(left(focus, state), state))
        if name in _RUNTIME_FALLBACK:
            return _fallback_function  # whatever `left` gives, fhirpathpy evaluates the whole expression
        params: list[Any] = []
        for param in raw:
            literal = self.try_literal(param)
            if literal is not None:
                params.append(("literal", literal[0]))
                continue
            self.macro_depth += 1
            try:
                params.append(("expr", self.compile(param)))
            finally:
                self.macro_depth -= 1
        if params and name not in ("where", "exists", "all", "select", "iif", "repeat") and any(
            p[0] == "expr" for p in params
        ):
            raise Unsupported(f"a computed parameter of {name}()")
        fn = _function(name, params)
        if left is None:
            return fn
        return lambda focus, state: fn(left(focus, state), state)

    def try_literal(self, ast: Mapping[str, Any]) -> tuple[Any] | None:
        current = ast
        while current.get("type") == "TermExpression":
            current = _children(current)[0]
        if current.get("type") != "LiteralTerm":
            return None
        return (self.literal(_children(current)[0]),)

    @staticmethod
    def identifier(ast: Mapping[str, Any]) -> str:
        text = str(ast.get("text", ""))
        return re.sub(r'(^"|"$)', "", text).replace("`", "")

    @staticmethod
    def literal(ast: Mapping[str, Any]) -> Any:
        kind = ast.get("type")
        text = str(ast.get("text", ""))
        if kind == "StringLiteral":
            value = re.sub(r"^['\"]|['\"]$", "", text)
            if "\\" in value:
                raise Unsupported("escapes in a string literal")
            return value
        if kind == "BooleanLiteral":
            return text == "true"
        if kind == "NumberLiteral":
            number = Decimal(text)
            return int(number) if number == int(number) else number
        if kind == "NullLiteral":
            return None
        raise Unsupported(f"literal {kind}")


def compile_expression(parsed: Mapping[str, Any]) -> Fn:
    """Compile a fhirpathpy parse tree (`fhirpathpy.parse(...)`); raises `Unsupported`."""
    return _Compiler().compile(parsed["children"][0])
