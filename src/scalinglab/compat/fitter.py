"""``MasterFitter``: the "Physics of Scale" notebook's fitter.

The seed calls ``MasterFitter(ns, ls).fit()`` and reads ``.alpha`` and ``.l_inf`` (the irreducible
loss) and ``.predict(n)`` for L(N) = L_inf + (N_c/N)^alpha. This façade keeps those names and
delegates to :class:`scalinglab.fit.powerlaw.SaturatingPowerLawFit` (least squares on the loss by
variable projection). ``.nc`` is the fitted scale N_c, ``.flags`` lists anything suspicious (an
exponent at its search bound, no saturation), and ``.law`` is the underlying estimator.
"""

from __future__ import annotations

from scalinglab.core.numbers import positive
from scalinglab.fit.powerlaw import SaturatingPowerLawFit


class MasterFitter:
    """Fit L(N) = L_inf + (N_c/N)^alpha to model sizes ``ns`` and losses ``ls`` (nats/token).

    Parameters
    ----------
    ns : array-like
        Model sizes (the seed uses non-embedding parameters).
    ls : array-like
        Losses at those sizes.
    """

    def __init__(self, ns, ls):
        # Checked now, with the laws' reader (positive, finite numbers; "70M" reads as 7e7): text or
        # NaN here is a ScalingLabError naming the argument, not numpy's ValueError.
        self.ns = positive(ns, "ns")
        self.ls = positive(ls, "ls")
        self.law = SaturatingPowerLawFit()

    def fit(self) -> MasterFitter:
        """Fit the law; returns ``self`` (sets ``alpha``, ``l_inf``, ``nc``, ``flags``)."""
        self.law.fit(x=self.ns, y=self.ls)
        self.alpha = self.law.alpha_
        self.l_inf = self.law.E_
        self.nc = self.law.X0_
        self.flags = list(self.law.flags_)
        return self

    def predict(self, n):
        """Predicted loss at model size(s) ``n``."""
        return self.law.predict(n)
