"""ketaclinic: safe ketamine therapy.

Layers (imports point down only; see DESIGN.md and the import-linter contracts):
``cli`` -> ``services`` -> ``protocols`` -> ``safety`` -> ``pharmacology``.
``errors`` and ``ranges`` sit beside every layer.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
