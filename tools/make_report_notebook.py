"""Write notebooks/monthly_report.ipynb (kept as code so the notebook's cells are reviewable in diffs)."""
from pathlib import Path

import nbformat as nbf

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
cells = [
    nbf.v4.new_markdown_cell(
        "# Monthly service-quality report\n\n"
        "Executed by `sqc report` (papermill) for one period; the executed copy is kept beside the dashboard as the "
        "run log. It only loads data, calls `sqc` and presents: every statistic lives in the `sqc` package.\n\n"
        "Run it by hand in JupyterLab by editing the parameters cell."),
    nbf.v4.new_code_cell(
        "# Parameters (papermill overrides these)\n"
        "period = \"2026-10\"        # report month, YYYY-MM\n"
        "data_dir = None            # folder with the network tables (None: the bundled demo data)\n"
        "branches = None            # list of branch ids (None: all branches)\n"
        "languages = [\"en\"]         # [\"en\"], [\"zh\"] or [\"en\", \"zh\"]\n"
        "output_dir = \"../reports/_adhoc\"  # where the dashboards and summary.json are written",
        metadata={"tags": ["parameters"]}),
    nbf.v4.new_code_cell(
        "import pandas as pd\n"
        "from sqc.io import load_network\n"
        "from sqc.diagnostics import warnings_frame\n"
        "from sqc.report.dashboard import headline_frame, write_report\n"
        "pd.set_option(\"display.width\", 160)\n\n"
        "data = load_network(data_dir)\n"
        "periods = data.periods\n"
        "print(f\"data: {data.data_dir}  periods {periods[0]}..{periods[-1]}  fingerprint {data.fingerprint()[:12]}\")\n"
        "data.load_summary()"),
    nbf.v4.new_code_cell(
        "# parallel: the second language is drawn in a forked process while this one draws the first\n"
        "report = write_report(data, period, branches=branches, languages=languages, output_dir=output_dir,\n"
        "                      parallel=True)\n"
        "sections = report[\"sections\"][languages[0]]\n"
        "for path in report[\"dashboards\"]:\n"
        "    print(\"dashboard:\", path)\n"
        "print(\"summary:  \", report[\"summary\"])"),
    nbf.v4.new_markdown_cell("## Headline numbers (with n and 95% intervals)"),
    nbf.v4.new_code_cell("headline_frame(sections)"),
    nbf.v4.new_markdown_cell("## What changed, and warnings raised"),
    nbf.v4.new_code_cell(
        "for s in sections:\n"
        "    for note in s.notes:\n"
        "        print(f\"[{s.key}] {note}\")\n"
        "warnings_frame([w for s in sections for w in s.warnings])"),
]
nb.cells = cells
out = Path(__file__).resolve().parents[1] / "notebooks" / "monthly_report.ipynb"
nbf.write(nb, out)
print("wrote", out)
