"""``python -m core.train``: the training script (what the Retrain dialog and torchrun run)."""

import sys

from core.train.script import run_cli

if __name__ == "__main__":  # not again in a spawned worker
    sys.exit(run_cli())
