"""Draw docs/report-week.png: the chart Anna gets from ``/report week`` at the end of
``amobridge demo`` (the demo's scripted morning, its emulators, the real service).

    .venv/bin/python scripts/report_week_png.py [docs/report-week.png]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sandbox.demo import run_demo


async def _no_input() -> str | None:
    return None


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report-week.png")
    code = asyncio.run(run_demo(print, interactive=False, read_line=_no_input,
                                report_period="week", chart_to=target))  # fmt: skip
    print(f"\nThe chart is in {target}." if code == 0 else "\nNo chart: the demo stopped.")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
