#!/usr/bin/env bash
# Rebuild the transformer ground-truth classifiers gt_pitch_w2v2, gt_tempo_w2v2 and gt_voice_w2v2:
# the w2v2_tiny architecture (bench/init_w2v2_tiny.py, a 0.7 M-parameter wav2vec2 trained from
# scratch, every layer) on the same cue-isolated corpora, seeds, voices and splits as the cnn_mel
# ground-truth models of bench/train_gt.sh (train m1 m3 m5 m6 f1 f3, validation f4, test m4 f2),
# so each can only use one family of cues. The corpora are shared: run both scripts with one
# WORKDIR and each corpus is rendered once.
#
#   bash bench/train_gt_w2v2.sh [WORKDIR]      (about 20 min on 2 CPU cores)
#
# No loudness model: wav2vec2's feature extractor normalizes every clip to zero mean and unit
# variance, so a transformer behind it cannot hear a clip-wide level (the class cue of the
# loudness corpus).
#
# Then each model is evaluated on its corpus' held-out test voices (its sidecar's metrics), and
# bench/ground_truth_which.py scores prosody attribution on it.
set -euo pipefail
work=${1:-gt_work}
mkdir -p "$work"
declare -A classes=([pitch]=neutral,happy,sad [tempo]=neutral,sad,angry [voice]=neutral,sad,angry)
declare -A clips=([pitch]=800 [tempo]=600 [voice]=600)
# At lr 0.001 (w2v2_tiny's) the voice model stayed at chance: train loss ln 3 for 9 epochs.
declare -A lr=([pitch]=0.0003 [tempo]=0.001 [voice]=0.0003)
split='data.split.val_groups=[f4] data.split.test_groups=[m4,f2] data.split.train_groups=[m1,m3,m5,m6,f1,f3]'
[ -f "$work/w2v2_init/config.json" ] || python bench/init_w2v2_tiny.py "$work/w2v2_init"
for family in tempo voice pitch; do
  corpus="$work/corpus_$family"
  name="gt_${family}_w2v2"
  if [ ! -f "$corpus/metadata.csv" ]; then
    amcli synth out="$corpus" isolate="[$family]" classes="[${classes[$family]}]" \
      n_per_class=${clips[$family]} seed=2027 quiet=true hydra.run.dir="$work/synth_$family"
  fi
  [ -f "$work/$name/DONE" ] || amcli train-classifier model=hf hf.path="$work/w2v2_init" \
    hf.freeze_feature_encoder=false name="$name" lr=${lr[$family]} batch_size=16 epochs=24 patience=8 \
    data=synth data.root="$corpus" data.classes="[${classes[$family]}]" seed=0 quiet=true \
    $split hydra.run.dir="$work/$name"
  rm -rf "checkpoints/$name" && cp -r "$work/$name/$name" checkpoints/
  [ -f "$work/evaluate_$name/DONE" ] || amcli evaluate classifier="$name" data=synth data.root="$corpus" \
    data.classes="[${classes[$family]}]" quiet=true hydra.run.dir="$work/evaluate_$name"
done
