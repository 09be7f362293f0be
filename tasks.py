#!/usr/bin/env python3
"""Set-up and entry points behind the README's two commands (needs only python3 ≥ 3.11 and the package registries).

    python3 tasks.py demo     build .venv, then publish the report of the latest month of the bundled demo data
    python3 tasks.py docs     build .venv (+ docs tools), then the documentation site into docs/_build/html
                              (warnings are errors; the tutorials in notebooks/tutorial_*.ipynb are executed)
    python3 tasks.py test     build .venv (+ test and docs tools, pyspark, Chromium for the browser tests and Java 17
                              for the Spark engine tests), then run the test suite (it builds the docs too)

Each step is idempotent: the virtualenv is rebuilt only when pyproject.toml changes.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
CHROMIUM_PACKAGES = ["chromium"]
CJK_FONT_PACKAGES = ["fonts-noto-cjk"]
JAVA_PACKAGES = ["openjdk-17-jre-headless"]


# Single-threaded BLAS: the statistics work on small matrices, where OpenBLAS threads on a 2-core machine cost far
# more than they save (a 100,000 x 44 product took 0.64 s threaded vs 0.008 s single-threaded here).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def run(cmd, **kw) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=kw.pop("cwd", ROOT), **kw)


def ensure_env(extras: str) -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"sqc needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    started = time.time()
    if not PY.exists():
        run([sys.executable, "-m", "venv", VENV])
    stamp = VENV / f".sqc-installed-{extras.replace(',', '-')}"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != want:
        run([PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([PY, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]"])
        stamp.write_text(want)
        print(f"environment ready in {time.time() - started:.0f} s", flush=True)
    return PY


def apt_install(packages: list[str], why: str) -> None:
    """Install Debian packages when this user can (root with apt-get); otherwise say what to install."""
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)
    else:
        print(f"note: this user cannot apt-get install {' '.join(packages)}; install the Debian package(s) to "
              f"{why}", flush=True)


def cjk_font_missing() -> bool:
    """True when no font with Chinese glyphs is installed (the Chinese dashboard's charts need one: sqc refuses to
    draw a chart whose text a font cannot show, rather than print empty boxes)."""
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
        return not out.strip()
    return not any(next(Path(d).glob("**/*CJK*"), None) for d in ("/usr/share/fonts", "/usr/local/share/fonts"))


def ensure_demo_system_packages() -> None:
    """Debian's Noto CJK fonts, for the charts of the Chinese dashboard, when no CJK font is installed."""
    if cjk_font_missing():
        apt_install(CJK_FONT_PACKAGES, "draw the Chinese dashboard's charts (the Chinese report fails without a CJK font)")


def ensure_test_system_packages() -> None:
    """Debian packages the tests drive, installed in one apt-get run when absent: Chromium and CJK fonts for the
    browser tests and the Chinese dashboard, a Java 17 runtime for Spark's local mode in the engine tests."""
    missing = []
    if not Path("/usr/bin/chromium").exists():
        missing += CHROMIUM_PACKAGES
    if cjk_font_missing():
        missing += CJK_FONT_PACKAGES
    home = os.environ.get("JAVA_HOME")
    if not (shutil.which("java") or (home and (Path(home) / "bin" / "java").exists())):
        missing += JAVA_PACKAGES
    if missing:
        apt_install(missing, "run the browser and Spark engine tests (they are skipped without them)")


def demo(args) -> int:
    py = ensure_env("report")
    ensure_demo_system_packages()
    return subprocess.call([str(py), "-m", "sqc.cli", "report", "--latest", *args], cwd=ROOT)


def test(args) -> int:
    py = ensure_env("report,test,spark,docs")
    ensure_test_system_packages()
    return subprocess.call([str(py), "-m", "pytest", *args], cwd=ROOT)


def docs(args) -> int:
    py = ensure_env("report,docs")
    out = ROOT / "docs" / "_build" / "html"
    code = subprocess.call([str(py), "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", *args,
                            str(ROOT / "docs"), str(out)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if code == 0:
        print(f"documentation: {out / 'index.html'}", flush=True)
    return code


def main(argv) -> int:
    commands = {"demo": demo, "test": test, "docs": docs}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
