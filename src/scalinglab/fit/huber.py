"""The Chinchilla Approach-3 objective and its analytic derivatives, for one start or many.

Model (Hoffmann et al. 2022, §3.3 Eq. 3; log-sum-exp form of Epoch's ``data_analysis.ipynb``):

    log L̂(N, D) = LSE(a − α·log N,  b − β·log D,  e),   A = e^a, B = e^b, E = e^e

Objective (Hoffmann et al. 2022 App. D.2):
f(θ) = Σ_i c_i · Huber_δ(log L_i − log L̂_i), θ = (a, b, e, α, β), **summed** over runs (c_i are resampling counts; 1 without bootstrap). Every function here takes a
batch of parameter vectors ``theta`` of shape (S, 5), so the 4,500 starts of the Hoffmann grid, or
1,000 bootstrap resamples, are evaluated in one numpy pass.

Also the Huber *likelihood* of Besiroglu et al. 2024 (Epoch, ``data_analysis.ipynb`` cells 16,
24-26), the estimator behind their reported constants, with a free log-scale σ:

    g(θ, σ) = Σ_i ρ_δ(r_i / e^σ) + n·σ + n·log Z(δ),
    Z(δ) = √(2π)·(1 − 2·Φ̄(δ)) + 2·e^(−δ²/2)/δ.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

#: Order of the parameter vector everywhere in :mod:`scalinglab.fit`.
PARAM_NAMES = ("a", "b", "e", "alpha", "beta")
_FLOOR = -60.0


_CONTROLLER = []


def single_threaded_blas():
    """Context limiting BLAS to one thread while many tiny fits run.

    OpenBLAS threads spin-wait; on a busy 2-core machine a 5-parameter L-BFGS-B step then costs
    ~10 ms instead of ~50 µs (measured; see docs/fitting.md). Uses ``threadpoolctl``
    when installed (its library scan is done once per process) and is a no-op otherwise.
    """
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - optional dependency
            _CONTROLLER.append(None)
        else:
            # scipy's L-BFGS-B links its own OpenBLAS: load it before the controller scans libraries.
            import scipy.optimize  # noqa: F401

            _CONTROLLER.append(ThreadpoolController())
    if _CONTROLLER[0] is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def huber(r, delta):
    """Huber loss ρ_δ(r): r²/2 for |r| ≤ δ, else δ·(|r| − δ/2)."""
    ar = np.abs(r)
    return np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta))


def _lse_parts(theta, log_n, log_d):
    """log L̂ (S, n) and the softmax weights p1, p2, p3 of its three terms."""
    a, b, e, alpha, beta = (theta[:, i : i + 1] for i in range(5))
    u1 = a - alpha * log_n
    u2 = b - beta * log_d
    u3 = np.broadcast_to(e, u1.shape)
    m = np.maximum(np.maximum(u1, u2), u3)
    # exp(-60) ≈ 9e-27 is below half an ulp of the sum (≥ 1), so clipping changes no bit of the
    # LSE; it avoids numpy's very slow underflow/denormal path (10-30x slower on x86).
    x1 = np.exp(np.maximum(u1 - m, _FLOOR))
    x2 = np.exp(np.maximum(u2 - m, _FLOOR))
    x3 = np.exp(np.maximum(u3 - m, _FLOOR))
    s = x1 + x2 + x3
    lse = m + np.log(s)
    inv = 1.0 / s
    return lse, x1 * inv, x2 * inv, x3 * inv


#: Rows of ``theta`` evaluated per numpy pass: (256, n) temporaries stay in cache and are reused by
#: the allocator; one pass over all 4,500 starts is 5x slower (page faults on fresh large arrays).
_BLOCK = 256


def value_and_grad(theta, log_n, log_d, log_l, delta, counts=None, hessian=False):
    """Summed Huber objective, its gradient and (optionally) an IRLS curvature matrix.

    Parameters
    ----------
    theta : ndarray (S, 5)
        Parameter vectors (a, b, e, alpha, beta).
    log_n, log_d, log_l : ndarray (n,)
        Natural logs of parameters, tokens and loss (nats/token).
    delta : float
        Huber threshold on log-loss residuals.
    counts : ndarray (n,) or (S, n), optional
        Weight of each run (bootstrap multiplicities).
    hessian : bool
        Also return Σ_i c_i·w_i·J_i J_iᵀ with the IRLS weights w_i = min(1, δ/|r_i|): the curvature
        of the quadratic that majorises the Huber loss at the current residuals (used by the
        batched Levenberg–Marquardt steps in :mod:`scalinglab.fit.parametric`).

    Returns
    -------
    f : ndarray (S,)
    g : ndarray (S, 5)
    h : ndarray (S, 5, 5), only if ``hessian``
    """
    theta = np.asarray(theta, dtype=float)
    if theta.shape[0] > _BLOCK:
        parts = []
        for i in range(0, theta.shape[0], _BLOCK):
            c = counts if counts is None or np.ndim(counts) == 1 else counts[i : i + _BLOCK]
            parts.append(value_and_grad(theta[i : i + _BLOCK], log_n, log_d, log_l, delta, c, hessian))
        return tuple(np.concatenate(x) for x in zip(*parts, strict=True))
    lse, p1, p2, p3 = _lse_parts(theta, log_n, log_d)
    r = log_l - lse
    psi = np.clip(r, -delta, delta)  # dρ/dr
    rho = huber(r, delta)
    if counts is not None:
        rho = rho * counts
        psi = psi * counts
    f = rho.sum(axis=1)
    # dr/dθ = −dlse/dθ = (−p1, −p2, −p3, p1·logN, p2·logD)
    q1 = psi * p1
    q2 = psi * p2
    g = np.empty((theta.shape[0], 5))
    g[:, 0] = -q1.sum(axis=1)
    g[:, 1] = -q2.sum(axis=1)
    g[:, 2] = -(psi * p3).sum(axis=1)
    g[:, 3] = q1 @ log_n
    g[:, 4] = q2 @ log_d
    if not hessian:
        return f, g
    ar = np.abs(r)
    w = np.where(ar <= delta, 1.0, delta / np.maximum(ar, delta))
    if counts is not None:
        w = w * counts
    jac = np.stack([-p1, -p2, -p3, p1 * log_n, p2 * log_d], axis=2)  # (S, n, 5)
    h = np.matmul(jac.transpose(0, 2, 1), jac * w[:, :, None])
    return f, g, h


def objective(theta, log_n, log_d, log_l, delta, counts=None):
    """Summed Huber objective only, for a batch ``theta`` (S, 5) or one vector (5,)."""
    theta = np.asarray(theta, dtype=float)
    single = theta.ndim == 1
    theta = np.atleast_2d(theta)
    f = np.empty(theta.shape[0])
    for i in range(0, theta.shape[0], _BLOCK):
        lse, *_ = _lse_parts(theta[i : i + _BLOCK], log_n, log_d)
        rho = huber(log_l - lse, delta)
        if counts is not None:
            rho = rho * (counts if np.ndim(counts) == 1 else counts[i : i + _BLOCK])
        f[i : i + _BLOCK] = rho.sum(axis=1)
    return float(f[0]) if single else f


# ----- Epoch's Huber likelihood ------------------------------------------------------------------
def log_z(delta):
    """log of the normaliser Z(δ) of the Huber density exp(−ρ_δ(x)) (Besiroglu et al. 2024, nb cell 16)."""
    from scipy.special import ndtr

    upper_tail = ndtr(-delta)  # Φ̄(δ)
    return math.log(math.sqrt(2 * math.pi) * (1 - 2 * upper_tail) + 2 * math.exp(-delta**2 / 2) / delta)


def likelihood_value_and_grad(params, log_n, log_d, log_l, delta):
    """Negative Huber log-likelihood and gradient for one vector (a, b, e, alpha, beta, sigma)."""
    theta = np.asarray(params[:5], dtype=float)[None, :]
    sigma = float(params[5])
    lse, p1, p2, p3 = _lse_parts(theta, log_n, log_d)
    scale = math.exp(sigma)
    z = (log_l - lse[0]) / scale
    n = log_l.shape[0]
    f = float(huber(z, delta).sum()) + n * sigma + n * log_z(delta)
    psi = np.clip(z, -delta, delta)
    # d/dθ ρ(z) = ψ(z)·(−dlse/dθ)/scale ; d/dσ ρ(z) = −ψ(z)·z
    q1 = psi * p1[0]
    q2 = psi * p2[0]
    g = np.array([
        -q1.sum() / scale,
        -q2.sum() / scale,
        -(psi * p3[0]).sum() / scale,
        (q1 @ log_n) / scale,
        (q2 @ log_d) / scale,
        n - float((psi * z).sum()),
    ])
    return f, g
