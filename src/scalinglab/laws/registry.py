"""Named presets of the published laws: ``get_law("hoffmann2022")`` and friends.

The Chinchilla-form constants live here, once each, beside the table, equation or notebook cell
they come from; Kaplan's live in :mod:`scalinglab.laws.kaplan`. Three Epoch-like constant sets
circulate and must not be mixed (Besiroglu et al. 2024; docs/laws.md); two of them are presets here.

=========================  ==========================================================================
name                       constants
=========================  ==========================================================================
hoffmann2022               Hoffmann et al. 2022 Eq. 10, rounded: E 1.69, A 406.4, B 410.7, α 0.34,
                           β 0.28 [P]
hoffmann2022-unrounded     the same fit with the TeX source's digits, via its log-sum-exp
                           parameters (a, b, e) [P, code: Epoch ``data_analysis.ipynb`` cell 27]
epoch2024                  Besiroglu et al. 2024 maximum-likelihood refit of Chinchilla Fig. 4
                           [P, code: ``data_analysis.ipynb`` cells 25-26]
epoch2024-rounded          the same, as printed in the paper's table [S, quoted by several
                           repositories; not re-checked against the PDF]
kaplan2020                 Kaplan et al. 2020 joint L(N, D) (Table 2) and Table 6 frontier [P]
=========================  ==========================================================================
"""

from __future__ import annotations

import math
from types import MappingProxyType

from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import ParametricLaw
from scalinglab.laws.kaplan import KaplanLaw
from scalinglab.laws.ranges import CHINCHILLA_RUNS

#: Hoffmann et al. 2022 (arXiv 2203.15556), Eq. 10 (Approach 3), rounded as printed [P].
#: N total parameters including embeddings; loss in nats on MassiveText.
HOFFMANN_2022 = ParametricLaw(
    E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28,
    name="hoffmann2022", fitted_range=CHINCHILLA_RUNS,
    source="Hoffmann et al. 2022 (arXiv 2203.15556), Eq. 10, rounded [P]",
)

#: The unrounded Approach-3 estimates, as log-sum-exp parameters: A = e^a, B = e^b, E = e^e
#: (Hoffmann App. D.2 parametrisation). Values from the paper's TeX source as read by Epoch,
#: ``epoch-research/analyzing-chinchilla`` ``data_analysis.ipynb`` cell 27 [P, code]; they are also
#: the defaults of the ``chinchilla`` PyPI simulator. Only these reproduce Fig. 4's "about 40B
#: parameters" at the Gopher budget (the rounded set gives 32B [C]).
_HOFFMANN_UNROUNDED_LSE = {"a": 6.0073404, "b": 6.0179186, "e": 0.5267228,
                           "alpha": 0.33917084, "beta": 0.2849083}
HOFFMANN_2022_UNROUNDED = ParametricLaw(
    E=math.exp(_HOFFMANN_UNROUNDED_LSE["e"]),
    A=math.exp(_HOFFMANN_UNROUNDED_LSE["a"]),
    B=math.exp(_HOFFMANN_UNROUNDED_LSE["b"]),
    alpha=_HOFFMANN_UNROUNDED_LSE["alpha"],
    beta=_HOFFMANN_UNROUNDED_LSE["beta"],
    name="hoffmann2022-unrounded", fitted_range=CHINCHILLA_RUNS,
    source="Hoffmann et al. 2022, Eq. 10 unrounded (TeX source); "
           "epoch-research/analyzing-chinchilla data_analysis.ipynb cell 27 [P, code]",
)

#: Besiroglu, Erdil, Barnett, You 2024, "Chinchilla Scaling: A replication attempt" (arXiv
#: 2404.10102): maximum-likelihood refit on 240 points digitised from Chinchilla Fig. 4;
#: ``epoch-research/analyzing-chinchilla`` ``data_analysis.ipynb`` cells 25-26 [P, code].
EPOCH_2024 = ParametricLaw(
    E=1.816864, A=482.00572, B=2085.43420, alpha=0.34781303, beta=0.36585412,
    name="epoch2024", fitted_range=CHINCHILLA_RUNS,
    source="Besiroglu et al. 2024 (arXiv 2404.10102), MLE; "
           "epoch-research/analyzing-chinchilla data_analysis.ipynb cells 25-26 [P, code]",
)

#: The same estimates rounded as in the paper's table. [S]: quoted by several repositories, not
#: re-checked against the PDF. Moves losses by about 0.003 against ``epoch2024``.
EPOCH_2024_ROUNDED = ParametricLaw(
    E=1.82, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658,
    name="epoch2024-rounded", fitted_range=CHINCHILLA_RUNS,
    source="Besiroglu et al. 2024 (arXiv 2404.10102), paper table, rounded [S, unverified]",
)

#: Kaplan et al. 2020; constants in :mod:`scalinglab.laws.kaplan`. N is NON-embedding parameters.
KAPLAN_2020 = KaplanLaw()

#: Every preset by name (lower case). Other law modules may add entries with :func:`register`.
_LAWS: dict = {
    law.name: law
    for law in (HOFFMANN_2022, HOFFMANN_2022_UNROUNDED, EPOCH_2024, EPOCH_2024_ROUNDED, KAPLAN_2020)
}
#: A read-only view: ``LAWS["epoch2024"] = x`` would change a published preset for the whole
#: process; :func:`register` is the one way in, and it refuses to replace a name.
LAWS = MappingProxyType(_LAWS)

#: Short names people type, mapped to the preset they mean.
ALIASES = {
    "chinchilla": "hoffmann2022",
    "hoffmann": "hoffmann2022",
    "epoch": "epoch2024",
    "kaplan": "kaplan2020",
}

# The default is Epoch's replication, not Hoffmann's printed Eq. 10: Besiroglu et al. 2024 show the
# published Approach-3 fit is inconsistent with Approaches 1 and 2 (its rounded constants give
# ~60-100 tokens per parameter at 1e23-1e24 FLOPs), while their refit of the same data gives the
# ~20 tokens per parameter that Approaches 1-2 and practice agree on.
DEFAULT_LAW = "epoch2024"


def register(law) -> None:
    """Add a preset under ``law.name`` (lower-cased); a name may be registered only once."""
    key = law.name.lower()
    if key in LAWS and LAWS[key] is not law:
        raise ScalingLabError(f"law {law.name!r} is already registered")
    _LAWS[key] = law


def get_law(name=DEFAULT_LAW):
    """The preset called ``name`` (case-insensitive; aliases ``chinchilla``, ``epoch``, ``kaplan``).

    Parameters
    ----------
    name : str or law object
        A preset name or alias. A law object (anything with ``predict`` and ``optimum``, such as
        a :class:`~scalinglab.laws.chinchilla.ParametricLaw` you built or a fit's ``law_``) is
        returned unchanged, so every function taking ``law=`` accepts either.

    Raises
    ------
    ScalingLabError
        For an unknown name; the message lists the known ones.
    """
    if not isinstance(name, str) and callable(getattr(name, "predict", None)) \
            and callable(getattr(name, "optimum", None)):
        return name
    if not isinstance(name, str):
        # Not a name and not a law: say what it is, not a repr that may run to pages.
        raise ScalingLabError(f"law: expected a preset name or a law object with predict() and "
                              f"optimum(), got a {type(name).__name__}")
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in LAWS:
        raise ScalingLabError(f"unknown law {name!r}; known laws: {', '.join(sorted(LAWS))}")
    return LAWS[key]


def list_laws() -> list[dict]:
    """Every preset as a dict: ``name``, ``source``, ``form``, ``params_convention``, ``fitted_range``
    (the runs behind the fit, or ``None``) and the constants."""
    rows = []
    for key in sorted(LAWS):
        law = LAWS[key]
        row = dict(law.as_dict())
        row["name"] = key
        row.setdefault("params_convention",
                       "total" if isinstance(law, ParametricLaw) else "see source")
        row["form"] = _FORMS.get(type(law).__name__, type(law).__name__)
        fitted = getattr(law, "fitted_range", None)
        row["fitted_range"] = None if fitted is None else fitted.as_dict()
        rows.append(row)
    return rows


_FORMS = {
    "ParametricLaw": "L = E + A/N^alpha + B/D^beta",
    "KaplanLaw": "L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D",
}
