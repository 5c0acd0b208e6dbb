"""The study's schedule as the source states it, derived once from the canonical `Study`.

Both the FHIR PlanDefinition (actions) and the SDTM trial design tables (TA/TE/TV) are written from this one
derivation, so the two outputs cannot disagree: each step carries its one CDISC epoch, which TA writes as EPOCH
and the PlanDefinition as the action's code. Nothing is invented: a step exists only when what the study says
it does states it (descriptions, arms, interventions, outcome time frames; never an eligibility criterion, which
says who may take part), and each step names the study fields (JSON pointers into study.json) it was derived
from. The keyword rules and the epoch table live in `mappings/common/schedule.yaml`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Any

from converters.model.provenance import json_pointer
from converters.model.study import Study
from converters.resources import Resources

SCHEDULE_MAPPING = "common/schedule.yaml"


@dataclass(frozen=True)
class Epoch:
    """A term of the CDISC EPOCH codelist (C99079): the period of the trial a step belongs to."""

    value: str  # submission value, written as TA EPOCH (e.g. TREATMENT)
    code: str  # NCI C-code (e.g. C101526)
    decode: str  # CDISC decode (e.g. "Treatment Epoch")


@dataclass(frozen=True)
class ScheduleStep:
    """One step of the schedule (an SDTM element / a PlanDefinition action)."""

    key: str  # stable short code, unique in the schedule (e.g. SCRN, LD, INF, FU); used for ETCD / action ids
    kind: str  # screening | pretreatment | treatment | follow-up
    title: str  # short name (ELEMENT / action.title)
    description: str | None = None  # statement from the source, as written
    timing: str | None = None  # timing as written (e.g. "within 14 days before infusion"); None if unstated
    dose_levels: tuple[str, ...] = ()  # dose statements as written
    arm_labels: tuple[str, ...] = ()  # arms the step belongs to; empty = all arms
    sources: tuple[str, ...] = ()  # JSON pointers into study.json this step is derived from
    follows: tuple[str, ...] = ()  # keys of steps the source says this one comes after
    frequency: str | None = None  # frequency as written (e.g. "single infusion")
    epoch: Epoch | None = None  # from the step kind (schedule.yaml `epochs`); set for every derived step


@dataclass(frozen=True)
class Visit:
    """A planned assessment time point (an SDTM visit / a PlanDefinition follow-up action)."""

    key: str
    label: str  # e.g. "Month 3"
    timing: str  # as written in the source (an outcome time frame)
    sources: tuple[str, ...] = ()
    amount: int | None = None  # the number stated (3 for "month 3"); None for baseline
    unit: str | None = None  # UCUM unit of `amount` (d, wk, mo, a, h); None for baseline
    anchor: str | None = None  # key of the step the time point counts from, when the source says so


@dataclass(frozen=True)
class Schedule:
    steps: tuple[ScheduleStep, ...] = ()  # in the order the source gives them
    visits: tuple[Visit, ...] = ()
    notes: tuple[str, ...] = field(default=())  # what could not be placed, for the writers' reports

    def step(self, key: str) -> ScheduleStep | None:
        """The step with this key, if the schedule has it."""
        return next((s for s in self.steps if s.key == key), None)


# --- text units --------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+|\n+")


@dataclass(frozen=True)
class _Unit:
    group: str  # descriptions | arms | interventions | time_frames
    pointer: str
    text: str

    @functools.cached_property
    def sentences(self) -> list[str]:
        """The text's sentences, split once however many step rules look in it."""
        return _sentences(self.text)


def _text_units(study: Study) -> list[_Unit]:
    """Every field that says what the study does, with its pointer, in source order.

    Eligibility criteria are not among them: a criterion says who may take part, not what the study does.
    """
    units: list[_Unit] = []
    for name in ("brief_summary", "detailed_description"):
        value = getattr(study, name)
        if value:
            units.append(_Unit("descriptions", json_pointer(name), value))
    for i, arm in enumerate(study.arms):
        if arm.description:
            units.append(_Unit("arms", json_pointer("arms", i, "description"), arm.description))
    for i, intervention in enumerate(study.interventions):
        if intervention.description:
            units.append(_Unit("interventions", json_pointer("interventions", i, "description"),
                               intervention.description))
    for i, outcome in enumerate(study.outcomes):
        if outcome.time_frame:
            units.append(_Unit("time_frames", json_pointer("outcomes", i, "time_frame"), outcome.time_frame))
    return units


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _compile(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# --- steps -------------------------------------------------------------------------------------------


@dataclass
class _Found:
    sources: list[str]
    sentences: list[str]
    groups: list[str]  # the field group of each sentence

    def first_sentence_in(self, groups: set[str]) -> str | None:
        return next((s for s, g in zip(self.sentences, self.groups, strict=True) if g in groups), None)


def _find(units: list[_Unit], groups: set[str], patterns: list[re.Pattern[str]]) -> _Found:
    found = _Found([], [], [])
    if not patterns:
        return found
    for unit in units:
        # A sentence is the unit's text between whitespace, so a pattern found in no part of the text is in no
        # sentence of it: one search of the text saves one per sentence (most texts name no step).
        if unit.group not in groups or not any(p.search(unit.text) for p in patterns):
            continue
        for sentence in unit.sentences:
            if any(p.search(sentence) for p in patterns):
                found.sources.append(unit.pointer)
                found.sentences.append(sentence)
                found.groups.append(unit.group)
    return found


def _as_written(sentences: list[str], patterns: list[re.Pattern[str]]) -> str | None:
    """The first wording of the step in the source ("leukapheresis" or "apheresis"), capitalised."""
    for sentence in sentences:
        for pattern in patterns:
            match = pattern.search(sentence)
            if match:
                word = match.group(0)
                return word[:1].upper() + word[1:].lower()
    return None


def _split_doses(dosing: list[str], separators: list[str]) -> list[str]:
    doses: list[str] = []
    for statement in dosing:
        parts = [statement]
        for sep in separators:
            parts = [piece for part in parts for piece in part.split(sep)]
        doses.extend(p.strip() for p in parts if p.strip())
    return doses


def _rule_steps(study: Study, units: list[_Unit], rules: dict[str, Any],
                absorbed: set[int]) -> list[ScheduleStep]:
    """Screening and pre-treatment steps found by keyword; interventions that are a step's agents join it."""
    steps: list[ScheduleStep] = []
    for rule in rules["steps"]:
        found = _find(units, set(rule["look_in"]), _compile(rule["patterns"]))
        if not found.sources:
            continue
        agents: list[str] = []
        doses: list[str] = []
        sources = list(found.sources)
        for agent in rule.get("agents", []):
            word = re.compile(rf"\b{re.escape(agent)}\b", re.IGNORECASE)
            stated = any(word.search(s) for s in found.sentences)
            for i, intervention in enumerate(study.interventions):
                if word.search(intervention.name):
                    stated = True
                    absorbed.add(i)
                    sources.append(json_pointer("interventions", i, "name"))
                    doses.extend(_split_doses(intervention.dosing, rules["treatment"]["dose_separators"]))
            if stated:
                agents.append(agent)
        title = rule["title"]
        if rule.get("title_as_written"):
            title = _as_written(found.sentences, _compile(rule["patterns"])) or title
        if agents and rule.get("title_with_agents"):
            title = rule["title_with_agents"].format(agents=", ".join(agents))
        steps.append(ScheduleStep(
            key=rule["key"], kind=rule["kind"], title=title,
            description=found.first_sentence_in(set(rule["describe_from"])),
            dose_levels=tuple(doses), sources=_dedupe(sources),
        ))
    return steps


@dataclass
class _Draft:
    """A treatment step before its key is numbered."""

    step: ScheduleStep
    infusion: bool
    names: tuple[str, ...] = ()  # the intervention's name and other names; empty for a step only time frames state


@dataclass(frozen=True)
class _Event:
    """An infusion an outcome time frame counts from ("after TCR-T cell infusion")."""

    outcome: int
    wording: str  # as written
    agents: frozenset[str]  # casefolded words that may name what is infused

    @property
    def pointer(self) -> str:
        return json_pointer("outcomes", self.outcome, "time_frame")


def _intervention_draft(study: Study, i: int, treat: dict[str, Any]) -> _Draft:
    intervention = study.interventions[i]
    texts = [intervention.name, intervention.description or "", intervention.frequency or "", *intervention.dosing]
    is_infusion = any(p.search(t) for p in _compile(treat["infusion_patterns"]) for t in texts)
    sources = [json_pointer("interventions", i, "name")]
    if intervention.description:
        sources.append(json_pointer("interventions", i, "description"))
    sources += [json_pointer("interventions", i, "dosing", k) for k in range(len(intervention.dosing))]
    if intervention.frequency:
        sources.append(json_pointer("interventions", i, "frequency"))
    template = treat["infusion_title"] if is_infusion else treat["title"]
    step = ScheduleStep(
        key="", kind=treat["kind"], title=template.format(name=intervention.name),
        description=intervention.description,
        dose_levels=tuple(_split_doses(intervention.dosing, treat["dose_separators"])),
        arm_labels=tuple(intervention.arm_group_labels), sources=tuple(sources),
        frequency=intervention.frequency,
    )
    return _Draft(step, is_infusion, (intervention.name, *intervention.other_names))


def _infusion_events(study: Study, spec: dict[str, Any]) -> list[_Event]:
    """The infusion each outcome time frame counts from, where it names one (first matching pattern)."""
    patterns = _compile(spec["patterns"])
    not_agents = {w.casefold() for w in spec["not_agent_words"]}
    events: list[_Event] = []
    for i, outcome in enumerate(study.outcomes):
        frame = outcome.time_frame or ""
        match = next((m for m in (p.search(frame) for p in patterns) if m), None)
        if match is None:
            continue
        wording = match.group("event")
        agents = frozenset(w.casefold() for w in wording.split()
                           if w.casefold() not in not_agents and len(w) >= spec["min_agent_word_length"])
        events.append(_Event(i, wording, agents))
    return events


def _names_agent(names: tuple[str, ...], agents: frozenset[str]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(agent)}(?!\w)", name, re.IGNORECASE)
               for agent in agents for name in names)


def _event_target(drafts: list[_Draft], event: _Event, infusions: list[_Draft]) -> _Draft | None:
    """The one treatment step an infusion event is: the one intervention it names, else the study's one infusion
    (an intervention its own text calls an infusion)."""
    named = [d for d in drafts if _names_agent(d.names, event.agents)]
    if len(named) == 1:
        return named[0]
    return infusions[0] if len(infusions) == 1 else None


def _event_steps(events: list[_Event], treat: dict[str, Any]) -> list[_Draft]:
    """Infusion steps only time frames state (the study lists no treatment): one per infused agent named.

    Events that name no agent ("post-infusion") are the one named infusion where there is exactly one.
    """
    groups: dict[frozenset[str], list[_Event]] = {}
    for event in events:
        groups.setdefault(event.agents, []).append(event)
    named = [agents for agents in groups if agents]
    if len(named) == 1 and frozenset() in groups:
        groups[named[0]] += groups.pop(frozenset())
    drafts: list[_Draft] = []
    for group in groups.values():
        wording = group[0].wording
        title = treat["stated_in_time_frames"]["title"].format(event=wording[:1].upper() + wording[1:])
        sources = _dedupe([e.pointer for e in sorted(group, key=lambda e: e.outcome)])
        drafts.append(_Draft(ScheduleStep(key="", kind=treat["kind"], title=title, sources=sources), True))
    return drafts


def _place_infusion_events(drafts: list[_Draft], events: list[_Event], treat: dict[str, Any]) -> list[str]:
    """Give each stated infusion its step (marked an infusion, the time frame among its sources); notes for the rest."""
    notes: list[str] = []
    unplaced: list[_Event] = []
    infusions = [d for d in drafts if d.infusion]
    for event in events:
        target = _event_target(drafts, event, infusions)
        if target is None:
            unplaced.append(event)
            continue
        if not target.infusion:
            target.infusion = True
            target.step = replace(target.step, title=treat["infusion_title"].format(name=target.names[0]))
        target.step = replace(target.step, sources=_dedupe([*target.step.sources, event.pointer]))
    if unplaced and not drafts:
        drafts.extend(_event_steps(unplaced, treat))
    else:
        notes += [f"time frame of outcome {e.outcome + 1} counts from an infusion ({e.wording!r}) that is not one"
                  f" treatment step of the schedule" for e in unplaced]
    return notes


def _numbered(drafts: list[_Draft], treat: dict[str, Any]) -> list[ScheduleStep]:
    """Keys INF / TRT, numbered in source order when there are several of a kind."""
    counts = {flag: sum(1 for d in drafts if d.infusion is flag) for flag in (True, False)}
    seen = {True: 0, False: 0}
    steps: list[ScheduleStep] = []
    for draft in drafts:
        seen[draft.infusion] += 1
        base = treat["infusion_key"] if draft.infusion else treat["key"]
        key = base if counts[draft.infusion] == 1 else f"{base}{seen[draft.infusion]}"
        steps.append(replace(draft.step, key=key))
    return steps


def _treatment_steps(study: Study, rules: dict[str, Any], absorbed: set[int]) -> tuple[list[ScheduleStep], list[str]]:
    """One step per intervention (source order) that no pre-treatment step took as its agent, and the infusions
    the outcome time frames count from; notes for a stated infusion that is not one of these steps."""
    treat = rules["treatment"]
    drafts = [_intervention_draft(study, i, treat) for i in range(len(study.interventions)) if i not in absorbed]
    notes = _place_infusion_events(drafts, _infusion_events(study, treat["stated_in_time_frames"]), treat)
    return _numbered(drafts, treat), notes


def _base_key(key: str) -> str:
    return key.rstrip("0123456789")


def _apply_ordering(steps: list[ScheduleStep], units: list[_Unit], rules: dict[str, Any]) -> list[ScheduleStep]:
    """Add `follows` where a sentence of the source states that one step comes after another."""
    out: list[ScheduleStep] = []
    groups = {"descriptions", "arms", "interventions"}
    for step in steps:
        follows: list[str] = list(step.follows)
        sources: list[str] = list(step.sources)
        for rule in rules["ordering"]:
            if _base_key(step.key) != rule["step"]:
                continue
            before = [s.key for s in steps if _base_key(s.key) == rule["after"]]
            if len(before) != 1:
                continue
            found = _find(units, groups, _compile(rule["patterns"]))
            if found.sources:
                follows.append(before[0])
                sources.extend(found.sources)
        out.append(replace(step, follows=_dedupe(follows), sources=_dedupe(sources)))
    return out


# --- visits ------------------------------------------------------------------------------------------


@dataclass
class _Point:
    label: str
    timing: str
    amount: int | None
    unit: str | None
    days: float
    sources: list[str] = field(default_factory=list)
    anchor: str | None = None


@functools.lru_cache(maxsize=8)
def _ends_with_word(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for "ends with one of these words" (per-process cache of a compiled pattern; a run has one
    word list). Each word is its own alternative, so it matches where any one word's `\\bword$` would."""
    return re.compile("|".join(rf"\b{re.escape(w.casefold())}$" for w in words))


def _time_points(frame: str, visits: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(unit word, number, text as written) for each single time point a time frame names, in text order.

    Not a time point: a number right after a window or frequency word ("within 1 year", "per month in month 1"),
    and either bound of a range ("month 2 - month 12", "1-2 months", "weeks 2-12"): a range is not a visit.
    """
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, int, str, str, int, str]] = []  # start, end, form, unit, number, text
    for form in ("unit_first", "number_first"):
        for match in re.finditer(visits[form], frame, re.IGNORECASE):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append((match.start(), match.end(), form, match.group("unit").casefold(), int(match.group("n")),
                          match.group(0)))
    found.sort()
    between = re.compile(visits["range_between"], re.IGNORECASE)
    end_before = re.compile(visits["range_end_before"], re.IGNORECASE)
    start_after = re.compile(visits["range_start_after"], re.IGNORECASE)
    bounds: set[int] = set()
    for k, (start, end, form, *_) in enumerate(found):
        if k + 1 < len(found) and between.fullmatch(frame[end:found[k + 1][0]]):
            bounds |= {k, k + 1}
        if (form == "number_first" and end_before.search(frame[:start])) or \
                (form == "unit_first" and start_after.match(frame[end:])):
            bounds.add(k)
    not_after = _ends_with_word(tuple(visits["not_after"]))
    points: list[tuple[str, int, str]] = []
    for k, (start, _, _, unit, n, text) in enumerate(found):
        before = frame[:start].rstrip().casefold()
        if k in bounds or not_after.search(before):
            continue
        points.append((unit, n, text))
    return points


def _visits(study: Study, steps: list[ScheduleStep], rules: dict[str, Any]) -> tuple[list[Visit], list[str]]:
    spec = rules["visits"]
    points: dict[str, _Point] = {}
    notes: list[str] = []
    keys = {s.key for s in steps}
    baseline = re.compile(spec["baseline"], re.IGNORECASE)
    for i, outcome in enumerate(study.outcomes):
        frame = outcome.time_frame
        if not frame:
            continue
        pointer = json_pointer("outcomes", i, "time_frame")
        anchor = _anchor(frame, spec["anchors"], keys)
        named = False
        match = baseline.search(frame)
        if match:
            named = True
            point = points.setdefault("BL", _Point(spec["baseline_label"], match.group(0), None, None, -1.0))
            point.sources.append(pointer)
        for unit, n, text in _time_points(frame, spec):
            named = True
            info = spec["units"][unit]
            key = f"{info['label'][0]}{n}"
            point = points.setdefault(key, _Point(f"{info['label']} {n}", text, n, info["ucum"],
                                                  n * float(info["days"])))
            point.sources.append(pointer)
            if anchor and point.anchor is None:
                point.anchor = anchor
        if not named:
            notes.append(f"time frame of outcome {i + 1} names no single time point (only windows, ranges or "
                         f"frequencies, or none): {frame!r}")
    ordered = sorted(points.items(), key=lambda kv: (kv[1].days, kv[0]))
    visits = [Visit(key=k, label=p.label, timing=p.timing, sources=_dedupe(p.sources), amount=p.amount,
                    unit=p.unit, anchor=p.anchor) for k, p in ordered]
    return visits, notes


def _anchor(frame: str, anchors: list[dict[str, Any]], keys: set[str]) -> str | None:
    """The step a time frame counts from, when it says so and exactly one such step exists."""
    for rule in anchors:
        if any(re.search(p, frame, re.IGNORECASE) for p in rule["patterns"]):
            candidates = [k for k in sorted(keys) if _base_key(k) in rule["steps"]]
            if len(candidates) == 1:
                return candidates[0]
    return None


# --- entry point -------------------------------------------------------------------------------------


def schedule_epochs(resources: Resources) -> dict[str, Epoch]:
    """The one epoch of each step kind (schedule.yaml `epochs`), for the writers' start-up checks and tests."""
    return {kind: Epoch(**term) for kind, term in resources.mapping(SCHEDULE_MAPPING)["epochs"].items()}


def derive_schedule(study: Study, resources: Resources) -> Schedule:
    """The schedule the study states: keyword-found steps, one step per intervention, the infusions the time
    frames count from, follow-up visits; each step in the one epoch of its kind.

    Steps come in protocol order (the rule order of schedule.yaml, then interventions in source order, then
    follow-up); keys are stable for the same study; every step and visit lists its source pointers.
    """
    rules = resources.mapping(SCHEDULE_MAPPING)
    units = _text_units(study)
    absorbed: set[int] = set()
    steps = _rule_steps(study, units, rules, absorbed)  # screening and pre-treatment (schedule-rules schema)
    treatment, notes = _treatment_steps(study, rules, absorbed)
    steps += treatment
    visits, visit_notes = _visits(study, steps, rules)
    frames = [json_pointer("outcomes", i, "time_frame") for i, o in enumerate(study.outcomes) if o.time_frame]
    if frames:
        fu = rules["follow_up"]
        steps.append(ScheduleStep(key=fu["key"], kind=fu["kind"], title=fu["title"], description=fu["description"],
                                  sources=tuple(frames)))
    steps = _apply_ordering(steps, units, rules)
    epochs = {kind: Epoch(**term) for kind, term in rules["epochs"].items()}
    steps = [replace(step, epoch=epochs[step.kind]) for step in steps]
    return Schedule(steps=tuple(steps), visits=tuple(visits), notes=tuple(notes + visit_notes))
