"""README.md opens with the two commands a user types, and CI runs the second one verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_opens_with_the_app_and_test_commands_that_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```bash\n(.*?)\n```$", readme, flags=re.MULTILINE | re.DOTALL)
    app, tests = blocks[:2]
    assert readme.index(app) < readme.index("\n## ")  # before any section: the first thing read
    # python3, not python3.11: a stock Ubuntu 24.04 or Debian 13 has only its own python3
    assert app.startswith("python3 -m venv .venv && ") and app.endswith("digitsum-gui resources/samples")
    assert tests.startswith("python3 -m venv .venv && ") and tests.endswith("python -m pytest -q -n 2")
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
