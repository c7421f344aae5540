"""ketaclinic: safe ketamine therapy.

Layers (imports point down only; see docs/architecture.md and the import-linter contracts)::

    cli | web -> services -> store | compute | validation -> protocols -> safety | outcomes
    -> pharmacology

``errors``, ``ranges`` and ``config`` sit beside every layer.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
