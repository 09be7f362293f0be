# Generates tests/data/reliability_servqual_sim.csv: 22 SERVQUAL-like P items (1-7), 5 correlated factors,
# item 20 weak, item 11 reverse-worded, ~3% missing. Fixed seed.
import numpy as np, pandas as pd
rng = np.random.default_rng(20261122)
n = 400
dims = {"tangibles": [1,2,3,4], "reliability": [5,6,7,8,9], "responsiveness": [10,11,12,13],
        "assurance": [14,15,16,17], "empathy": [18,19,20,21,22]}
phi = np.full((5,5), 0.55); np.fill_diagonal(phi, 1)
F = rng.multivariate_normal(np.zeros(5), phi, size=n)
cols = {}
for d, (name, items) in enumerate(dims.items()):
    for j, it in enumerate(items):
        lam = 0.55 + 0.25 * ((j * 37 + d * 11) % 7) / 6
        if it == 20: lam = 0.15
        z = lam * F[:, d] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
        x = np.clip(np.round(4.6 + 1.3 * z), 1, 7)
        if it == 11: x = 8 - x
        cols[f"P{it}"] = x
df = pd.DataFrame(cols)
mask = rng.random(df.shape) < 0.03
df = df.mask(mask)
df.to_csv("tests/data/reliability_servqual_sim.csv", index=False, float_format="%.0f")
print(df.describe().T[["count","mean","std"]])
