"""Frechet distance between Gaussian fits of two sets of embeddings (Heusel et al. 2017, FID):
||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)).

It needs many more samples than dimensions: use a low-dimensional embedding (the judge's `embed`
is 64-d) and report N with it.
"""

from __future__ import annotations

import numpy as np


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance of embeddings ``a`` [N, D] and ``b`` [M, D]."""
    from scipy import linalg

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"embeddings must be [N, D] with the same D, got {a.shape}, {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError("need at least 2 embeddings per set")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():  # near-singular product: regularize (as pytorch-fid does)
        eye = np.eye(len(mu_a)) * 1e-6
        root = linalg.sqrtm((cov_a + eye) @ (cov_b + eye))
    root = root.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2.0 * root))


def output_frechet(judge, outputs, reference, seed: int = 0) -> dict[str, float | int]:
    """Frechet distance of a run's outputs (waveforms [N, T]) to real clips in the judge's
    embedding space, with equal-length crops of ``reference`` (waveforms [M, T'], T' >= T, placed
    over their speech) and the same distance for white noise at the real crops' level beside it.
    ``n_outputs`` below the embedding size makes the estimate biased upwards: report it."""
    import torch

    from amcli.train.gan import CropSampler

    rng = torch.Generator().manual_seed(seed)
    length = outputs.shape[-1]
    sampler = CropSampler(reference, torch.zeros(len(reference), dtype=torch.long), length)
    real, _ = sampler.sample(max(len(reference), 256), rng)
    noise = real.pow(2).mean().sqrt() * torch.randn(real.shape, generator=rng)
    device = next(judge.parameters()).device

    def embed(x):
        with torch.no_grad():
            return torch.cat([judge.embed(x[i:i + 64].to(device)).float().cpu()
                              for i in range(0, len(x), 64)]).numpy()

    ref = embed(real)
    return {"distance": frechet_distance(embed(outputs), ref),
            "noise": frechet_distance(embed(noise), ref),
            "n_outputs": int(len(outputs)), "n_reference": int(len(ref)),
            "embedding_dim": int(ref.shape[1])}
