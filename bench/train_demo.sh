#!/usr/bin/env bash
# Reproduce the demo checkpoints in checkpoints/: the synth corpus, four classifiers and the judge.
#
#   bash bench/train_demo.sh [WORKDIR]        (about 25 min on 2 CPU cores, plus about 15 min
#                                              for w2v2_tiny, which needs the hf extra)
#
# Corpus: espeak engine, 800 clips per class, the 24 training speakers (the held-out voice m2
# never appears). Splits hold out whole voice variants (en-X and en-us-X share a voice):
#   test  m4 f2 (4 speakers)  and  val  f4 (2 speakers), shared by every model;
#   the four demo classifiers train on m1 m3 m5 m6 f1 f3, the judge on the disjoint m7 m8 f5.
# 24 epochs of one-cycle LR without early stopping; the best validation epoch is kept.
# Then every shipped checkpoint is evaluated with `amcli evaluate` (its held-out test groups):
# those are the README table's numbers.
set -euo pipefail
work=${1:-demo_work}
mkdir -p "$work"
corpus="$work/corpus"
if [ ! -f "$corpus/metadata.csv" ]; then
  amcli synth out="$corpus" n_per_class=800 seed=2026 quiet=true hydra.run.dir="$work/synth"
fi
split='data.split.val_groups=[f4] data.split.test_groups=[m4,f2] epochs=24 patience=24'
for arch in cnn_mel crnn_mel cnn_raw crnn_raw; do
  [ -f "$work/$arch/DONE" ] && continue
  amcli train-classifier model=$arch data=synth data.root="$corpus" seed=0 quiet=true \
    $split 'data.split.train_groups=[m1,m3,m5,m6,f1,f3]' hydra.run.dir="$work/$arch"
done
# The judge: another architecture (a wider, shallower mel CNN), another seed, other speakers.
[ -f "$work/judge/DONE" ] || amcli train-classifier model=cnn_mel model.width=24 model.depth=3 \
  model.dropout=0.3 name=judge data=synth data.root="$corpus" seed=1 quiet=true $split \
  'data.split.train_groups=[m7,m8,f5]' hydra.run.dir="$work/judge"
# w2v2_tiny: a small wav2vec2 (bench/init_w2v2_tiny.py) trained from scratch on the same
# speakers through the fine-tuning path, every layer trained (there are no pretrained filters).
if [ ! -f "$work/w2v2_tiny/DONE" ]; then
  python bench/init_w2v2_tiny.py "$work/w2v2_init"
  amcli train-classifier model=hf hf.path="$work/w2v2_init" hf.freeze_feature_encoder=false \
    name=w2v2_tiny lr=0.001 batch_size=16 data=synth data.root="$corpus" seed=0 quiet=true \
    $split 'data.split.train_groups=[m1,m3,m5,m6,f1,f3]' hydra.run.dir="$work/w2v2_tiny"
fi
for name in cnn_mel crnn_mel cnn_raw crnn_raw judge; do
  cp "$work/$name/$name.safetensors" "$work/$name/$name.json" checkpoints/
done
rm -rf checkpoints/w2v2_tiny && cp -r "$work/w2v2_tiny/w2v2_tiny" checkpoints/
for name in cnn_mel crnn_mel cnn_raw crnn_raw judge w2v2_tiny; do
  amcli evaluate classifier=$name data=synth data.root="$corpus" quiet=true \
    hydra.run.dir="$work/evaluate_$name"
done
