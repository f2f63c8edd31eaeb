"""``amobridge demo``: the real service against the emulators, playing a sales morning.

- `story`: the scripted morning (`run_demo`) and what it prints.
- `people`: the people it plays in Telegram and Slack, the demo's clock and its patience.
- `play`: ``--interactive``, the person at the terminal playing Ivan afterwards.
"""

from sandbox.demo.people import seconds_until
from sandbox.demo.story import run_demo

__all__ = ["run_demo", "seconds_until"]
