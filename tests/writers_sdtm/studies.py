"""Hand-built canonical studies for the SDTM writer tests.

`seed_001_study` follows seed page 001 (NCT06420154, anti-CD19 CAR-T in autoimmune diseases): only what the
page states (it lists no conditions and no outcome measures), criteria texts as on the page with its Markdown
escapes removed, the long criteria lists cut to a few items per kind (a lead-in with sub-items, a criterion over
200 characters, the exclusion cohort heading); the other studies exercise what the seeds do not have (an observational
study, comparator arms, long texts, no arms at all). They stand in for the registry-page reader's goldens
(tests/golden/seeds/*.study.json) in the unit tests.
"""

from __future__ import annotations

from converters.model import (
    Age,
    Arm,
    CriteriaSection,
    Criterion,
    DatePrecision,
    Design,
    Eligibility,
    Enrollment,
    Identifier,
    IdentifierKind,
    Intervention,
    Masking,
    Organization,
    Outcome,
    OutcomeKind,
    PartialDate,
    Site,
    SourceInfo,
    Sponsors,
    Status,
    Study,
    Titles,
)


def _date(value: str, kind: str | None = None) -> PartialDate:
    precision = {4: DatePrecision.YEAR, 7: DatePrecision.MONTH, 10: DatePrecision.DAY}[len(value)]
    return PartialDate(value=value, precision=precision, type=kind)


def _source(name: str, fmt: str = "registry-page") -> SourceInfo:
    digest = (name.encode().hex() * 64)[:64]
    return SourceInfo(file=name, format=fmt, sha256=digest)


LAB_LEAD_IN = (
    "When screening patients, laboratory tests must meet the following requirements and they must not have "
    "received cell growth factors within 7 days before screening hematology assessment (long-acting "
    "colony-stimulating factor (G-CSF/PEG-CSF) requires an interval of 2 weeks):"
)
LAB_ITEMS = [
    "Absolute neutrophil count ≥1.0×10^9/L;",
    "Hemoglobin ≥60 g/L (without red blood cell transfusion within 14 days);",
    "Platelets ≥50×10^9/L;",
]

LONG_CRITERION = (
    "Definition of relapse and refractory: Conventional treatment is ineffective or disease activity reappears "
    "after remission. The definition of routine treatment: the use of glucocorticoids (more than 1 mg/Kg/d) and "
    "cyclophosphamide, and any one or more of the following immunomodulatory drugs for more than 6 months: "
    "antimalarial drugs, azathioprine, mycophenolate mofetil , methotrexate, leflunomide,tacrolimus,cyclosporine, "
    "and biological agents including rituximab, belimumab, tatacept, etc."
)


def seed_001_study() -> Study:
    return Study(
        source=_source("001_f387f9769c9c7516.txt"),
        identifiers=[
            Identifier(value="NCT06420154", kind=IdentifierKind.REGISTRY, registry="nct"),
            Identifier(value="CD19-CN-A4", kind=IdentifierKind.SPONSOR),
        ],
        titles=Titles(brief="The Safety and Efficacy of Anti-CD19 CAR-T Cells in Patients With Relapsed/Refractory "
                            "Autoimmune Diseases"),
        status=Status(overall="NOT_YET_RECRUITING", start=_date("2024-05-27"), completion=_date("2027-05-27"),
                      last_update_posted=_date("2024-05-17")),
        sponsors=Sponsors(lead=Organization(name="Shanghai First Song Therapeutics Co., Ltd",
                                            organization_class="INDUSTRY"),
                          collaborators=[Organization(name="First Affiliated Hospital of Wenzhou Medical University",
                                                      organization_class="OTHER")]),
        detailed_description=(
            "Study intervention consists of a single infusion of CAR-transduced autologous T cells administered "
            "intravenously after a lymphodepleting therapy regimen consisting of fludarabine and cyclophosphamide."
        ),
        design=Design(study_type="INTERVENTIONAL", phases=["EARLY_PHASE1"], allocation="NA",
                      intervention_model="SINGLE_GROUP", primary_purpose="TREATMENT",
                      masking=Masking(masking="NONE"), enrollment=Enrollment(count=9)),
        arms=[Arm(label="Treatment group", intervention_names=["anti-CD19-CAR-T cells"],
                  description="The subjects received infusions of anti-CD19 CAR-T cells following completion of "
                              "lymphodepleting preconditioning chemotherapy.")],
        interventions=[Intervention(
            name="anti-CD19-CAR-T cells", arm_group_labels=["Treatment group"],
            description="The subjects received infusions of anti-CD19 CAR-T cells following completion of "
                        "lymphodepleting preconditioning chemotherapy.",
            dosing=["1×10^5 cells/Kg; 3×10^5 cells/Kg; 1×10^6 cells/Kg"], frequency="single infusion")],
        eligibility=Eligibility(
            criteria=[
                CriteriaSection(category="inclusion", heading="Inclusion Criteria", items=[
                    Criterion(text="Aged 18-65 years old;", marker="2."),
                    Criterion(text="ECOG score ≤ 2 points;", marker="3."),
                    Criterion(text="Expected survival period is at least 12 weeks;", marker="4."),
                    Criterion(text=LAB_LEAD_IN, marker="6.", children=[
                        Criterion(text=t, marker=f"{i}.") for i, t in enumerate(LAB_ITEMS, start=1)]),
                    Criterion(text="Comply with the 2019 European League Against Rheumatism/American College of "
                                   "Rheumatology (EULAR/ACR) SLE classification criteria;", marker="1."),
                    Criterion(text=LONG_CRITERION, marker="4."),
                ]),
                CriteriaSection(category="exclusion", heading="Exclusion Criteria", items=[
                    Criterion(text="Past medication:", marker="4.", children=[
                        Criterion(text="CD19 targeted therapy;", marker="1."),
                        Criterion(text="Inject live vaccines within 4 weeks before enrollment;", marker="2."),
                    ]),
                    Criterion(text="Relapsed Refractory/Progressive Inflammatory Myopathy", heading=True, children=[
                        Criterion(text="Drug-induced myositis", marker="1."),
                        Criterion(text="Inclusion body myositis;", marker="2."),
                        Criterion(text="Tumor-related myositis (myositis occurring within 2 years after tumor "
                                       "diagnosis).", marker="3."),
                    ]),
                ]),
            ],
            healthy_volunteers=False, sex="ALL",
            minimum_age=Age(value=18, unit="YEARS", text="18 Years"),
            maximum_age=Age(value=65, unit="YEARS", text="65 Years"),
        ),
        sites=[Site(facility="The First Affiliated Hospital of Wenzhou Medical University", city="Wenzhou",
                    state="Zhejiang", country="China")],
    )


LONG_TITLE = (
    "A Randomized, Double-blind, Placebo-controlled, Multicenter Phase 2/3 Study to Evaluate the Efficacy and "
    "Safety of Drug X Given Once Daily in Adults With Moderately to Severely Active Systemic Lupus "
    "Erythematosus Who Had an Inadequate Response to Standard of Care Therapy"
)


def randomized_study() -> Study:
    """A completed randomised, placebo-controlled study with a title over 200 characters."""
    return Study(
        source=_source("randomized.json", "ctgov-v2-json"),
        identifiers=[
            Identifier(value="NCT01234567", kind=IdentifierKind.REGISTRY, registry="nct"),
            Identifier(value="2019-001234-11", kind=IdentifierKind.SECONDARY, registry="eudract",
                       type="EUDRACT_NUMBER"),
            Identifier(value="XYZ-301", kind=IdentifierKind.SPONSOR),
        ],
        titles=Titles(brief="Drug X in Systemic Lupus Erythematosus", official=LONG_TITLE, acronym="LUPX"),
        status=Status(overall="COMPLETED", start=_date("2020-03-02", "ACTUAL"),
                      completion=_date("2023-11", "ACTUAL"), last_update_posted=_date("2024-01-15", "ACTUAL")),
        sponsors=Sponsors(lead=Organization(name="Example Pharma", organization_class="INDUSTRY")),
        design=Design(study_type="INTERVENTIONAL", phases=["PHASE3", "PHASE2"], allocation="RANDOMIZED",
                      intervention_model="PARALLEL", primary_purpose="OTHER",
                      masking=Masking(masking="QUADRUPLE"), enrollment=Enrollment(count=412, type="ACTUAL"),
                      number_of_groups=2),
        arms=[Arm(label="Drug X 10 mg", type="EXPERIMENTAL", intervention_names=["Drug X"]),
              Arm(label="Placebo", type="PLACEBO_COMPARATOR", intervention_names=["Placebo"])],
        interventions=[Intervention(name="Drug X", type="DRUG", arm_group_labels=["Drug X 10 mg"],
                                    description="Drug X 10 mg tablet once daily for 52 weeks."),
                       Intervention(name="Placebo", type="DRUG", arm_group_labels=["Placebo"])],
        eligibility=Eligibility(
            criteria=[
                CriteriaSection(category="inclusion", items=[
                    Criterion(text="Diagnosis of SLE for at least 24 weeks", marker="1."),
                    Criterion(text="SLEDAI-2K score of 6 or more", marker="2.")]),
                CriteriaSection(category="exclusion", items=[
                    Criterion(text="Active lupus nephritis", marker="1.")]),
                CriteriaSection(category="unspecified", items=[Criterion(text="Able to swallow tablets")]),
            ],
            healthy_volunteers=False, sex="FEMALE", minimum_age=Age(value=18, unit="YEARS", text="18 Years"),
            maximum_age=Age(value=75, unit="YEARS", text="75 Years"), std_ages=["ADULT", "OLDER_ADULT"]),
        conditions=["Systemic Lupus Erythematosus"],
        outcomes=[Outcome(kind=OutcomeKind.PRIMARY, measure="SRI-4 response at Week 52", time_frame="Week 52"),
                  Outcome(kind=OutcomeKind.OTHER, measure="Pharmacokinetics of Drug X",
                          time_frame="Baseline, Week 4, Week 12")],
        sites=[Site(facility="Site 1", country="United States"), Site(facility="Site 2", country="Germany"),
               Site(facility="Site 3", country="United States")],
    )


LONG_CITATION = (
    "Example A, Example B, Example C. Long-term registry follow-up of a prospective cohort of adults with systemic "
    "lupus erythematosus: design, baseline characteristics and first results of a multinational collaboration "
    "across academic centres. Lupus Sci Med. 2021;8(1):e000999."
)


def observational_study() -> Study:
    """A completed observational cohort from a ct.gov record: no maximum age means no limit there."""
    from converters.model import Reference

    return Study(
        source=_source("observational.json", "ctgov-v2-json"),
        identifiers=[Identifier(value="NCT07654321", kind=IdentifierKind.REGISTRY, registry="nct")],
        titles=Titles(brief="Lupus Cohort Study"),
        status=Status(overall="COMPLETED", start=_date("2019-01", "ACTUAL"), completion=_date("2022-06-30", "ACTUAL"),
                      last_update_submitted=_date("2022-08")),
        sponsors=Sponsors(lead=Organization(name="University Hospital")),
        keywords=["lupus", "registry"],
        design=Design(study_type="OBSERVATIONAL", observational_model="COHORT", time_perspective="PROSPECTIVE",
                      enrollment=Enrollment(count=120, type="ACTUAL"), target_duration="2 Years",
                      bio_spec_retention="SAMPLES_WITH_DNA", bio_spec_description="Whole blood, serum"),
        eligibility=Eligibility(healthy_volunteers=True, sex="ALL",
                                minimum_age=Age(value=6, unit="MONTHS", text="6 Months"),
                                sampling_method="NON_PROBABILITY_SAMPLE",
                                study_population="Patients of the lupus clinic and their healthy relatives"),
        conditions=["Systemic Lupus Erythematosus"],
        countries=["United States", "Korea, Republic of", "Atlantis"],
        references=[Reference(pmid="12345678", citation=LONG_CITATION)],
    )


def bare_study() -> Study:
    """A page that states nothing usable: every required TS parameter gets a null flavour."""
    return Study(source=_source("bare.txt"))
