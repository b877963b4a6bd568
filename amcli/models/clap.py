"""CLAP as a zero-shot classifier: text prompts are the classes.

CLAP (Elizalde et al. 2023; LAION's HTSAT-RoBERTa models in transformers) embeds audio and text
in one space. Given prompts ("an angry voice", "a calm voice"), the classifier's logits for a clip
are the model's scaled cosine similarities between the clip's audio embedding and each prompt's
text embedding, exactly what ``ClapModel`` returns as ``logits_per_audio``. The text side does not
depend on the audio, so it is computed once, when the classifier is built; every AM step runs the
audio tower only, with the feature extraction in torch (amcli.models.hf_features.ClapLogMel).
"""

from __future__ import annotations

from pathlib import Path
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


#: a CLAP small enough for tests and smoke runs: config fields of the text tower, the audio
#: tower, the shared projection and the feature extractor (16 kHz, 2 s window, unfused)
TINY_CLAP: dict[str, dict[str, Any]] = {
    "text": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=64, max_position_embeddings=40, projection_dim=16),
    "audio": dict(depths=[1, 1], num_attention_heads=[2, 2], patch_embeds_hidden_size=16,
                  hidden_size=32, projection_dim=16, window_size=8, spec_size=64,
                  num_mel_bins=16),
    "model": dict(projection_dim=16),
    "extractor": dict(feature_size=16, sampling_rate=16000, hop_length=160, max_length_s=2,
                      fft_window_size=400, frequency_max=8000),
}


def init_clap_folder(folder: str | Path, prompts: list[str], tiny: bool = False,
                     seed: int = 0) -> Path:
    """Write a randomly initialized CLAP (transformers' default sizes: the HTSAT audio tower of
    LAION's clap-htsat-unfused; :data:`TINY_CLAP` with ``tiny``), its feature extractor
    ("rand_trunc": an unfused model) and a word-level tokenizer over the words of ``prompts``
    to ``folder``, as save_pretrained writes them: the tiny CLAP of the tests and the real-size
    one of the benches (published CLAP weights come from their own folders)."""
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["<s>", "<pad>", "</s>", "<unk>", *sorted({w for p in prompts for w in p.split()})]
    vocabulary = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)},
                                            unk_token="<unk>"))
    vocabulary.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=vocabulary, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>")
    sizes = TINY_CLAP if tiny else {"text": {}, "audio": {}, "model": {}, "extractor": {}}
    text = transformers.ClapTextConfig(vocab_size=len(words), **sizes["text"])
    audio = transformers.ClapAudioConfig(**sizes["audio"])
    torch.manual_seed(seed)
    model = transformers.ClapModel(transformers.ClapConfig(
        text_config=text.to_dict(), audio_config=audio.to_dict(), **sizes["model"]))
    extractor = transformers.ClapFeatureExtractor(truncation="rand_trunc", **sizes["extractor"])
    folder = Path(folder)
    for part in (model, extractor, tokenizer):
        part.save_pretrained(str(folder))
    return folder
