"""Hand-built canonical studies for the FHIR writer tests (no reader needed).

`cell_therapy_study` follows seed page 001 (NCT06420154, anti-CD19 CAR-T) closely, with the parts that page
lacks (sites with contacts, a central contact, a reference, a link) filled from ClinicalTrials.gov practice, so
that every builder has something to write. `bare_study` has nothing but its source.
"""

from __future__ import annotations

from converters.model import (
    Age,
    Arm,
    Contact,
    CriteriaSection,
    Criterion,
    DatePrecision,
    Design,
    Eligibility,
    Enrollment,
    GeoPoint,
    Identifier,
    IdentifierKind,
    Intervention,
    Link,
    Official,
    Organization,
    Outcome,
    OutcomeKind,
    PartialDate,
    Reference,
    RelatedStudy,
    ResponsibleParty,
    Site,
    SourceInfo,
    SourceLocation,
    Sponsors,
    Status,
    Study,
    Titles,
)

SHA = "0" * 63 + "1"


def bare_study(file: str = "empty-page.txt") -> Study:
    return Study(source=SourceInfo(file=file, format="registry-page", sha256=SHA))


def cell_therapy_study() -> Study:
    criteria = [
        CriteriaSection(category="inclusion", heading="Inclusion Criteria", items=[
            Criterion(text="Aged 18-65 years old;", marker="2."),
            Criterion(text="Have good intravenous access (for apheresis) and have no other contraindications;",
                      marker="5."),
            Criterion(text="When screening patients, laboratory tests must meet the following requirements:",
                      marker="6.", children=[
                          Criterion(text="Absolute neutrophil count ≥1.0×10^9/L;", marker="1."),
                          Criterion(text="Platelets ≥50×10^9/L;", marker="3."),
                      ]),
            Criterion(text="Systemic lupus erythematosus", heading=True, children=[
                Criterion(text="Meet the 2019 EULAR/ACR classification criteria for SLE;", marker="1."),
            ]),
        ]),
        CriteriaSection(category="exclusion", heading="Exclusion Criteria", items=[
            Criterion(text="Severe <uncontrolled> infection & sepsis;", marker="2."),
            Criterion(text="Long-acting growth factors within 14 days before apheresis (such as pegfilgrastim);",
                      marker="6."),
        ]),
    ]
    provenance = {
        "/identifiers/0/value": SourceLocation(line=2),
        "/identifiers/1/value": SourceLocation(line=180),
        "/titles/brief": SourceLocation(line=1),
        "/status/overall": SourceLocation(line=8),
        "/status/start": SourceLocation(line=12),
        "/status/completion": SourceLocation(line=13),
        "/design/phases": SourceLocation(line=9),
        "/design/enrollment/count": SourceLocation(line=10),
        "/sponsors/lead/name": SourceLocation(line=150),
        "/eligibility/criteria/0/items/0/text": SourceLocation(line=60),
        "/eligibility/criteria/0/items/2/children/1/text": SourceLocation(line=66),
        "/eligibility/minimum_age": SourceLocation(line=140),
        "/interventions/0/dosing/0": SourceLocation(line=50),
        "/outcomes/0/time_frame": SourceLocation(line=90),
    }
    return Study(
        source=SourceInfo(file="001_f387f9769c9c7516.txt", format="registry-page", layout="study-card",
                          sha256="f387f9769c9c7516" + "0" * 48),
        identifiers=[
            Identifier(value="NCT06420154", kind=IdentifierKind.REGISTRY, registry="nct"),
            Identifier(value="CD19-CN-A4", kind=IdentifierKind.SPONSOR),
            Identifier(value="2024-512345-12-00", kind=IdentifierKind.SECONDARY, registry="euct", type="CTIS"),
        ],
        titles=Titles(brief="The Safety and Efficacy of Anti-CD19 CAR-T Cells in Patients With Relapsed/Refractory"
                            " Autoimmune Diseases", official="Anti-CD19 CAR-T in R/R Autoimmune Diseases",
                      acronym="CART-AID"),
        status=Status(
            overall="NOT_YET_RECRUITING",
            start=PartialDate(value="2024-05-27", precision=DatePrecision.DAY, type="ESTIMATED"),
            primary_completion=PartialDate(value="2026-05", precision=DatePrecision.MONTH, type="ESTIMATED"),
            completion=PartialDate(value="2027", precision=DatePrecision.YEAR),
        ),
        sponsors=Sponsors(
            lead=Organization(name="Shanghai First Song Therapeutics Co., Ltd", organization_class="INDUSTRY"),
            collaborators=[Organization(name="First Affiliated Hospital of Wenzhou Medical University",
                                        organization_class="OTHER")],
            responsible_party=ResponsibleParty(
                type="PRINCIPAL_INVESTIGATOR", investigator_name="Li Sun",
                investigator_title="Professor and Chief Physician",
                investigator_affiliation="First Affiliated Hospital of Wenzhou Medical University"),
        ),
        brief_summary="A study of anti-CD19 CAR-T cells in relapsed/refractory autoimmune diseases.",
        detailed_description=(
            "Study intervention consists of a single infusion of CAR-transduced autologous T cells administered "
            "intravenously after a lymphodepleting therapy regimen consisting of fludarabine and cyclophosphamide. "
            "Interim analysis will be performed when the last participant finishes the visit of 12 weeks after "
            "CAR-T cells infusion."),
        conditions=["Systemic Lupus Erythematosus", "ANCA Associated Vasculitis"],
        keywords=["CAR-T", "CD19"],
        design=Design(study_type="INTERVENTIONAL", phases=["PHASE1", "PHASE2"], allocation="NA",
                      intervention_model="SINGLE_GROUP", primary_purpose="TREATMENT",
                      enrollment=Enrollment(count=9, type="ESTIMATED")),
        arms=[Arm(label="Treatment group", type="EXPERIMENTAL",
                  description="The subjects received infusions of anti-CD19 CAR-T cells following completion of "
                              "lymphodepleting preconditioning chemotherapy.",
                  intervention_names=["anti-CD19-CAR-T cells"])],
        interventions=[Intervention(
            name="anti-CD19-CAR-T cells", type="BIOLOGICAL",
            description="The subjects received infusions of anti-CD19 CAR-T cells following completion of "
                        "lymphodepleting preconditioning chemotherapy.",
            arm_group_labels=["Treatment group"],
            dosing=["1×10^5 cells/Kg; 3×10^5 cells/Kg; 1×10^6 cells/Kg"], frequency="single infusion")],
        outcomes=[
            Outcome(kind=OutcomeKind.PRIMARY, measure="Incidence of adverse events",
                    time_frame="Within 1 years after CAR-T cell infusion(month 1, month 3, month 6)"),
            Outcome(kind=OutcomeKind.SECONDARY, measure="SRI-4 response", description="SLE responder index",
                    time_frame="Baseline, 12 weeks"),
            Outcome(kind=OutcomeKind.OTHER, measure="Quality of life", time_frame="Up to 2 years"),
        ],
        eligibility=Eligibility(criteria=criteria, healthy_volunteers=False, sex="ALL",
                                minimum_age=Age(value=18, unit="YEARS", text="18 Years"),
                                maximum_age=Age(value=65, unit="YEARS", text="65 Years")),
        central_contacts=[Contact(name="Li Sun", role="CONTACT", phone="+86 577 0000000", phone_ext="12",
                                  email="sun@example.org")],
        officials=[Official(name="LI Sun", degrees="Master's", role="PRINCIPAL_INVESTIGATOR",
                            affiliation="First Affiliated Hospital of Wenzhou Medical University")],
        sites=[Site(facility="The First Affiliated Hospital of Wenzhou Medical University", status="RECRUITING",
                    city="Wenzhou", state="Zhejiang", zip="325000", country="China",
                    geo_point=GeoPoint(lat=27.99942, lon=120.66682),
                    contacts=[Contact(name="Wei Chen", role="CONTACT", email="chen@example.org")])],
        countries=["China"],
        references=[Reference(pmid="12345678", type="BACKGROUND", citation="Doe J. CAR-T in SLE. 2023.")],
        links=[Link(label="Sponsor page", url="https://example.org/cart")],
        related_studies=[RelatedStudy(identifier="NCT06373081", relation="similar",
                                      title="Anti-CD19-CD3E-CAR-T Cells in Relapsed/Refractory Autoimmune Disease")],
        provenance=provenance,
    )
