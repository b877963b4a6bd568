"""Distances between sets of embeddings that are fair at the sample sizes AM runs have.

- Frechet distance (Heusel et al. 2017, FID) between Gaussian fits:
  ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)). Its estimate is biased upwards at small
  N (same-distribution sets of 2, 4 and 16 embeddings score far above 0), so it is only compared
  at equal N: :func:`output_distances` puts beside the outputs' distance the distance of real
  clips and of noise *subsampled to the outputs' N*, with mean and spread over draws.
- KID (Binkowski et al. 2018): the squared MMD with the cubic polynomial kernel
  k(x, y) = (x.y / d + 1)^3, unbiased at any N >= 2; mean and standard deviation over subsets,
  as torchmetrics computes it.

The trace term uses the symmetric form Tr((S_1 S_2)^(1/2)) = sum sqrt(eig(S_1^(1/2) S_2
S_1^(1/2))), whose eigenvalues are real; eigenvalues that are negative beyond round-off (a
covariance that is not positive semi-definite) raise instead of being clipped or dropped.
"""

from __future__ import annotations

import numpy as np


def _check(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"embeddings must be [N, D] with the same D, got {a.shape}, {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError("need at least 2 embeddings per set")
    return a, b


def _psd_eig(matrix: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of a symmetric positive semi-definite matrix; round-off below zero
    is set to zero, anything more negative raises."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    scale = max(float(np.abs(values).max()), 1e-12)
    if values.min() < -1e-6 * scale:
        raise ValueError(f"{what} has a negative eigenvalue {values.min():.3g} (largest "
                         f"{scale:.3g}): not a covariance, no real square root")
    return np.clip(values, 0.0, None), vectors


def trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray) -> float:
    """Tr((S_a S_b)^(1/2)) = sum of sqrt(eig(S_a^(1/2) S_b S_a^(1/2))), all real."""
    values, vectors = _psd_eig(cov_a, "the first covariance")
    root_a = (vectors * np.sqrt(values)) @ vectors.T
    inner, _ = _psd_eig(root_a @ cov_b @ root_a, "the covariance product")
    return float(np.sqrt(inner).sum())


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance of embeddings ``a`` [N, D] and ``b`` [M, D]."""
    a, b = _check(a, b)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b)
                 - 2.0 * trace_sqrt_product(cov_a, cov_b))


def _poly_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased squared MMD of two sets of equal size with the cubic polynomial kernel."""
    m = len(x)
    k_xx, k_yy, k_xy = _poly_kernel(x, x), _poly_kernel(y, y), _poly_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / m**2)


def kid(a: np.ndarray, b: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance of ``a`` and ``b``: mean and standard deviation of the
    unbiased MMD^2 over ``subsets`` random subsets of min(N, M, subset_size) each."""
    a, b = _check(a, b)
    rng = np.random.default_rng(seed)
    n = min(len(a), len(b), subset_size)
    values = [mmd2_unbiased(a[rng.choice(len(a), n, replace=False)],
                            b[rng.choice(len(b), n, replace=False)]) for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def equal_n_baseline(pool: np.ndarray, reference: np.ndarray, n: int, draws: int = 20,
                     seed: int = 0) -> dict[str, float]:
    """Frechet distance and KID of ``n`` embeddings drawn from ``pool`` to ``reference``, mean
    and spread over ``draws`` draws: what a set of that size scores, to compare outputs with."""
    rng = np.random.default_rng(seed)
    fds, kids = [], []
    for k in range(draws):
        sample = pool[rng.choice(len(pool), n, replace=False)]
        fds.append(frechet_distance(sample, reference))
        kids.append(kid(sample, reference, subsets=10, seed=seed + k)[0])
    return {"frechet": float(np.mean(fds)), "frechet_std": float(np.std(fds)),
            "kid": float(np.mean(kids)), "kid_std": float(np.std(kids))}


def output_distances(judge, outputs, reference, seed: int = 0) -> dict:
    """How far a run's outputs (waveforms [N, T]) are from real clips, in the judge's embedding
    space, with what real clips and noise score at the same N beside it.

    ``reference`` [M, T'] (T' >= T) gives equal-length crops placed over their speech (at least
    256); half of them are the reference set, the other half the pool the real baseline draws
    its N-sized sets from; noise is white at the real crops' level."""
    import torch

    from amcli.train.gan import CropSampler

    rng = torch.Generator().manual_seed(seed)
    n = len(outputs)
    sampler = CropSampler(reference, torch.zeros(len(reference), dtype=torch.long),
                          outputs.shape[-1])
    real, _ = sampler.sample(max(2 * len(reference), 512), rng)
    noise = real.pow(2).mean().sqrt() * torch.randn(real.shape, generator=rng)
    device = next(judge.parameters()).device

    def embed(x):
        with torch.no_grad():
            return torch.cat([judge.embed(x[i:i + 64].to(device)).float().cpu()
                              for i in range(0, len(x), 64)]).numpy()

    real_emb = embed(real)
    half = len(real_emb) // 2
    ref, pool = real_emb[:half], real_emb[half:]
    out = embed(outputs)
    kid_mean, kid_std = kid(out, ref, seed=seed)
    return {
        "n_outputs": int(n), "n_reference": int(len(ref)), "embedding_dim": int(ref.shape[1]),
        "outputs": {"frechet": frechet_distance(out, ref), "kid": kid_mean, "kid_std": kid_std},
        "real_at_same_n": equal_n_baseline(pool, ref, n, seed=seed),
        "noise_at_same_n": equal_n_baseline(embed(noise), ref, n, seed=seed + 1),
    }
