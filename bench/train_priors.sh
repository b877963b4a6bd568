#!/usr/bin/env bash
# Reproduce the demo priors in checkpoints/: gan_mel, cgan_mel, gan_raw, cgan_raw.
#
#   bash bench/train_priors.sh [WORKDIR]     (CPU, 2 cores: two priors at a time, one thread each)
#   REPRESENTATIONS=mel bash bench/train_priors.sh      (only gan_mel and cgan_mel)
#
# Same corpus and held-out voices as bench/train_demo.sh (espeak, 800 clips/class, seed 2026;
# test voices m4 f2 never seen). The priors train on every other voice (train + val splits); the
# held-out voices give the "real held-out" Frechet reference. At the end of each run the judge
# scores the prior: those figures land in the checkpoint's metrics (the README table).
# Iterations: 2500 for the mel priors (about 70 min each, two at a time; the shipped ones ran 1500,
# were evaluated, and were resumed to 2500, which equals a straight run: there is no learning-rate
# schedule), 1000 for the raw priors (about 38 min each, two at a time).
set -euo pipefail
work=${1:-demo_work}
declare -A iterations=([mel]=${MEL_ITERATIONS:-2500} [raw]=${RAW_ITERATIONS:-1000})
corpus="$work/corpus"
if [ ! -f "$corpus/metadata.csv" ]; then
  amcli synth out="$corpus" n_per_class=800 seed=2026 quiet=true hydra.run.dir="$work/synth"
fi
split='data.split.val_groups=[f4] data.split.test_groups=[m4,f2]'
train() {  # prior representation
  [ -f "$work/$1_$2/DONE" ] && return 0
  amcli train-prior prior=$1 representation=$2 data=synth data.root="$corpus" $split \
    iterations=${iterations[$2]} threads=1 seed=0 quiet=true hydra.run.dir="$work/$1_$2" \
    > "$work/$1_$2.log" 2>&1
}
reps=${REPRESENTATIONS:-mel raw}
for rep in $reps; do
  train gan $rep & train cgan $rep & wait
done
for rep in $reps; do
  for name in gan_$rep cgan_$rep; do
    cp "$work/$name/$name.safetensors" "$work/$name/$name.json" checkpoints/
  done
done
