"""Why a training run cannot go on, as one line (``core.errors.DigitsumError``)."""

from __future__ import annotations

from core.errors import DigitsumError


class TrainingError(DigitsumError, RuntimeError):
    """A run that cannot go on (bad data, non-finite loss, unreadable --init or --resume)."""
