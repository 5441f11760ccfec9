"""digitsum core: read the sum of four handwritten digits in 40x168 images, without Qt."""

__version__ = "0.1.0"
