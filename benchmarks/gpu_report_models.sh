#!/usr/bin/env bash
# One device call's last part: the report's ResNet-50 + 128-d head, trained with the report's
# recipe (Adam 5e-4, batch 64; `digitsum train --arch resnet50 --head sum` defaults) for about
# SECONDS (SIGTERM ends it early and keeps its best model), then scored on the held-out images.
#   OUT=/tmp/o SECONDS_=20 DEVICE=cpu PER_EPOCH=256 bash benchmarks/gpu_report_models.sh   # dry run
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
MNIST=${MNIST:-.data/mnist-train.npz}
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
SECONDS_=${SECONDS_:-60}
DEVICE=${DEVICE:-cuda}
PER_EPOCH=${PER_EPOCH:-20000}
HELDOUT=${HELDOUT:-10000}
PY=${PY:-python3}
R=/tmp/digitsum-report; rm -rf $R; mkdir -p $R
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }

log "train the report's resnet50/sum for ${SECONDS_} s: synthetic:$PER_EPOCH per epoch, report recipe"
timeout -s TERM -k 20 $SECONDS_ $PY -m core.train --arch resnet50 --head sum --data synthetic:$PER_EPOCH --mnist $MNIST \
  --device $DEVICE --out $R/resnet-sum --val-size 2000 --progress json > $R/progress.jsonl 2> $R/err
log "rc=$? $(tail -c 300 $R/err)"
grep -v '"event": "step"' $R/progress.jsonl | cut -c1-400 | tee -a "$OUT/log.txt"
log "held-out evaluation of the report model"
$PY benchmarks/heldout_eval.py $R/resnet-sum/best.safetensors --count $HELDOUT --seed 1 --mnist $MNIST \
  --device $DEVICE | tee -a "$OUT/log.txt"
log "end of report part"
