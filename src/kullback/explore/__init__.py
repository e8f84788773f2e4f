"""The interactive explorer: drag P and Q in a browser and watch entropy, cross-entropy and KL.

- :func:`explore_html`: the page for a pair (or the textbook pair), a ``str`` of self-contained
  HTML that also displays inline in Jupyter; :meth:`ExplorerPage.save` writes it atomically.
- :data:`PRESETS`: the pairs the page offers with one click.
- ``kullback explore`` (:mod:`kullback.cli.commands.explore`) writes the page from the command
  line.

The page computes every number in the browser with a port of the core's kernels
(``measures.js``: KL as Bregman terms, JS as Bregman terms against the mixture) and carries the
library's own values for the pair it opens with; the browser tests check both against ``kb``.
"""

from kullback.explore._page import UNITS, ExplorerPage, explore_html, library_values
from kullback.explore._presets import PRESETS, Pair

__all__ = ["PRESETS", "UNITS", "ExplorerPage", "Pair", "explore_html", "library_values"]
