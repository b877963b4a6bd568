#!/usr/bin/env bash
# Rebuild the ground-truth classifiers gt_pitch, gt_loudness, gt_tempo and gt_voice: one small
# cnn_mel per cue-isolated corpus (amcli synth isolate=[family]), so each can only use one family
# of cues. Same voices and splits as bench/train_demo.sh: train m1 m3 m5 m6 f1 f3, validation f4,
# test m4 f2 (whole voice variants held out).
#
#   bash bench/train_gt.sh [WORKDIR]          (about 5 min per model on 2 CPU cores, gt_pitch 15)
#
# gt_pitch gets twice the clips and more epochs: pitch level depends on the speaker as much as on
# the class, so the model has to learn the range and the level relative to the voice; on 400
# clips per class and 20 epochs it reached only 0.71 on the held-out voices.
#
# Then every gt model is evaluated on its corpus' held-out test voices: those are the figures in
# docs/benchmarks.md and in each sidecar's metrics.
set -euo pipefail
work=${1:-gt_work}
mkdir -p "$work"
declare -A classes=([pitch]=neutral,happy,sad [loudness]=neutral,sad,angry
                    [tempo]=neutral,sad,angry [voice]=neutral,sad,angry)
declare -A clips=([pitch]=800 [loudness]=600 [tempo]=600 [voice]=600)
declare -A epochs=([pitch]=30 [loudness]=20 [tempo]=20 [voice]=20)
split='data.split.val_groups=[f4] data.split.test_groups=[m4,f2] data.split.train_groups=[m1,m3,m5,m6,f1,f3]'
for family in pitch loudness tempo voice; do
  corpus="$work/corpus_$family"
  if [ ! -f "$corpus/metadata.csv" ]; then
    amcli synth out="$corpus" isolate="[$family]" classes="[${classes[$family]}]" \
      n_per_class=${clips[$family]} seed=2027 quiet=true hydra.run.dir="$work/synth_$family"
  fi
  [ -f "$work/gt_$family/DONE" ] || amcli train-classifier model=cnn_mel name="gt_$family" \
    data=synth data.root="$corpus" data.classes="[${classes[$family]}]" seed=0 \
    epochs=${epochs[$family]} patience=${epochs[$family]} quiet=true $split hydra.run.dir="$work/gt_$family"
  cp "$work/gt_$family/gt_$family.safetensors" "$work/gt_$family/gt_$family.json" checkpoints/
  amcli evaluate classifier="gt_$family" data=synth data.root="$corpus" \
    data.classes="[${classes[$family]}]" quiet=true hydra.run.dir="$work/evaluate_$family"
done
