"""Schemas of the service-network tables (the data contract) and the data dictionary built from them.

Every table that :mod:`sqc.io` loads is declared here once as a :class:`~sqc.schema.TableSchema`; the same
declarations drive validation on load (``sqc.schema.validate``) and the data dictionary in ``datasets/README.md``
(:func:`data_dictionary_markdown`), so the documentation cannot drift from what is checked.

``SCHEMAS``       table name -> TableSchema
``TABLE_FILES``   table name -> path relative to a data directory (a file, or a folder of monthly files)
``INSTRUMENT_FILES`` survey instrument version -> file name (the item wording, see ``sqc.servqual``)

Examples
--------
>>> from sqc.tables import SCHEMAS, TABLE_FILES
>>> SCHEMAS["hotline"].key
('contact_id',)
>>> TABLE_FILES["hotline"]
'hotline'
"""
from __future__ import annotations

import pandas as pd

from .schema import Column, TableSchema

BRANCHES = tuple(f"B{i:02d}" for i in range(1, 13))
DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
#: SERVQUAL item numbers per dimension (items 1-4, 5-9, 10-13, 14-17, 18-22).
DIMENSION_ITEMS = {"tangibles": tuple(range(1, 5)), "reliability": tuple(range(5, 10)),
                   "responsiveness": tuple(range(10, 14)), "assurance": tuple(range(14, 18)),
                   "empathy": tuple(range(18, 23))}
N_ITEMS = 22
COMPLAINT_CHANNELS = ("hotline", "walk_in", "online", "regulator")
COMPLAINT_CATEGORIES = ("billing", "network", "installation", "staff_attitude", "waiting_time", "product_info",
                        "other")
SEVERITIES = ("low", "medium", "high")
SEGMENTS = ("consumer", "business", "senior")
ASSESSOR_BODIES = ("provincial", "city")
KPIS = ("service_level", "asa_s", "abandonment_rate", "aht_s", "fcr_rate", "csat_mean", "complaint_rate_per_1000",
        "audit_score", "nps")
DIRECTIONS = ("higher_is_better", "lower_is_better")
INSTRUMENT_VERSIONS = ("v1", "v2")
INCIDENT_TYPES = ("late_report", "untrue_report", "upheld_regulator_complaint", "unreported_outage",
                  "safety_violation", "serious_violation")
#: Chase & Stewart's (1994) fail-safing taxonomy: server errors and customer errors, three kinds each.
FAILURE_TYPES = ("server_task", "server_treatment", "server_tangible", "customer_preparation", "customer_encounter",
                 "customer_resolution")
#: Service-blueprint lanes, top to bottom; the lines of interaction, visibility and internal interaction lie
#: between consecutive lanes.
BLUEPRINT_LANES = ("customer", "onstage", "backstage", "support")
INTERVENTION_KINDS = ("fail_safe", "process_change", "training", "other")

#: The longest plausible wait or handling time of one contact (24 h); a larger value is an export fault.
PLAUSIBLE_SECONDS = 24 * 3600

# Branch ids are the organisation's own: any id declared in branches.csv (checked across tables by sqc.io).
_BRANCH = Column("branch", "str", "Branch (walk-in service hall) id, as declared in branches.csv")
_PERIOD = Column("period", "period", "Reporting month", unit="YYYY-MM")


def _likert(prefix: str, what: str, *, required: bool) -> list[Column]:
    cols = []
    for i in range(1, N_ITEMS + 1):
        dim = next(d for d, items in DIMENSION_ITEMS.items() if i in items)
        cols.append(Column(f"{prefix}{i}", "int", f"{what}, item {i} ({dim}); raw answer as given (reverse-keyed "
                           f"items are NOT recoded here: see the instrument file)", unit="1-7 agreement",
                           min=1, max=7, nullable=True, required=required))
    return cols


branches = TableSchema(
    "branches",
    (Column("branch", "str", "Branch id (the organisation's own ids; every other table refers to these)"),
     Column("name_en", "str", "Branch name in English"),
     Column("name_zh", "str", "Branch name in Simplified Chinese"),
     Column("county_en", "str", "County in English"),
     Column("county_zh", "str", "County in Simplified Chinese")),
    "The walk-in service halls of the network and the county each belongs to.",
    key=("branch",))

volumes = TableSchema(
    "volumes",
    (_BRANCH, _PERIOD,
     Column("walk_ins", "int", "Customers served in the service hall during the month", unit="customers", min=0),
     Column("active_customers", "int", "Active customer accounts attached to the branch at the end of the month "
            "(the exposure for complaint rates)", unit="accounts", min=0)),
    "Monthly exposure per branch: walk-in customers served and active customer base.",
    key=("branch", "period"))

targets = TableSchema(
    "targets",
    (Column("kpi", "category", "KPI name", allowed=KPIS),
     Column("target", "float", "Target value, in the KPI's unit"),
     Column("direction", "category", "Whether higher or lower values are better", allowed=DIRECTIONS),
     Column("unit", "str", "Unit of the KPI and its target"),
     Column("definition_en", "str", "How the KPI is computed (English)"),
     Column("definition_zh", "str", "How the KPI is computed (Simplified Chinese)")),
    "Network-wide KPI targets with their definitions.",
    key=("kpi",))

hotline = TableSchema(
    "hotline",
    (Column("contact_id", "int", "Unique contact id (yyyymmdd followed by a 7-digit daily sequence)", min=0),
     Column("ts", "datetime", "Time the contact entered the queue (local time)"),
     Column("branch", "str", "Queue the contact was offered to (each branch has its own hotline queue; a branch "
            "id declared in branches.csv)"),
     Column("wait_s", "float", "Seconds in queue until answered, or until the caller hung up if abandoned "
            "(more than 24 h is not plausible: refused)", unit="s", min=0, max=PLAUSIBLE_SECONDS),
     Column("answered", "bool", "True if an agent answered; False = abandoned in queue"),
     Column("handle_s", "float", "Handle time = talk + hold + after-contact work; null if not answered "
            "(more than 24 h is not plausible: refused)", unit="s", min=0, max=PLAUSIBLE_SECONDS, nullable=True),
     Column("resolved_first_contact", "bool", "Issue resolved with no repeat contact within 7 days; null if not "
            "answered", nullable=True),
     Column("csat", "int", "Post-contact satisfaction rating; null if the caller was not surveyed",
            unit="1-5 rating", min=1, max=5, nullable=True)),
    "Raw hotline contacts, one row per contact offered to a branch queue; stored as one file per month.",
    key=("contact_id",))

complaints = TableSchema(
    "complaints",
    (Column("complaint_id", "str", "Unique complaint id"),
     Column("opened_at", "datetime", "When the complaint was registered"),
     Column("closed_at", "datetime", "When the complaint was closed; null = still open at the data cut-off",
            nullable=True),
     _BRANCH,
     Column("channel", "category", "Where the complaint came in", allowed=COMPLAINT_CHANNELS),
     Column("category", "category", "Subject of the complaint", allowed=COMPLAINT_CATEGORIES),
     Column("severity", "category", "Severity assigned at registration", allowed=SEVERITIES),
     Column("recovered", "bool", "Customer confirmed a satisfactory resolution at closing; null if still open",
            nullable=True),
     Column("reopened", "bool", "The complaint was reopened at least once after a closing")),
    "Customer complaints with their handling times and outcome.",
    key=("complaint_id",))

_importance = [Column(f"I_{d}", "float", f"Points allocated to {d} out of 100 (allocations that do not sum to "
                      f"100 are kept as given)", unit="points of 100", min=0, max=100, nullable=True)
               for d in DIMENSIONS]

survey = TableSchema(
    "survey",
    (Column("respondent_id", "str", "Unique respondent id"),
     Column("wave", "period", "Survey wave (quarterly)", unit="YYYY-MM"),
     _BRANCH,
     Column("segment", "category", "Customer segment", allowed=SEGMENTS),
     Column("instrument", "category", "Questionnaire version used (see survey_instrument_<version>.csv for the "
            "wording and which items are reverse-keyed)", allowed=INSTRUMENT_VERSIONS),
     *_likert("E", "Expectation of an excellent operator", required=True),
     *_likert("P", "Perception of this branch", required=True),
     *_likert("A", "Adequate (minimum acceptable) service level; only in waves that used the three-column format",
              required=False),
     *_likert("D", "Desired service level; only in waves that used the three-column format", required=False),
     *_importance,
     Column("overall", "int", "Overall service quality of the branch", unit="1-7 rating", min=1, max=7,
            nullable=True),
     Column("recommend", "int", "Likelihood to recommend the operator", unit="0-10 rating", min=0, max=10,
            nullable=True)),
    "SERVQUAL survey, one row per respondent (wide format): expectations E, perceptions P, zone-of-tolerance "
    "adequate A and desired D levels, importance allocation, overall quality and likelihood to recommend.",
    key=("respondent_id",))

checklist = TableSchema(
    "checklist",
    (Column("item_id", "str", "Checklist item id"),
     Column("section", "str", "Checklist section the item belongs to"),
     Column("text_en", "str", "What the assessor checks (English)"),
     Column("text_zh", "str", "What the assessor checks (Simplified Chinese)"),
     Column("max_score", "int", "Highest score of the item (1 = yes/no item)", unit="points", min=1),
     Column("weight", "float", "Weight of the item within its section", min=0),
     Column("critical", "bool", "Knock-out item: a zero score has consequences beyond its weight"),
     Column("na_allowed", "bool", "The item may be marked not applicable (N/A)")),
    "Walk-through audit / mystery-shopper checklist definition.",
    key=("item_id",))

audit_visits = TableSchema(
    "audit_visits",
    (Column("visit_id", "str", "Visit id (one visit = one assessor at one branch on one day)"),
     _BRANCH, _PERIOD,
     Column("visit_date", "datetime", "Date of the visit"),
     Column("assessor_body", "category", "Body that sent the assessor", allowed=ASSESSOR_BODIES),
     Column("assessor_id", "str", "Assessor id"),
     Column("item_id", "str", "Checklist item id (see checklist)"),
     Column("score", "float", "Item score, 0..max_score of the item; null = not applicable", unit="points",
            min=0, nullable=True)),
    "Audit visit item scores, long format: one row per visit and checklist item.",
    key=("visit_id", "item_id"))

incidents = TableSchema(
    "incidents",
    (Column("incident_id", "str", "Unique incident id"),
     _BRANCH,
     Column("date", "datetime", "Date of the incident"),
     _PERIOD,
     Column("type", "category", "Incident type (each type carries a fixed deduction)", allowed=INCIDENT_TYPES),
     Column("deduction", "float", "Points deducted from the branch's monthly audit score", unit="points", min=0),
     Column("veto", "bool", "Veto incident: sets the branch's score to the floor for the period"),
     Column("description", "str", "What happened")),
    "Per-branch incidents with fixed point deductions (and rare veto incidents).",
    key=("incident_id",))

_TEXT_LIST = "several values separated by ';'"

blueprint_steps = TableSchema(
    "blueprint_steps",
    (Column("step_id", "str", "Blueprint step id (interventions refer to it)"),
     Column("stage", "int", "Position of the step along the customer journey, left to right", min=1),
     Column("lane", "category", "Blueprint lane: customer actions, onstage (visible) contact-person actions, "
            "backstage (invisible) actions, support processes", allowed=BLUEPRINT_LANES),
     Column("text_en", "str", "What happens at this step (English)"),
     Column("text_zh", "str", "What happens at this step (Simplified Chinese)"),
     Column("failure_en", "str", "The failure point at this step, if any (English)", nullable=True),
     Column("failure_zh", "str", "The failure point at this step, if any (Simplified Chinese)", nullable=True),
     Column("failure_type", "category", "Kind of failure (Chase & Stewart): server task / treatment / tangible, "
            "customer preparation / encounter / resolution; empty when the step has no failure point",
            allowed=FAILURE_TYPES, nullable=True),
     Column("complaint_category", "category", "Complaint category counted as this failure point's failures",
            allowed=COMPLAINT_CATEGORIES, nullable=True),
     Column("checklist_item", "str", "Audit checklist item whose failed checks count as this failure point's "
            "defects (see checklist)", nullable=True)),
    "Service blueprint of the walk-in and hotline journey: one row per step, with its failure point and the "
    "measures that count its failures.",
    key=("step_id",))

interventions = TableSchema(
    "interventions",
    (Column("intervention_id", "str", "Intervention id (one id, one row per branch it applies to)"),
     Column("kind", "category", "Fail-safe (poka-yoke), process change, training or other",
            allowed=INTERVENTION_KINDS),
     Column("name_en", "str", "Short name (English)"),
     Column("name_zh", "str", "Short name (Simplified Chinese)"),
     Column("description_en", "str", "What was changed and how it prevents the failure (English)"),
     Column("description_zh", "str", "What was changed and how it prevents the failure (Simplified Chinese)"),
     Column("step_id", "str", "Blueprint step whose failure point it guards (see blueprint_steps)"),
     Column("failure_type", "category", "Kind of failure it guards against (Chase & Stewart)",
            allowed=FAILURE_TYPES),
     _BRANCH,
     Column("start_date", "datetime", "Date the intervention started at this branch (roll-outs may be staggered)"),
     Column("complaint_categories", "str", f"Complaint categories it should reduce ({_TEXT_LIST}); the first is "
            "the primary outcome", nullable=True),
     Column("kpis", "str", f"KPIs it should move ({_TEXT_LIST})", nullable=True),
     Column("checklist_items", "str", f"Audit checklist items it should improve ({_TEXT_LIST})", nullable=True)),
    "Register of fail-safes and other interventions: one row per intervention and branch, with the date it "
    "started there, the blueprint failure point it guards and the measures it should move.",
    key=("intervention_id", "branch"))

limit_stages = TableSchema(
    "limit_stages",
    (Column("chart", "str", "Whose control chart: a branch id declared in branches.csv, or ALL for the network"),
     Column("kpi", "category", "KPI whose control limits start a new stage", allowed=KPIS),
     Column("start", "period", "First month of the new stage: limits are recalculated from this month on",
            unit="YYYY-MM"),
     Column("reason_en", "str", "Why the process changed at that month, e.g. a new routing system (English)",
            nullable=True),
     Column("reason_zh", "str", "Why the process changed at that month (Simplified Chinese)", nullable=True)),
    "Stage table kept by the analyst: months where a KPI's control limits are recalculated because the process "
    "was deliberately changed. A chart listed here takes its stages from this table instead of the automatic "
    "sustained-shift rule.",
    key=("chart", "kpi", "start"))

SCHEMAS: dict[str, TableSchema] = {s.name: s for s in (branches, volumes, targets, hotline, complaints, survey,
                                                          checklist, audit_visits, incidents, blueprint_steps,
                                                          interventions, limit_stages)}

#: Relative location of each table in a data directory. ``hotline`` is a folder of ``YYYY-MM.parquet`` files;
#: small reference tables are CSV (as users export them), large ones Parquet (zstd).
TABLE_FILES: dict[str, str] = {
    "branches": "branches.csv",
    "volumes": "volumes.csv",
    "targets": "targets.csv",
    "hotline": "hotline",
    "complaints": "complaints.parquet",
    "survey": "survey.parquet",
    "checklist": "checklist.csv",
    "audit_visits": "audit_visits.parquet",
    "incidents": "incidents.csv",
    "blueprint_steps": "blueprint_steps.csv",
    "interventions": "interventions.csv",
    "limit_stages": "limit_stages.csv",
}

#: Tables an organisation may not keep (yet): the loader should accept a data folder without them (an empty
#: register means "no interventions recorded", not an error).
OPTIONAL_TABLES = ("blueprint_steps", "interventions", "limit_stages")

#: The survey instrument (item wording and keying) used by each questionnaire version.
INSTRUMENT_FILES: dict[str, str] = {"v1": "survey_instrument_v1.csv", "v2": "survey_instrument_v2.csv"}


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _compress_survey(dictionary: pd.DataFrame) -> pd.DataFrame:
    """Collapse the 22 columns of each item block (E1..E22 ...) into one row ``E1..E22`` for readability."""
    rows, seen = [], set()
    for rec in dictionary.to_dict("records"):
        name = rec["column"]
        prefix = name.rstrip("0123456789")
        if prefix in ("E", "P", "A", "D") and name != prefix:
            if prefix in seen:
                continue
            seen.add(prefix)
            rec = dict(rec, column=f"{prefix}1..{prefix}22",
                       description=rec["description"].split(", item")[0] + "; items 1-4 tangibles, 5-9 reliability, "
                       "10-13 responsiveness, 14-17 assurance, 18-22 empathy (reverse-keyed items are NOT recoded: "
                       "see the instrument file)")
        rows.append(rec)
    return pd.DataFrame(rows)


def data_dictionary_markdown(schemas: dict[str, TableSchema] | None = None,
                             files: dict[str, str] | None = None) -> str:
    """The data dictionary of every table as Markdown, generated from the schemas.

    One section per table: its description, file location, key, and a table with column, type, unit, allowed
    values or range, whether it may be null and whether it is required. The 22-item survey blocks are shown as
    one row each (``E1..E22``).

    Examples
    --------
    >>> md = data_dictionary_markdown()
    >>> "### hotline" in md and "| wait_s |" in md
    True
    """
    schemas = SCHEMAS if schemas is None else schemas
    files = TABLE_FILES if files is None else files
    out = []
    for name, schema in schemas.items():
        out.append(f"### {name}\n")
        out.append(f"{schema.description}\n")
        loc = files.get(name)
        if loc is not None:
            where = f"`{loc}/YYYY-MM.parquet` (one file per month)" if "." not in loc else f"`{loc}`"
            out.append(f"File: {where}. Key: {', '.join(f'`{k}`' for k in schema.key) or '(none)'}.\n")
        d = schema.dictionary()
        if name == "survey":
            d = _compress_survey(d)
        out.append("| column | type | unit | allowed / range | nullable | required | description |")
        out.append("|---|---|---|---|---|---|---|")
        for rec in d.to_dict("records"):
            allowed = rec["allowed"] or rec["range"]
            out.append("| " + " | ".join(_md_escape(x) for x in (
                rec["column"], rec["type"], rec["unit"], allowed, "yes" if rec["nullable"] else "no",
                "yes" if rec["required"] else "no", rec["description"])) + " |")
        out.append("")
    return "\n".join(out)
