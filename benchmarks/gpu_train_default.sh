#!/usr/bin/env bash
# One device call that trains and exports the default model, then the report's two models
# (shorter runs) and evaluates all three on the same held-out images; ends with GPU
# throughput figures. Everything worth keeping goes to $OUT (the model in <16 MB parts).
#   OUT=/tmp/o TRAIN_SECONDS=20 DEVICE=cpu BS=32 bash benchmarks/gpu_train_default.sh   # dry run
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
MNIST=${MNIST:-.data/mnist-train.npz}
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
TRAIN_SECONDS=${TRAIN_SECONDS:-230}   # the default model's training time, from measured speed
REPORT_SECONDS=${REPORT_SECONDS:-35}
DEVICE=${DEVICE:-cuda}
BS=${BS:-512}
EPOCHS=${EPOCHS:-8}
HELDOUT=${HELDOUT:-10000}
PY=${PY:-python3}
W=/tmp/digitsum-gpu; rm -rf $W; mkdir -p $W
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }

log "env"; { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null;
  $PY -c "import torch,torchvision,sys;print('python',sys.version.split()[0],'torch',torch.__version__,'torchvision',torchvision.__version__)"; } | tee -a "$OUT/log.txt"

log "probe training speed"
$PY benchmarks/bench_train.py --device $DEVICE --batch-size $BS --seconds 8 --mnist $MNIST | tee $W/probe.json | tee -a "$OUT/log.txt"
RATE=$($PY -c "import json;print(json.load(open('$W/probe.json'))['images_per_s'])") || RATE=100
PER_EPOCH=$($PY -c "print(max(1, int($RATE*$TRAIN_SECONDS/$EPOCHS/$BS))*$BS)")
log "rate $RATE img/s -> synthetic:$PER_EPOCH x $EPOCHS epochs"

log "train default"
$PY -m core.train --data synthetic:$PER_EPOCH --mnist $MNIST --epochs $EPOCHS --batch-size $BS \
  --lr 2e-3 --device $DEVICE --out $W/default --val-size 4000 --progress json \
  > "$OUT/progress-default.jsonl" 2> $W/default.err
log "train default rc=$? $(tail -c 600 $W/default.err)"
tail -n 2 "$OUT/progress-default.jsonl" | tee -a "$OUT/log.txt"
$PY - <<PYEOF 2>&1 | tee -a "$OUT/log.txt"
from core.checkpoint import load_model, save_model
m, info = load_model("$W/default/best.safetensors")
meta = dict(info.meta)
for k in ("format", "arch", "head", "input_height", "input_width", "channels", "mean", "std", "num_classes", "created", "version"):
    meta.pop(k, None)
save_model("$W/digitsum-resnet50.safetensors", m, meta, half=True)
print("exported fp16", info.meta["metrics"])
PYEOF
(cd $W && split -b 15M digitsum-resnet50.safetensors "$OUT/digitsum-resnet50.part-" && sha256sum digitsum-resnet50.safetensors > "$OUT/sha256.txt")

RPER=$($PY -c "print(max(64, int($RATE*$REPORT_SECONDS/25/6/64)*64))")
log "train report resnet50/sum: synthetic:$RPER x 25 epochs (report recipe: Adam 5e-4, batch 64)"
$PY -m core.train --arch resnet50 --head sum --data synthetic:$RPER --mnist $MNIST --device $DEVICE \
  --out $W/report-resnet --val-size 2000 --progress json > "$OUT/progress-report-resnet.jsonl" 2> $W/rr.err
log "rc=$? $(tail -c 300 $W/rr.err)"
BPER=$($PY -c "print(max(64, int($RATE*$REPORT_SECONDS/8/64)*64))")
log "train report baseline: synthetic:$BPER x 8 epochs"
$PY -m core.train --arch baseline --head sum --data synthetic:$BPER --mnist $MNIST --device $DEVICE \
  --out $W/report-baseline --val-size 2000 --progress json > "$OUT/progress-report-baseline.jsonl" 2> $W/rb.err
log "rc=$? $(tail -c 300 $W/rb.err)"

log "held-out evaluation ($HELDOUT images, seed 1, holdout digits)"
$PY benchmarks/heldout_eval.py $W/digitsum-resnet50.safetensors $W/report-resnet/best.safetensors \
  $W/report-baseline/best.safetensors --count $HELDOUT --seed 1 --mnist $MNIST --device $DEVICE | tee "$OUT/heldout.jsonl" | tee -a "$OUT/log.txt"

log "model-only inference throughput"
$PY benchmarks/bench_model.py --model $W/digitsum-resnet50.safetensors --device $DEVICE --batch-sizes 256 1024 4096 --seconds 3 | tee -a "$OUT/log.txt"
log "end"
