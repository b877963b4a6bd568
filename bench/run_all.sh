#!/usr/bin/env bash
# Re-measure every published bench result on this machine: one bench after another, each writing
# its result file under bench/results/ (commit the files afterwards; the docs and the README
# render their tables from them). The figures that measure time run last, each alone.
#
#   bash bench/run_all.sh             # everything; prints each bench's time and the total
#   bash bench/run_all.sh --list      # the commands only (the GPU ones too)
#   bash bench/run_all.sh --gpu       # the GPU benches only, on a machine with CUDA
#
# Every result file in bench/results/ is written by one line below (a test checks it), and a
# result counts as stale once the code it measures changed in substance after its commit (the
# bench's MEASURES, less the own files of the AM methods the result did not run: its
# methods(result); bench/substance.py says what counts as substance);
# tests/test_bench_results.py states the rule: re-run its line. A re-measurement still
# to come is listed, with its reason, in bench/results/pending.json; its table says it is out of
# date wherever it is rendered.
set -euo pipefail
cd "$(dirname "$0")/.."

benches=(
  # answers (not timed)
  "python bench/checkpoints.py"
  "python bench/command_lines.py --runs mask mask_sanity"
  "python bench/command_lines.py --runs input prosody"
  "python bench/command_lines.py --runs latent_gan latent_cgan latent_cgan_told_neutral latent_gan_raw latent_cgan_raw"
  "python bench/command_lines.py --runs w2v2_mask"
  "python bench/command_lines.py --runs w2v2_input"
  "python bench/prosody_fidelity.py --holdout"
  "python bench/attribution.py --restarts 2 --seeds 0 1 --classifiers crnn_mel cnn_mel cnn_raw crnn_raw w2v2_tiny --name attribution_shipped_r2"
  "python bench/attribution.py --restarts 2 --seeds 0 1 --classifiers gt_pitch --targets happy sad --name attribution_gt_pitch_r2"
  "python bench/attribution.py --restarts 2 --seeds 0 1 --classifiers gt_loudness gt_tempo gt_voice --targets sad angry --name attribution_gt_others_r2"
  "env PYTHONPATH=examples\${PYTHONPATH:+:\$PYTHONPATH} python bench/attribution.py --restarts 2 --seeds 0 1 --classifiers custom --targets low high --label pesto --extra custom.target=pesto_bands.PestoBands 'custom.classes=[low,mid,high]' clip_seconds=0 --name attribution_pesto_r2"
  "python bench/validity.py --methods mask 'input (wave, from noise)' 'latent, prior=gan' 'latent, prior=cgan (condition=target)' 'latent, prior=cgan (condition=neutral)' --name validity_methods"
  "python bench/validity.py --methods 'prosody (neutral clip)' 'prosody, unpruned (neutral clip)' --name validity_prosody"
  "python bench/validity.py --classifier w2v2_tiny --methods mask --name validity_w2v2_mask"
  "python bench/readme_figure.py"
  "python bench/prosody_grid.py --classifier crnn_mel --targets happy sad angry"
  "python bench/ground_truth.py --methods 'prosody attribution' 'prosody edits' --name ground_truth_prosody"
  "python bench/ground_truth.py --methods mask input latent --name ground_truth_others"
  "python bench/ground_truth_where.py"
  "python bench/ground_truth_together.py"
  "python bench/ground_truth_needed.py"
  "python bench/ground_truth_which.py --models gt_tempo_w2v2 gt_voice_w2v2 --name ground_truth_which_w2v2"
  "python bench/ground_truth_which.py --models gt_pitch_w2v2 --name ground_truth_which_w2v2_pitch"
  "python bench/ground_truth_which.py --models gt_voice --name ground_truth_which_cnn_voice"
  "python bench/ground_truth_which.py --models gt_pitch gt_loudness gt_tempo --name ground_truth_which_cnn"
  "python bench/ground_truth.py --models gt_pitch gt_tempo gt_voice gt_pitch_w2v2 gt_tempo_w2v2 gt_voice_w2v2 --sensitivity-only --name ground_truth_sensitivity_w2v2"
  "python bench/voice_cues.py"
  "python bench/synth_cues.py --n-per-class 100"
  "python bench/synth_cues.py --engine numpy --isolate pitch loudness tempo voice --n-per-class 60"
  "python bench/synth_cues.py --engine numpy --isolate pitch loudness tempo voice --n-per-class 60 --others neutral"
  # time (each alone)
  "python bench/prosody_schedule.py --classifier crnn_mel --seeds 0 1 --restarts 2"
  "python bench/real_size.py"
  "python bench/mask_table.py --restarts 2"
  "python bench/am_speed.py --batches 1 8 32 --precisions fp32 bf16 --steps 20 --repeats 3"
  "python bench/am_speed.py --prosody --batches 1 4 12 32 --steps 10 --repeats 3"
  "python bench/prosody_memory.py --seconds 5 30 120"
  "python bench/io_speed.py --clips 200"
)

# on a CUDA GPU (each alone; CI and the CPU run above never have one)
gpu_benches=(
  "python bench/am_speed.py --device cuda --batches 1 32 512 2048 --precisions fp32 bf16 --sequential-max 8"
  "python bench/am_speed.py --device cuda --prosody --batches 1 4 12 32 128 --steps 10 --repeats 3"
  "python bench/am_speed.py --device cuda --profile 512"
  "python bench/am_speed.py --device cuda --batches 1 32 512 2048 --precisions fp32 bf16 --modes compiled --sequential-max 8 --name am_speed_cuda_compiled"
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${benches[@]}" "${gpu_benches[@]}"
  exit 0
fi
if [ "${1:-}" = "--gpu" ]; then
  benches=("${gpu_benches[@]}")
fi
started=$(date +%s)
for command in "${benches[@]}"; do
  echo "== $command"
  begun=$(date +%s)
  eval "$command"
  echo "== $(( $(date +%s) - begun )) s: $command"
done
echo "== all benches: $(( ($(date +%s) - started) / 60 )) min on $(nproc) CPU cores"
