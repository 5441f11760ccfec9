"""``python -m core`` is ``digitsum``."""

from core.cli.main import run

run()
