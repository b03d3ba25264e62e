"""The code keeps its layers: core, accounts and audit at the bottom, the networks above
them, the desk's parts above those, and no module importing from a layer above its own
(the contract is in pyproject.toml, [tool.importlinter]; imports inside functions count)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_module_imports_from_a_layer_above_its_own():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is missing: `make test` installs the dev extra"
    done = subprocess.run(
        [lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
