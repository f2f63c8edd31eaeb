"""``python bench/scheduler.py``: runs ``bench/reminder_scale.py`` (reminders at scale, next to one
APScheduler job per reminder; see its docstring).

Only a door. Run as a script, this file's folder comes first on ``sys.path``, where this file's
name would hide the service's ``scheduler`` package; so the folder goes before the benchmark
runs. Every other benchmark has the same folder first, so there this file is what ``import
scheduler`` finds: it then hands the name over to the real package. mypy skips this file (it
would be a second module named ``scheduler``).
"""

import importlib
import runpy
import sys
from pathlib import Path

here = Path(__file__).resolve().parent


def _without_here() -> list[str]:
    return [p for p in sys.path if Path(p or ".").resolve() != here]


if __name__ == "__main__":
    sys.path[:] = _without_here()
    sys.modules.pop("scheduler", None)  # this file, when imported under that name
    runpy.run_path(str(here / "reminder_scale.py"), run_name="__main__")
else:
    # Imported as ``scheduler`` by another benchmark: the import returns what sys.modules holds
    # under the name once this file has run, so the real package is put there.
    saved = sys.path[:]
    sys.path[:] = _without_here()
    try:
        del sys.modules[__name__]
        sys.modules[__name__] = importlib.import_module(__name__)
    finally:
        sys.path[:] = saved
