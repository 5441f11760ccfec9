"""``python -m core`` is ``digitsum``."""

from core.cli import run

run()
