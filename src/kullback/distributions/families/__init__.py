"""The declared distribution families, one module per kind.

Importing this package registers every family (see :func:`kullback.distributions._family.family`).
To add a family: write one class in the module of its kind, decorated with ``@family``; the
adapters, the validation, the closed-form registry's derived pairs, the quadrature and the
summation pick it up from its declarations.
"""

from kullback.distributions.families import continuous, discrete, multivariate

__all__ = ["continuous", "discrete", "multivariate"]
