"""Composed four-digit images: the digit bank, where the digits go, the composer."""
