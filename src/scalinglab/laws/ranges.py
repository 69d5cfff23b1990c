"""The range of models and data a published law was fitted on, and how far a question leaves it.

A scaling law is a fit: inside the sizes it was fitted on it interpolates, outside it extrapolates,
and the further out the less it is worth. ``predict`` and ``optimal`` say so when asked about a
model or a token count outside the fitted range, with the factor by which they leave it.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalinglab.core.numbers import positive


@dataclass(frozen=True)
class FittedRange:
    """Smallest and largest model (parameters) and data (tokens) behind a law's fit.

    Attributes
    ----------
    params, tokens : (float, float)
        Closed ranges, in the law's own parameter convention.
    source : str
        Where the range is stated.
    """

    params: tuple[float, float]
    tokens: tuple[float, float]
    source: str

    def notes(self, params, tokens) -> list[str]:
        """One phrase per quantity outside the range, with the factor; empty inside it.

        Parameters
        ----------
        params, tokens : float, str or array
            The model size(s) and token count(s) asked about, e.g. a law's ``optimum(budgets)``.
            Human strings (``"70B"``) are read as the laws read them.

        Returns
        -------
        list of str
            For a scalar, at most one phrase per quantity. For an array, the most extreme value
            on each side that leaves the range: up to two phrases per quantity ("N up to ... above",
            "N down to ... below").

        >>> CHINCHILLA_RUNS.notes(70e9, 1e11)
        ['N = 7e+10 is 4.38x above the largest model fitted (1.6e+10)']
        >>> CHINCHILLA_RUNS.notes([1e9, 630e9], [2e10, 1e11])
        ['N up to 6.3e+11 is 39.4x above the largest model fitted (1.6e+10)']
        """
        out = []
        for label, value, (low, high) in (("N", params, self.params), ("D", tokens, self.tokens)):
            what = "model" if label == "N" else "token count"
            arr = positive(value, "params" if label == "N" else "tokens")
            if arr.ndim == 0:  # the scalar wording, as the CLI prints it
                value = float(arr)
                if value > high:
                    out.append(f"{label} = {value:.3g} is {value / high:.3g}x above the largest {what} fitted ({high:.3g})")
                elif value < low:
                    out.append(f"{label} = {value:.3g} is {low / value:.3g}x below the smallest {what} fitted ({low:.3g})")
                continue
            # An array (a frontier over budgets) can leave the range on both sides; say how far the
            # most extreme value goes on each.
            top, bottom = float(arr.max()), float(arr.min())
            if top > high:
                out.append(f"{label} up to {top:.3g} is {top / high:.3g}x above the largest {what} fitted ({high:.3g})")
            if bottom < low:
                out.append(f"{label} down to {bottom:.3g} is {low / bottom:.3g}x below the smallest {what} fitted ({low:.3g})")
        return out

    def as_dict(self) -> dict:
        return {"params": list(self.params), "tokens": list(self.tokens), "source": self.source}


#: Hoffmann et al. 2022 (arXiv 2203.15556), abstract and §3: over 400 runs of 70M to 16B
#: parameters on 5B to 500B tokens [P]. Epoch's 2024 refit uses a digitisation of the same runs.
CHINCHILLA_RUNS = FittedRange(
    params=(70e6, 16e9), tokens=(5e9, 500e9),
    source="Hoffmann et al. 2022 abstract, §3: 70M-16B parameters, 5B-500B tokens [P]",
)

#: Kaplan et al. 2020 (arXiv 2001.08361) §1.2: N from 768 to 1.5e9 non-embedding parameters,
#: D from 22M to 23B tokens [P].
KAPLAN_RUNS = FittedRange(
    params=(768.0, 1.5e9), tokens=(22e6, 23e9),
    source="Kaplan et al. 2020 §1.2: 768-1.5e9 non-embedding parameters, 22M-23B tokens [P]",
)
