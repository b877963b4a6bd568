"""How good is a prior: Frechet distance to real clips in the judge's embedding space, and for a
conditional prior the judge's accuracy on its samples per condition.

Every set is embedded at the generator's own length (equal-length crops): a mel generator's
64 x 128 patches and real log-mel crops of 128 frames go through the judge's ``body`` directly;
a raw generator's 16384-sample clips and real crops of that length go through the whole judge.
The distance is put next to two references on the same real set: white noise at the real crops'
level (what "no model" scores) and real clips of held-out voices (what "as good as real" scores).
"""

from __future__ import annotations

import numpy as np
import torch

from amcli.features import LogMel
from amcli.metrics.frechet import frechet_distance
from amcli.models.gan import Generator
from amcli.train.gan import CropSampler


@torch.no_grad()
def _embed(judge: torch.nn.Module, x: torch.Tensor, representation: str,
           batch: int = 128) -> np.ndarray:
    device = next(judge.parameters()).device
    parts = []
    for start in range(0, len(x), batch):
        chunk = x[start:start + batch].to(device)
        features = judge.body.features(chunk) if representation == "mel" else judge.embed(chunk)
        parts.append(features.float().cpu())
    return torch.cat(parts).numpy()


@torch.no_grad()
def _generate(gen: Generator, n: int, labels: torch.Tensor | None,
              rng: torch.Generator, batch: int = 128) -> torch.Tensor:
    device = next(gen.parameters()).device
    out = []
    for start in range(0, n, batch):
        z = gen.sample_z(min(batch, n - start), rng, device)
        y = labels[start:start + len(z)].to(device) if labels is not None else None
        out.append(gen(z, y).cpu())
    return torch.cat(out)


@torch.no_grad()
def prior_quality(gen: Generator, judge: torch.nn.Module, train: CropSampler,
                  heldout: CropSampler | None = None, n: int = 512,
                  seed: int = 0) -> dict[str, object]:
    """Frechet distances (generated, noise, held-out real vs training crops) and, for cgan,
    the judge's top-1 accuracy on generated clips per condition."""
    gen.eval()
    rep = gen.representation
    if rep == "mel":
        judge_features = getattr(judge, "feature_params", None)
        if judge_features != gen.feature_params:
            raise ValueError("the judge's log-mel parameters differ from the generator's")
        logmel = LogMel(gen.feature_params)
    rng = torch.Generator().manual_seed(seed)

    def real(sampler: CropSampler) -> tuple[torch.Tensor, torch.Tensor]:
        waves, labels = sampler.sample(n, rng)
        return (logmel(waves) if rep == "mel" else waves), labels

    reference, _ = real(train)
    reference_waves, _ = train.sample(n, rng)
    level = reference_waves.pow(2).mean().sqrt()
    noise = level * torch.randn(reference_waves.shape, generator=rng)
    noise = logmel(noise) if rep == "mel" else noise
    labels = torch.arange(n) % len(gen.classes) if gen.conditional else None
    fake = _generate(gen, n, labels, rng)
    ref_emb = _embed(judge, reference, rep)
    result: dict[str, object] = {
        "n": n,
        "embedding_dim": int(ref_emb.shape[1]),
        "fd_generated": frechet_distance(_embed(judge, fake, rep), ref_emb),
        "fd_noise": frechet_distance(_embed(judge, noise, rep), ref_emb),
    }
    if heldout is not None and len(heldout):
        other, _ = real(heldout)
        result["fd_heldout_real"] = frechet_distance(_embed(judge, other, rep), ref_emb)
    logits = torch.cat([(judge.body(fake[i:i + 128]) if rep == "mel" else judge(fake[i:i + 128]))
                        for i in range(0, n, 128)])
    top1 = logits.argmax(-1)
    share = torch.bincount(top1, minlength=len(judge.classes)).float() / n
    result["judge_class_share"] = {c: float(s) for c, s in zip(judge.classes, share, strict=True)}
    if labels is not None:
        wanted = torch.tensor([judge.classes.index(gen.classes[int(y)]) for y in labels])
        per_class = {}
        for k, name in enumerate(gen.classes):
            rows = labels == k
            per_class[name] = float((top1[rows] == wanted[rows]).float().mean())
        result["judge_accuracy"] = float((top1 == wanted).float().mean())
        result["judge_accuracy_per_condition"] = per_class
    return result
