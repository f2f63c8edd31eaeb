"""``python bench/scheduler.py``: runs ``bench/reminder_scale.py`` (reminders at scale, next to one
APScheduler job per reminder; see its docstring).

Only a door: run as a script, this file's folder comes first on ``sys.path``, where this file's
name would hide the service's ``scheduler`` package; so the folder goes before the benchmark
runs. mypy skips this file (it would be a second module named ``scheduler``).
"""

import runpy
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
sys.modules.pop("scheduler", None)  # this file, when imported under that name
runpy.run_path(str(here / "reminder_scale.py"), run_name="__main__")
