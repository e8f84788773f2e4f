"""Estimate entropy, cross-entropy, KL divergence and mutual information from samples.

``kullback.measures`` computes information measures of *known* distributions; this package
estimates them from *data* (category labels, token streams, continuous measurements), with
honest error bars (``ci=0.95`` returns an :class:`Estimate` with ``low <= value <= high``).
The formulas, the methods' accuracy and the interval machinery are described in
docs/estimate.md.

>>> import numpy as np
>>> from kullback import estimate
>>> labels = ["a", "b", "a", "c", "a", "b", "a", "d"]
>>> round(estimate.entropy(labels, method="plugin"), 6)  # the empirical distribution's entropy
1.213008
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(0.0, 1.0, size=5000)  # N(0, 1): entropy 1.4189 nats
>>> round(estimate.entropy(x), 1)
1.4

Kinds of data: floating arrays of shape (n,) or (n, d) are continuous samples; integer, bool,
string or object arrays are discrete labels (``kind=`` overrides). Methods, one table
(:data:`kullback.estimate._methods.METHODS`):

================  ============  ==========================================================
method            data          estimates
================  ============  ==========================================================
``"plugin"``      discrete      entropy, cross-entropy, KL, mutual information (delta CI)
``"miller_madow"``  discrete    entropy, cross-entropy, KL, mutual information (delta CI)
``"grassberger"``   discrete    entropy (default), mutual information (bootstrap CI)
``"chao_shen"``   discrete      entropy (bootstrap CI)
``"james_stein"``   discrete    entropy, mutual information (bootstrap CI)
``"nsb"``         discrete      entropy, needs ``alphabet_size`` (posterior CI)
``"knn"``         continuous    entropy, cross-entropy, KL (Kozachenko-Leonenko, Wang-
                                Kulkarni-Verdu; grouped CI); ``"kl"`` is its deprecated name
``"spacing"``     continuous    entropy of 1-D samples (Vasicek m-spacing; grouped CI)
``"ksg"``         continuous    mutual information (Kraskov-Stögbauer-Grassberger 1)
================  ============  ==========================================================

Layout: :mod:`._api` (the public functions), :mod:`._inputs` (conversion to NumPy, kinds,
validation, counts), :mod:`._methods` (the method table), :mod:`._discrete` and :mod:`._nsb`
(estimators on counts, through the core's kernels), :mod:`._knn` (k-nearest-neighbour and
spacing estimators), :mod:`._ksg` (KSG mutual information), :mod:`._intervals` (standard
errors and intervals).

Array inputs: lists, tuples, NumPy arrays and CPU arrays of other libraries (torch, JAX,
array-api-strict, pandas) are copied to NumPy explicitly; a torch tensor that requires grad,
a non-CPU tensor, a traced JAX value or a Dask array raises ``TypeError``. Results are
Python floats (or :class:`Estimate`); the estimators are not differentiable.
"""

from kullback._result import Estimate
from kullback.estimate._api import cross_entropy, entropy, kl_divergence, mutual_information

__all__ = ["Estimate", "cross_entropy", "entropy", "kl_divergence", "mutual_information"]
