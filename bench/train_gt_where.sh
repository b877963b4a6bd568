#!/usr/bin/env bash
# Rebuild the "where" ground-truth classifiers gt_loudness_where and gt_pitch_where: one small
# cnn_mel per stretched corpus (amcli synth isolate=[family] stretch=0.3), where the family carries
# the class only in a stretch of 30% of each clip's speech, at a random place, and is neutral
# elsewhere. The NumPy engine renders them (espeak-ng's timing moves with the pitch, so a pitch
# stretch cannot be spliced there); its 12 training voices: train m1 m3 m5 m6 m7 f1 f3 f5 f6,
# validation f4, test m4 f2 (whole voices held out).
#
#   bash bench/train_gt_where.sh [WORKDIR]     (about 25 min on 2 CPU cores)
#
# Then each model is evaluated on its corpus' held-out test voices (the figures in its sidecar's
# metrics), and bench/ground_truth_where.py scores the explanations on those clips.
set -euo pipefail
work=${1:-gt_where_work}
mkdir -p "$work"
declare -A classes=([pitch]=neutral,happy,sad [loudness]=neutral,sad,angry)
declare -A clips=([pitch]=800 [loudness]=600)
declare -A epochs=([pitch]=30 [loudness]=20)
split='data.split.val_groups=[f4] data.split.test_groups=[m4,f2] data.split.train_groups=[m1,m3,m5,m6,m7,f1,f3,f5,f6]'
for family in loudness pitch; do
  corpus="$work/corpus_$family"
  name="gt_${family}_where"
  if [ ! -f "$corpus/metadata.csv" ]; then
    amcli synth out="$corpus" engine=numpy isolate="[$family]" stretch=0.3 \
      classes="[${classes[$family]}]" n_per_class=${clips[$family]} seed=2028 quiet=true \
      hydra.run.dir="$work/synth_$family"
  fi
  [ -f "$work/$name/DONE" ] || amcli train-classifier model=cnn_mel name="$name" \
    data=synth data.root="$corpus" data.classes="[${classes[$family]}]" seed=0 \
    epochs=${epochs[$family]} patience=${epochs[$family]} quiet=true $split hydra.run.dir="$work/$name"
  cp "$work/$name/$name.safetensors" "$work/$name/$name.json" checkpoints/
  amcli evaluate classifier="$name" data=synth data.root="$corpus" \
    data.classes="[${classes[$family]}]" quiet=true hydra.run.dir="$work/evaluate_$family"
done
