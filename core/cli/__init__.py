"""The ``digitsum`` command line: its commands and their argument types."""
