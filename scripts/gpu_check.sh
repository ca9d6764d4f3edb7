#!/usr/bin/env bash
# Issue 14's one prepared run for a machine with a GPU: the CUDA tests, `make bench DEVICE=cuda`, and a short
# paper-lsun64 run at 64x64 (torchrun on 2 processes when 2 GPUs are there). Not yet run on a GPU: time it.
#   scripts/gpu_check.sh                      PY: .venv/bin/python if present, else python3 (a GPU image's torch)
#   OUT=dir DEVICE=cpu BENCH=0 scripts/gpu_check.sh   a dry run of the same steps on the CPU, without make bench
# Logs, bench.jsonl and the run's metrics land in OUT (default gpu_check/).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
OUT=${OUT:-gpu_check} DEVICE=${DEVICE:-cuda} BENCH=${BENCH:-1} STEPS=${STEPS:-200}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD DCGAN_TEST_DEVICE=$DEVICE
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count() if '$DEVICE' == 'cuda' else 2)")
"$PY" -c "import torch; print('torch', torch.__version__, 'devices:', $GPUS)" | tee "$OUT/devices.txt"

echo "== the CUDA tests"
"$PY" -m pytest -q -p no:cacheprovider -rs tests/core/test_cuda.py 2>&1 | tee "$OUT/cuda_tests.log" \
  || echo "THE CUDA TESTS FAILED (see $OUT/cuda_tests.log); going on to the measurements"

if [ "$BENCH" = 1 ]; then
  echo "== make bench DEVICE=$DEVICE"
  make bench DEVICE="$DEVICE" PY="$PY" SETUP= 2>&1 | tee "$OUT/bench.log" || echo "MAKE BENCH FAILED"
  cp book/generated/bench.jsonl "$OUT/bench.jsonl" || true
fi

echo "== paper-lsun64 at 64x64 on synthetic rooms, $STEPS steps"
PACK=data/packed/gpu-check64
[ -f $PACK/meta.json ] || "$PY" -m dcgan_core pack synth-rooms --out $PACK --resolution 64 --limit 8192
NPROC=$(( GPUS >= 2 ? 2 : 1 ))
RUN=runs/gpu-check-lsun64-np$NPROC; rm -rf "$RUN"
ARGS=(train --data $PACK --preset paper-lsun64 --steps "$STEPS" --batch-size 128 --device "$DEVICE" --log-every 20
      --no-progress --out "$RUN")
start=$(date +%s)
if [ $NPROC = 2 ]; then
  "$PY" -m torch.distributed.run --standalone --nproc_per_node=2 -m dcgan_core "${ARGS[@]}" 2>&1 | tail -3
else
  "$PY" -m dcgan_core "${ARGS[@]}" 2>&1 | tail -3
fi
echo "{\"processes\": $NPROC, \"steps\": $STEPS, \"wall_s\": $(( $(date +%s) - start ))}" | tee "$OUT/lsun64_run.json"
cp "$RUN/metrics.jsonl" "$OUT/lsun64_metrics.jsonl"
echo "== done: $OUT"
