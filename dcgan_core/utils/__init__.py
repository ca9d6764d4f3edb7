"""Shared helpers, the bottom layer: run provenance, atomic writes, torch helpers, named random streams."""
