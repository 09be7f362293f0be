"""Project invariants: a light `import sqc`, one dependency list in two files, notebooks without outputs, the
README's two commands and CI calling the test one."""
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATS_MODULES = ["sqc", "sqc.io", "sqc.spc", "sqc.kpi", "sqc.servqual", "sqc.reliability", "sqc.audit", "sqc.agreement",
                 "sqc.complaints", "sqc.nps", "sqc.qfd", "sqc.scorecard", "sqc.tables", "sqc.demo", "sqc.pipeline"]


def test_statistics_do_not_import_panel_or_jupyter():
    code = ("import importlib, sys\n"
            f"for m in {STATS_MODULES!r}:\n"
            "    importlib.import_module(m)\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'panel', 'bokeh', 'holoviews', 'hvplot', 'jupyter_client', 'ipykernel', 'papermill', 'nbclient', 'IPython'})\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def _names(reqs):
    return {re.split(r"[<>=!~ \[]", r.strip(), maxsplit=1)[0].lower() for r in reqs if r.strip()}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    py = _names(project["dependencies"] + project["optional-dependencies"]["report"]
                + project["optional-dependencies"]["test"])
    import yaml

    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    env_lines = [d for d in deps if isinstance(d, str)]
    conda = _names(env_lines) - {"python", "pip"}
    assert py == conda, f"only in pyproject: {py - conda}; only in environment.yml: {conda - py}"


def test_notebooks_are_committed_without_outputs():
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells), f"{nb.name} has outputs"
        assert not any(c.get("execution_count") for c in cells), f"{nb.name} has execution counts"
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{nb.name} needs exactly one cell tagged 'parameters'"


def test_readme_two_commands_and_ci():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:\w+)?\n(.*?)```", readme, re.S).group(1)
    commands = [l for l in block.splitlines() if l.strip()]
    assert len(commands) == 2, commands
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
