"""CLAP as a zero-shot classifier: text prompts are the classes.

CLAP (Elizalde et al. 2023; LAION's HTSAT-RoBERTa models in transformers) embeds audio and text
in one space. Given prompts ("an angry voice", "a calm voice"), the classifier's logits for a clip
are the model's scaled cosine similarities between the clip's audio embedding and each prompt's
text embedding, exactly what ``ClapModel`` returns as ``logits_per_audio``. The text side does not
depend on the audio, so it is computed once, when the classifier is built; every AM step runs the
audio tower only, with the feature extraction in torch (amcli.models.hf_features.ClapLogMel).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from amcli.models.base import Body


class ClapZeroShotBody(Body):
    """waveform -> logits over the prompts; ``features`` is the normalized audio embedding."""

    def __init__(self, model: nn.Module, front: nn.Module, text_embeds: torch.Tensor) -> None:
        nn.Module.__init__(self)
        self.front = front
        self.audio_model = model.audio_model
        self.audio_projection = model.audio_projection
        self.logit_scale = model.logit_scale_a
        self.register_buffer("text_embeds", text_embeds)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        features, longer = self.front(x)
        pooled = self.audio_model(input_features=features, is_longer=longer).pooler_output
        embeds = self.audio_projection(pooled)
        return embeds / embeds.norm(p=2, dim=-1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x) @ self.text_embeds.T * self.logit_scale.exp()


@torch.no_grad()
def prompt_embeddings(model: nn.Module, tokenizer: Any, prompts: list[str]) -> torch.Tensor:
    """The normalized text embeddings [C, D] of the prompts, as ClapModel computes them."""
    tokens = tokenizer(list(prompts), padding=True, return_tensors="pt")
    embeds = model.get_text_features(input_ids=tokens["input_ids"],
                                     attention_mask=tokens["attention_mask"])
    if not isinstance(embeds, torch.Tensor):  # a model output in some transformers versions
        embeds = embeds.pooler_output
    return embeds / embeds.norm(p=2, dim=-1, keepdim=True)
