"""Every notebook in notebooks/ executes top to bottom on the bundled demo data (the monthly report notebook is
executed through the pipeline in test_report_e2e.py)."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if p.name != "monthly_report.ipynb")

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(notebook, tmp_path):
    import papermill as pm

    pm.execute_notebook(str(notebook), str(tmp_path / notebook.name), kernel_name="python3",
                        cwd=str(notebook.parent), progress_bar=False, execution_timeout=900)


def test_there_is_an_exploration_notebook_per_area():
    stems = {p.stem for p in NOTEBOOKS}
    for area in ("spc", "servqual", "reliability", "audit", "complaints"):
        assert f"{area}_explore" in stems, f"notebooks/{area}_explore.ipynb missing"
