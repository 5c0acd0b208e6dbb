"""Which elements of its focus an invariant reads, so that it is evaluated once for every node lacking them all.

Most invariants test elements a node seldom has: dom-2, dom-4 and dom-5 read only `contained`, on every
resource. When an expression reads its focus only through such member steps (no variable but %ucum, no function
or `$this` applied to the focus itself), its value on a node that has none of those elements is the value on an
empty node of the same type: every navigation from the focus is empty, and what follows an empty step sees only
that empty collection and literals. So the outcome is computed once per type (by the full evaluation, fallback
included) and reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Node kinds whose children are all evaluated on the same focus as the node itself.
_SAME_FOCUS = frozenset({
    "TermExpression", "InvocationTerm", "ParenthesizedTerm", "IndexerExpression", "OrExpression", "AndExpression",
    "ImpliesExpression", "XorExpression", "EqualityExpression", "MembershipExpression", "InequalityExpression",
    "UnionExpression", "AdditiveExpression",
})


class _Unknown(Exception):
    """The expression reads its focus, or something else, in a way not followed here."""


def _children(ast: Mapping[str, Any]) -> list[Any]:
    return list(ast.get("children", []))


def _identifier(ast: Mapping[str, Any]) -> str:
    return str(ast.get("text", "")).strip('"').replace("`", "")


def _read(ast: Mapping[str, Any], at_focus: bool, found: set[str]) -> None:
    """Add to `found` the member names read from the focus (`at_focus`: evaluated on the focus itself)."""
    kind = ast.get("type")
    children = _children(ast)
    if kind in _SAME_FOCUS:
        for child in children:
            _read(child, at_focus, found)
    elif kind == "LiteralTerm":
        return
    elif kind == "ExternalConstantTerm":
        if _identifier(children[0]["children"][0]) != "ucum":
            raise _Unknown  # %resource, %context, ...: the outcome depends on more than the node
    elif kind == "ThisInvocation":
        if at_focus:
            raise _Unknown
    elif kind == "MemberInvocation":
        if at_focus:
            found.add(_identifier(children[0]))
    elif kind == "FunctionInvocation":
        if at_focus:
            raise _Unknown  # a function of the focus itself (hasValue(), iif(...), children(), ...)
        _function_params(children[0], found)
    elif kind == "InvocationExpression":
        _read(children[0], at_focus, found)
        _read(children[1], False, found)  # applied to what the left side gives
    else:
        raise _Unknown


def _function_params(functn: Mapping[str, Any], found: set[str]) -> None:
    """Parameters of a function applied to a navigated collection read that collection's items, never the focus."""
    parts = _children(functn)
    if _identifier(parts[0]) in ("ofType", "is", "as"):
        return  # a type name, not an expression
    for param in _children(parts[1]) if len(parts) > 1 else []:
        _read(param, False, found)


def focus_members(parsed: Mapping[str, Any]) -> frozenset[str] | None:
    """The member names an expression reads from its focus, or None when it depends on anything else."""
    found: set[str] = set()
    try:
        for child in _children(parsed):
            _read(child, True, found)
    except (_Unknown, KeyError, IndexError):
        return None
    return frozenset(found)


_PRESENCE_TESTS = frozenset({"exists", "empty"})


def _presence_test(ast: Mapping[str, Any]) -> str | None:
    """The member name of `name.exists()` / `name.empty()` applied to the focus, else None."""
    if ast.get("type") != "InvocationExpression":
        return None
    left, right = _children(ast)
    while left.get("type") in ("TermExpression", "InvocationTerm"):
        left = _children(left)[0]
    if left.get("type") != "MemberInvocation" or right.get("type") != "FunctionInvocation":
        return None
    parts = _children(_children(right)[0])
    if len(parts) != 1 or _identifier(parts[0]) not in _PRESENCE_TESTS:
        return None  # another function, or one with parameters
    return _identifier(_children(left)[0])


def _presence_only(ast: Mapping[str, Any], found: set[str]) -> None:
    """Add to `found` the members tested; raise `_Unknown` where the focus is read any other way."""
    kind = ast.get("type")
    children = _children(ast)
    name = _presence_test(ast)
    if name is not None:
        found.add(name)
    elif kind in _SAME_FOCUS and kind not in ("InvocationTerm", "InvocationExpression"):
        for child in children:
            _presence_only(child, found)
    elif kind == "InvocationExpression":  # something applied to a value the focus decides through presence only
        _presence_only(children[0], found)
        _read(children[1], False, set())  # the invocation itself: no variable but %ucum
    elif kind == "LiteralTerm":
        return
    else:
        raise _Unknown


def presence_members(parsed: Mapping[str, Any]) -> frozenset[str] | None:
    """The members an expression tests for presence only (`name.exists()`, `name.empty()`), when that is all it
    reads of its focus and nothing else varies (no variable but %ucum); None otherwise.

    Its value on a node is then decided by which of those JSON keys the node has, and whether each holds null,
    an empty array or something else, since that is all the navigation of a member shows `exists()`/`empty()`.
    """
    found: set[str] = set()
    try:
        for child in _children(parsed):
            _presence_only(child, found)
    except (_Unknown, KeyError, IndexError, ValueError):
        return None
    return frozenset(found)


def member_keys(members: frozenset[str], type_path: str, choices: Mapping[str, list[str]],
                elsewhere: Mapping[str, str]) -> frozenset[str]:
    """The JSON keys that hold those members on a node of `type_path` (choice types and `_name` companions)."""
    keys: set[str] = set()
    for name in members:
        child = f"{type_path}.{name}"
        suffixes = choices.get(elsewhere.get(child, child)) or [""]
        for suffix in suffixes:
            keys.update((name + suffix, "_" + name + suffix))
    return frozenset(keys)


def focus_free(ast: Mapping[str, Any]) -> bool:
    """Whether a subexpression's value depends on the variables alone: it reads neither the focus (a member or
    function applied to it, `$this`) nor %context anywhere."""
    kind = ast.get("type")
    children = _children(ast)
    if kind == "LiteralTerm":
        return True
    if kind == "ExternalConstantTerm":
        return _identifier(children[0]["children"][0]) != "context"
    if kind in ("TermExpression", "InvocationTerm", "ParenthesizedTerm"):
        return focus_free(children[0])
    if kind == "InvocationExpression":  # the right side is evaluated on what the left side gives
        return focus_free(children[0]) and not _mentions_context(children[1])
    if kind in _FREE_IF_OPERANDS_ARE:
        return all(focus_free(child) for child in children)
    return False  # a member or function of the focus, $this, or a kind not followed here


_FREE_IF_OPERANDS_ARE = frozenset({
    "IndexerExpression", "OrExpression", "AndExpression", "ImpliesExpression", "XorExpression",
    "EqualityExpression", "MembershipExpression", "InequalityExpression", "UnionExpression", "AdditiveExpression",
})


def _mentions_context(ast: Mapping[str, Any]) -> bool:
    if ast.get("type") == "ExternalConstantTerm":
        return _identifier(_children(ast)[0]["children"][0]) == "context"
    return any(_mentions_context(child) for child in _children(ast))


def trivial(ast: Mapping[str, Any]) -> bool:
    """A literal or a bare variable: as cheap to evaluate as to look up."""
    while ast.get("type") in ("TermExpression", "InvocationTerm", "ParenthesizedTerm"):
        ast = _children(ast)[0]
    return ast.get("type") in ("LiteralTerm", "ExternalConstantTerm")
