"""Write the untrained w2v2_tiny folder that bench/train_demo.sh trains from scratch.

    python bench/init_w2v2_tiny.py OUT_DIR

A wav2vec2 architecture cut down to about 0.7 M parameters (under 3 MB): four convolutional
feature-encoder layers with the standard total stride of 320 samples (20 ms frames at 16 kHz),
then four transformer layers of width 128. No attention or activation dropout and no layer
drop: with a few thousand clips, regularization comes from SpecAugment time masking (the
wav2vec2 default) and hidden dropout. The feature extractor normalizes every clip to zero mean
and unit variance, as wav2vec2-base's does.
"""

from __future__ import annotations

import argparse

from amcli.config import DEFAULT_CLASSES
from amcli.models.hf_training import init_hf_folder

SIZES = dict(
    hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=256,
    conv_dim=(32, 64, 96, 128), conv_stride=(5, 4, 4, 4), conv_kernel=(10, 8, 4, 4),
    num_conv_pos_embeddings=32, num_conv_pos_embedding_groups=8, classifier_proj_size=64,
    attention_dropout=0.0, activation_dropout=0.0, layerdrop=0.0,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write (config.json, model.safetensors, ...)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    init_hf_folder(args.out, "wav2vec2", DEFAULT_CLASSES, sample_rate=16000, seed=args.seed,
                   **SIZES)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
