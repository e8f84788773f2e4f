"""The explorer's starting points: named pairs of distributions a learner can load with one click.

Each preset is one :class:`Pair` in :data:`PRESETS`, listed once. The weather pair is the bundled
example (``examples/weather_observed.json`` against ``examples/weather_forecast.json``), aligned
by label as ``kullback explain`` aligns it: P's outcomes first, then those only Q has, which get
probability 0 in P. The examples directory is not installed with the package, so the numbers are
repeated here; a test checks that they match the files.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRESETS", "TEXTBOOK", "Pair"]


@dataclass(frozen=True)
class Pair:
    """Two distributions on the same outcomes, with names for the page.

    Attributes
    ----------
    key : str
        A short identifier (``"textbook"``), used by the page's buttons.
    title : str
        The button's text.
    labels : tuple of str
        The outcome names.
    p, q : tuple of float
        Non-negative masses (probabilities or counts), one per outcome.
    p_name, q_name : str
        What P and Q stand for (``"observed"``, ``"forecast"``).
    blurb : str
        One sentence on what the pair shows.
    """

    key: str
    title: str
    labels: tuple[str, ...]
    p: tuple[float, ...]
    q: tuple[float, ...]
    p_name: str
    q_name: str
    blurb: str


TEXTBOOK = Pair(
    key="textbook",
    title="Textbook pair",
    labels=("A", "B", "C"),
    p=(0.42, 0.31, 0.27),
    q=(0.25, 0.5, 0.25),
    p_name="the true distribution",
    q_name="the model",
    blurb="The pair a widely read tutorial rounds to KL = 0.07 nats; the exact value is 0.0905.",
)

PRESETS: tuple[Pair, ...] = (
    TEXTBOOK,
    Pair(
        key="die",
        title="Fair vs loaded die",
        labels=("1", "2", "3", "4", "5", "6"),
        p=(1, 1, 1, 1, 1, 1),
        q=(0.1, 0.1, 0.1, 0.1, 0.1, 0.5),
        p_name="a fair die",
        q_name="a die loaded towards six",
        blurb="Betting as if the die were loaded when it is fair wastes code length on every "
        "throw but a six.",
    ),
    Pair(
        key="weather",
        title="Weather: observed vs forecast",
        labels=("sunny", "cloudy", "rain", "snow", "fog", "hail"),
        p=(142, 104, 81, 20, 18, 0),
        q=(0.45, 0.25, 0.20, 0.05, 0.03, 0.02),
        p_name="a year of observed weather",
        q_name="the forecast",
        blurb="The forecast allows hail, which never happened: KL(P‖Q) is finite, but KL(Q‖P) is "
        "infinite.",
    ),
    Pair(
        key="identical",
        title="Identical distributions",
        labels=("A", "B", "C"),
        p=(0.5, 0.3, 0.2),
        q=(0.5, 0.3, 0.2),
        p_name="the true distribution",
        q_name="a perfect model",
        blurb="P = Q: every divergence is 0 and each cross-entropy equals the entropy.",
    ),
    Pair(
        key="ruled-out",
        title="Q rules out an outcome",
        labels=("A", "B", "C"),
        p=(0.5, 0.3, 0.2),
        q=(0.6, 0.4, 0.0),
        p_name="the true distribution",
        q_name="an overconfident model",
        blurb="Q gives C probability 0 although P allows it: KL(P‖Q) is infinite.",
    ),
)
