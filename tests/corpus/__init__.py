"""A corpus of hostile, broken and oddly-structured submissions, built at test time from the release.

See :mod:`corpus.catalogue` for the variants and :mod:`corpus.attacks` for the attacks.
"""

from .catalogue import catalogue, hostile_batches
from .model import FULL, Expect, Outcome, Variant, Workspace

__all__ = ["FULL", "Expect", "Outcome", "Variant", "Workspace", "catalogue", "hostile_batches"]
