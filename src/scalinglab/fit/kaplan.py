"""Kaplan's joint law L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D (Kaplan et al. 2020, Eq. 1.5/4.1).

Fitted with the Approach-3 machinery's choices (docs/fitting.md): summed Huber loss (δ = 1e-3) on
log-loss residuals, analytic gradient, L-BFGS-B with ``ftol = 0`` and a tight ``gtol``, started from
a small grid. In log form, with ρ = α_N/α_D,

    log L̂ = α_D · LSE(ρ·(log N_c − log N),  log D_c − log D).

N here is whatever the ``params`` column holds; Kaplan used non-embedding parameters.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.fit import huber as H
from scalinglab.fit._base import ParamsMixin
from scalinglab.fit._checks import require_fitted
from scalinglab.fit.parametric import GRAD_ACCEPT, HOFFMANN_DELTA, _predict_inputs, as_arrays

#: Starting grid over (log N_c, log D_c, ρ = α_N/α_D, α_D); spans Kaplan's Table 2 values
#: (N_c 6.4e13 → 31.8, D_c 1.8e13 → 30.5, ρ 0.74, α_D 0.103) and far beyond.
_GRID = ((15.0, 22.0, 29.0, 36.0), (15.0, 22.0, 29.0, 36.0), (0.4, 0.8, 1.6), (0.05, 0.1, 0.2, 0.4))


def _parts(theta, log_n, log_d):
    nc, dc, rho, ad = theta
    u1 = rho * (nc - log_n)
    u2 = dc - log_d
    m = np.maximum(u1, u2)
    x1 = np.exp(np.maximum(u1 - m, -60.0))
    x2 = np.exp(np.maximum(u2 - m, -60.0))
    s = x1 + x2
    return m + np.log(s), x1 / s, x2 / s


def _value_grad(theta, log_n, log_d, log_l, delta):
    nc, dc, rho, ad = theta
    lse, p1, p2 = _parts(theta, log_n, log_d)
    r = log_l - ad * lse
    psi = np.clip(r, -delta, delta)
    f = float(H.huber(r, delta).sum())
    g = -np.array([
        (psi * ad * p1 * rho).sum(),
        (psi * ad * p2).sum(),
        (psi * ad * p1 * (nc - log_n)).sum(),
        (psi * lse).sum(),
    ])
    return f, g


@dataclass
class KaplanFit(ParamsMixin):
    """Estimator for Kaplan's L(N, D); fitted ``Nc_``, ``Dc_``, ``alpha_N_``, ``alpha_D_``."""

    delta: float = HOFFMANN_DELTA
    n_polish: int = 12
    flags_: list = field(default_factory=list, init=False, repr=False)

    def fit(self, params, tokens=None, loss=None):
        from scipy.optimize import minimize

        n, d, y = as_arrays(params, tokens, loss)
        if n.size <= 4:
            raise ScalingLabError(f"{n.size} runs cannot determine Kaplan's 4 parameters; need at least 5")
        if np.unique(n).size < 2 or np.unique(d).size < 2:
            raise ScalingLabError("Kaplan's L(N, D) needs at least two model sizes and two token counts")
        ln, ld, ll = np.log(n), np.log(d), np.log(y)
        starts = np.array(list(itertools.product(*_GRID)))
        f0 = np.array([_value_grad(s, ln, ld, ll, self.delta)[0] for s in starts])
        best = None
        with H.single_threaded_blas():
            for i in np.argsort(f0)[: self.n_polish]:
                res = minimize(_value_grad, starts[i], args=(ln, ld, ll, self.delta), jac=True,
                               method="L-BFGS-B", bounds=[(None, None), (None, None), (1e-6, None), (1e-6, None)],
                               options={"ftol": 0.0, "gtol": 1e-10, "maxiter": 20_000, "maxfun": 100_000})
                ok = res.success or float(np.max(np.abs(res.jac))) <= GRAD_ACCEPT
                if np.isfinite(res.fun) and (best is None or (ok, -res.fun) > (best[1], -best[0].fun)):
                    best = (res, ok)
        res, ok = best
        nc, dc, rho, ad = res.x
        self.flags_ = [] if ok else [f"not converged: {res.message}"]
        self.converged_ = bool(ok)
        self.objective_ = float(res.fun)
        self.Nc_ = float(math.exp(nc))
        self.Dc_ = float(math.exp(dc))
        self.alpha_D_ = float(ad)
        self.alpha_N_ = float(rho * ad)
        self.n_points_ = int(n.size)
        return self

    def predict(self, params, tokens=None):
        """L(N, D) in nats/token; ``params`` may be a runs DataFrame with params and tokens columns."""
        require_fitted(self, "Nc_")
        params, tokens = _predict_inputs(params, tokens)
        return kaplan_loss(params, tokens, self.Nc_, self.Dc_, self.alpha_N_, self.alpha_D_)


    def as_dict(self) -> dict:
        require_fitted(self, "Nc_")
        return {"Nc": self.Nc_, "Dc": self.Dc_, "alpha_N": self.alpha_N_, "alpha_D": self.alpha_D_,
                "objective": self.objective_, "converged": self.converged_, "n_points": self.n_points_,
                "flags": list(self.flags_)}


def kaplan_loss(params, tokens, Nc, Dc, alpha_N, alpha_D):
    """[(N_c/N)^(α_N/α_D) + D_c/D]^α_D (Kaplan et al. 2020, Eq. 1.5), via the one home of the formula,
    :meth:`scalinglab.laws.kaplan.KaplanLaw.predict` (whose ``optimum`` is Kaplan's published Table 6
    frontier, not a property of these constants — hence no ``law_`` here)."""
    from scalinglab.laws.kaplan import KaplanLaw

    return KaplanLaw(alpha_N=alpha_N, alpha_D=alpha_D, N_c=Nc, D_c=Dc, name="fitted").predict(params, tokens)
