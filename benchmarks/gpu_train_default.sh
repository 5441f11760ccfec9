#!/usr/bin/env bash
# One device call's training part: probe the recipe's speed, train (or fine-tune) the default
# model for about TRAIN_SECONDS, export it fp16 and score it and the model it would replace on
# the same held-out images. Everything worth keeping goes to $OUT (the model in three parts).
#   OUT=/tmp/o TRAIN_SECONDS=20 DEVICE=cpu BS=32 EPOCHS=1 HELDOUT=200 bash benchmarks/gpu_train_default.sh  # dry run
# MNIST must have its writers beside it (mnist-train-writers.npz): training and validation then
# use other writers than the held-out figure (core.synth.composer.writer_split). A writer-disjoint model
# must start from scratch (no INIT): the models before the split trained on the held-out writers.
#   cp ../shared/data/mnist-train*.npz .data/    # then, on the device:
#   EPOCHS=8 AUGMENT=0.5 TRAIN_SECONDS=300 bash benchmarks/gpu_train_default.sh
# Session 2 (fine-tune of the first default model, half the images augmented):
#   INIT=resources/models/digitsum-resnet50.safetensors LR=5e-4 AUGMENT=0.5 EPOCHS=6 TRAIN_SECONDS=190
# PER_EPOCH=N skips the probe and trains N composed images per epoch.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
MNIST=${MNIST:-.data/mnist-train.npz}
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
TRAIN_SECONDS=${TRAIN_SECONDS:-230}  # sizes the epochs from the probe; the real run takes ~1.5x (validation, saves)
DEVICE=${DEVICE:-cuda}
BS=${BS:-512}
EPOCHS=${EPOCHS:-8}
LR=${LR:-2e-3}
AUGMENT=${AUGMENT:-1.0}
INIT=${INIT:-}
HELDOUT=${HELDOUT:-10000}
PY=${PY:-python3}
W=/tmp/digitsum-gpu; rm -rf $W; mkdir -p $W
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }

log "env"; { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null;
  $PY -c "import torch,torchvision,sys;print('python',sys.version.split()[0],'torch',torch.__version__,'torchvision',torchvision.__version__)"; } | tee -a "$OUT/log.txt"

if [ -z "${PER_EPOCH:-}" ]; then  # images per epoch from a measured speed, unless given
  log "probe training speed"
  $PY benchmarks/bench_train.py --device $DEVICE --batch-size $BS --seconds 8 --mnist $MNIST | tee $W/probe.json | tee -a "$OUT/log.txt"
  RATE=$($PY -c "import json;print(json.load(open('$W/probe.json'))['images_per_s'])") || RATE=100
  PER_EPOCH=$($PY -c "print(max(1, int($RATE*$TRAIN_SECONDS/$EPOCHS/$BS))*$BS)")
fi
log "synthetic:$PER_EPOCH x $EPOCHS epochs, lr $LR, augment $AUGMENT, init '${INIT}'"

log "train default"
$PY -m core.train --data synthetic:$PER_EPOCH --mnist $MNIST --epochs $EPOCHS --batch-size $BS \
  --lr $LR --augment $AUGMENT ${INIT:+--init "$INIT"} --device $DEVICE --out $W/default --val-size 4000 \
  --progress json > $W/progress-default.jsonl 2> $W/default.err
log "train default rc=$? $(tail -c 600 $W/default.err)"
grep -v '"event": "step"' $W/progress-default.jsonl > "$OUT/progress-default.jsonl"  # epochs only: $OUT is small
tail -n 2 "$OUT/progress-default.jsonl" | cut -c1-400 | tee -a "$OUT/log.txt"
$PY - <<PYEOF 2>&1 | tee -a "$OUT/log.txt"
from core.models.checkpoint import load_model, save_model
m, info = load_model("$W/default/best.safetensors")
meta = dict(info.meta)
for k in ("format", "arch", "head", "input_height", "input_width", "channels", "mean", "std", "num_classes", "created", "version"):
    meta.pop(k, None)
save_model("$W/digitsum-resnet50.safetensors", m, meta, half=True)
print("exported fp16", info.meta["metrics"])
PYEOF
# $OUT takes 8 files of <= 16 MiB: three parts of the ~46 MiB model
(cd $W && split -n 3 digitsum-resnet50.safetensors "$OUT/digitsum-resnet50.part-" && sha256sum digitsum-resnet50.safetensors | tee -a "$OUT/log.txt")

log "held-out evaluation ($HELDOUT images, seed 1, held-out writers): new model, then ${INIT:-nothing}"
$PY benchmarks/heldout_eval.py $W/digitsum-resnet50.safetensors $INIT --count $HELDOUT --seed 1 --mnist $MNIST \
  --device $DEVICE | tee -a "$OUT/log.txt"
for layout in synth grid; do  # the second look and the doubtful rows, on both composers' layouts
  $PY benchmarks/second_look_eval.py --model $W/digitsum-resnet50.safetensors --mnist $MNIST --count $HELDOUT \
    --layout $layout --device $DEVICE | tee -a "$OUT/log.txt"
done
log "end of training part"
