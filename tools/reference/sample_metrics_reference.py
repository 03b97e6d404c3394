#!/usr/bin/env python3
"""Independent reference values for the SampleMetrics tests (Tests/SampleMetricsTests).

Writes Tests/SampleMetricsTests/metrics-reference.json: two small feature sets (inputs stored in
the file, so the Swift test needs no shared random generator) and, computed here with NumPy/SciPy
by different routes than the Swift code:
  - Frechet distance with scipy.linalg.sqrtm of the non-symmetric product S1 @ S2 (pytorch-fid's
    formula) instead of the symmetric eigen route;
  - the unbiased MMD^2 with the cubic polynomial kernel on the full sets (no subset draw, so the
    value does not depend on a random generator);
  - PRDC with k = 5 from scipy.spatial.distance.cdist (direct differences, not the norm expansion);
  - nearest-neighbour distances of the generated set to the real set;
  - class-histogram entropy and KL divergences via scipy.stats.entropy.
Not run by CI. Re-run by hand (python3 tools/reference/sample_metrics_reference.py) if the
metric definitions change; needs numpy and scipy.
"""
import json
import os

import numpy as np
import scipy
from scipy import linalg
from scipy.spatial.distance import cdist
from scipy.stats import entropy

FORMAT_VERSION = 1
rng = np.random.default_rng(20240611)
D = 6
real = rng.normal(size=(40, D))
# Generated: shifted, rescaled and correlated, so every metric is away from its trivial value.
mix = np.eye(D) + 0.3 * rng.normal(size=(D, D))
fake = 0.4 + rng.normal(size=(35, D)) @ mix * 0.8


def frechet(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def mmd2_unbiased(x, y):
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def prdc(real, fake, k):
    rr = cdist(real, real)
    ff = cdist(fake, fake)
    rf = cdist(real, fake)
    real_r = np.sort(rr, axis=1)[:, k]
    fake_r = np.sort(ff, axis=1)[:, k]
    precision = (rf < real_r[:, None]).any(axis=0).mean()
    recall = (rf < fake_r[None, :]).any(axis=1).mean()
    density = (1.0 / k) * (rf < real_r[:, None]).sum(axis=0).mean()
    coverage = (rf.min(axis=1) < real_r).mean()
    return dict(precision=float(precision), recall=float(recall), density=float(density), coverage=float(coverage))


nn = cdist(fake, real)
labels = [int(v) for v in rng.choice(4, size=50, p=[0.5, 0.3, 0.15, 0.05])]
reference = [0.4, 0.3, 0.2, 0.1]
counts = np.bincount(labels, minlength=4)
p = counts / counts.sum()

out = {
    "generator": "tools/reference/sample_metrics_reference.py",
    "format_version": FORMAT_VERSION,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "real": real.tolist(),
    "generated": fake.tolist(),
    "frechet_distance": frechet(fake, real),
    "mmd2_unbiased": mmd2_unbiased(fake, real),
    "prdc_k5": prdc(real, fake, 5),
    "nearest_distances": nn.min(axis=1).tolist(),
    "nearest_indices": [int(i) for i in nn.argmin(axis=1)],
    "labels": labels,
    "class_count": 4,
    "reference_proportions": reference,
    "entropy": float(entropy(p)),
    "kl_uniform": float(entropy(p, np.full(4, 0.25))),
    "kl_reference": float(entropy(p, reference)),
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SampleMetricsTests", "metrics-reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path))
