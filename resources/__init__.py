"""The files digitsum reads at run time, installed as the package ``digitsum_resources``.

pyproject.toml maps this folder to that package, so a wheel carries the default model, its
card and int8 ranges, the digit bank, the samples, the icon and the desktop entry, and an
editable install finds them here. Code reaches them through ``core.RESOURCES``.
"""
