"""Training: ``digitsum train`` (``python -m core.train``), its data, runs and progress events."""
