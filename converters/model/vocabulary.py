"""Look up coded values and registry identifiers in the shared mapping files (`mappings/common/`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from converters.resources import MappingError, Resources

_SPACES = re.compile(r"[\s_]+")


def normalise_wording(text: str) -> str:
    """Case-, underscore- and space-insensitive form of a wording, for matching."""
    return _SPACES.sub(" ", text).strip().strip(".:").strip().casefold()


class Vocabulary:
    """Canonical coded values (ct.gov v2 enums) and their wordings, from `common/vocabulary.yaml`."""

    def __init__(self, resources: Resources, name: str = "common/vocabulary.yaml") -> None:
        data = resources.mapping(name)["vocabularies"]
        self._values: dict[str, tuple[str, ...]] = {}
        self._lookup: dict[str, dict[str, tuple[str, ...]]] = {}
        for vocab, body in data.items():
            table: dict[str, tuple[str, ...]] = {}
            for value, wordings in body["values"].items():
                for wording in (value, *wordings):
                    table[normalise_wording(wording)] = (value,)
            for wording, values in body.get("combinations", {}).items():
                unknown = set(values) - set(body["values"])
                if unknown:
                    raise MappingError(f"{name}: combination {wording!r} uses unknown values {sorted(unknown)}")
                table[normalise_wording(wording)] = tuple(values)
            self._values[vocab] = tuple(body["values"])
            self._lookup[vocab] = table

    def values(self, vocab: str) -> tuple[str, ...]:
        return self._values[vocab]

    def lookup(self, vocab: str, wording: str) -> tuple[str, ...] | None:
        """The canonical value(s) for a wording, or None when the vocabulary does not know it."""
        return self._lookup[vocab].get(normalise_wording(wording))

    def lookup_one(self, vocab: str, wording: str) -> str | None:
        found = self.lookup(vocab, wording)
        return found[0] if found and len(found) == 1 else None


@dataclass(frozen=True)
class RegistrySystem:
    key: str
    name: str
    pattern: re.Pattern[str]
    search_pattern: re.Pattern[str] | None
    system: str
    ictrp_pattern: re.Pattern[str] | None = None  # how WHO ICTRP writes its ids; group `id` is the registry's own


class IdentifierSystems:
    """Which registry an identifier belongs to, from `common/identifiers.yaml`."""

    def __init__(self, resources: Resources, name: str = "common/identifiers.yaml") -> None:
        self.registries: tuple[RegistrySystem, ...] = tuple(
            RegistrySystem(
                key=r["key"],
                name=r["name"],
                pattern=re.compile(r["pattern"]),
                search_pattern=re.compile(r["search_pattern"]) if r.get("search_pattern") else None,
                system=r["system"],
                ictrp_pattern=re.compile(r["ictrp_pattern"]) if r.get("ictrp_pattern") else None,
            )
            for r in resources.mapping(name)["registries"]
        )
        self._by_key = {r.key: r for r in self.registries}

    def classify(self, value: str) -> str | None:
        """The registry key whose strict pattern the identifier matches, else None."""
        for registry in self.registries:
            if registry.pattern.match(value.strip()):
                return registry.key
        return None

    def classify_ictrp(self, value: str) -> tuple[str, str] | None:
        """(registry key, the registry's own id) for an id as WHO ICTRP writes it with a prefix or suffix of its
        own (`EUCTR2021-000037-14-ES`, `JPRN-jRCT2071210009`, `CTIS2023-507385-11-00`), else None."""
        text = value.strip()
        for registry in self.registries:
            if registry.ictrp_pattern is not None and (m := registry.ictrp_pattern.match(text)):
                return registry.key, m["id"]
        return None

    def system(self, key: str) -> str | None:
        registry = self._by_key.get(key)
        return registry.system if registry else None

    def get(self, key: str) -> RegistrySystem | None:
        return self._by_key.get(key)
