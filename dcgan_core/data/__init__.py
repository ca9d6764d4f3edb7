"""Packed datasets: the format (packed.py), real sources (sources.py), embedded and synthetic sets."""

from .packed import Pack, PackError, PackWriter, load_pack

__all__ = ["Pack", "PackError", "PackWriter", "load_pack"]
