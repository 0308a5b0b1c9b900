"""Renderers: a ``Result`` in, text out. Only ``table`` knows about Rich."""
