"""digitsum's desktop app (PySide6). The only package with Qt in it; all computing is in ``core``."""
