#!/usr/bin/env bash
# Rebuild the "which together" ground-truth classifier gt_pitch_loudness: a small cnn_mel on a
# combination corpus (amcli synth combine=[pitch,loudness]: four classes, low or high pitch x
# soft or loud, every other family varied alike for every class), so it needs both families and
# no other. Same voices and splits as bench/train_gt.sh: train m1 m3 m5 m6 f1 f3, validation f4,
# test m4 f2 (whole voice variants held out); the pitch-sized corpus and epochs of gt_pitch,
# whose level is relative to the voice.
#
#   bash bench/train_gt_together.sh [WORKDIR]     (about 20 min on 2 CPU cores)
#
# Then the model is evaluated on the corpus' held-out test voices (the figures in its sidecar's
# metrics), and bench/ground_truth_together.py scores prosody attribution on those voices.
set -euo pipefail
work=${1:-gt_together_work}
mkdir -p "$work"
classes='[low_soft,low_loud,high_soft,high_loud]'
split='data.split.val_groups=[f4] data.split.test_groups=[m4,f2] data.split.train_groups=[m1,m3,m5,m6,f1,f3]'
corpus="$work/corpus"
name=gt_pitch_loudness
if [ ! -f "$corpus/metadata.csv" ]; then
  amcli synth out="$corpus" combine='[pitch,loudness]' n_per_class=600 seed=2029 quiet=true \
    hydra.run.dir="$work/synth"
fi
[ -f "$work/$name/DONE" ] || amcli train-classifier model=cnn_mel name="$name" data=synth \
  data.root="$corpus" data.classes="$classes" seed=0 epochs=30 patience=30 quiet=true $split \
  hydra.run.dir="$work/$name"
cp "$work/$name/$name.safetensors" "$work/$name/$name.json" checkpoints/
amcli evaluate classifier="$name" data=synth data.root="$corpus" data.classes="$classes" \
  quiet=true hydra.run.dir="$work/evaluate"
