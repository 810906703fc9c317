"""`mbcalc table NAME --format json` starts light: it loads neither numpy nor Rich's tables.

The command runs in its own interpreter, as a user runs it, with `-X importtime`, which lists
on stderr every module the process imports. bench/startup.py times the same command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

V1_MULT_ADDS = 568_740_352  # MobileNet v1 1.0-224, the paper's figure


def imported_modules(importtime_log: str) -> set[str]:
    """Module names of a `-X importtime` log (its last column, indented by depth)."""
    return {
        line.rpartition("|")[2].strip()
        for line in importtime_log.splitlines()
        if line.startswith("import time:") and not line.endswith("imported package")
    }


def test_imported_modules_reads_an_importtime_log() -> None:
    log = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       261 |        261 |   yaml.error\n"
        "import time:     21376 |      55030 | mbcalc.views.export\n"
    )
    assert imported_modules(log) == {"yaml.error", "mbcalc.views.export"}


def test_table_as_json_imports_neither_numpy_nor_rich_tables(tmp_path: Path) -> None:
    command = [sys.executable, "-X", "importtime", "-m", "mbcalc", "table", "mobilenet_v1"]
    result = subprocess.run(
        [*command, "--format", "json"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"]["mult_adds"] == V1_MULT_ADDS
    modules = imported_modules(result.stderr)
    assert "mbcalc" in modules, "no import log: is -X importtime honoured?"
    heavy = {module for module in modules if module.partition(".")[0] == "numpy"}
    assert heavy == set()
    assert "rich.table" not in modules
