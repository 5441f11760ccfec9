#!/usr/bin/env bash
# One device call's training part: train (by default fine-tune the shipped model) for about
# TRAIN_SECONDS on MNIST's training writers, export the best epoch fp16, and score it and the
# model it would replace on the *selection* half of MNIST's public test writers in the three
# layouts, second look on. Whether it ships is decided by those figures; the report half's
# figures are then measured on the CPU with the int8 file, as the card's are.
# Everything worth keeping goes to $OUT (the model in three parts, the epochs, the log).
#
# Data (../shared does not travel to the device; carry .data/gpu):
#   mkdir -p .data/gpu && cp ../shared/data/mnist-train*.npz ../shared/data/mnist-test-public*.npz .data/gpu/
# The default recipe, on the device (about 7 minutes of a 10-minute call on an H100):
#   bash benchmarks/gpu_train_default.sh
# From scratch, writer-disjoint, no teacher:
#   INIT= LR=2e-3 AUGMENT=0.5 EMA= bash benchmarks/gpu_train_default.sh
# Rehearsal on the CPU with tiny sizes:
#   OUT=/tmp/o DEVICE=cpu BS=16 EPOCHS=1 PER_EPOCH=32 VAL_SIZE=30 SELECTION=20 bash benchmarks/gpu_train_default.sh
# PER_EPOCH=N skips the speed probe and trains N composed images per epoch.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
DATA=${DATA:-.data/gpu}
MNIST=${MNIST:-$DATA/mnist-train.npz}                # the training writers (writers file beside it)
STRANGERS=${STRANGERS:-$DATA/mnist-test-public.npz}  # the public test writers (writers file beside it)
SHIPPED=resources/models/digitsum-resnet50.safetensors
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
TRAIN_SECONDS=${TRAIN_SECONDS:-240}  # sizes the epochs from the probe; the run takes ~1.3x (validation, saves)
DEVICE=${DEVICE:-cuda}
BS=${BS:-512}
EPOCHS=${EPOCHS:-6}
INIT=${INIT-$SHIPPED}          # empty: from scratch
DISTILL=${DISTILL-$INIT}       # the teacher that keeps what INIT reads (empty: none)
LR=${LR:-4e-4}                 # with INIT; from scratch the shipped runs used 2e-3
AUGMENT=${AUGMENT:-0.4}
TOUCH=${TOUCH:-0.3}            # share of images with touching neighbours, the shipped model's weakness
EMA=${EMA-0.999}               # empty: no running average of the weights
VAL_SIZE=${VAL_SIZE:-3000}     # selection-half validation images, a third per layout
SELECTION=${SELECTION:-5000}   # selection-half images per layout for the verdict (seed 2, as in the card)
PY=${PY:-python3}
W=/tmp/digitsum-gpu; rm -rf $W; mkdir -p $W
SELECT=$W/strangers-select.npz
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }

log "env"; { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null;
  $PY -c "import torch,torchvision,sys;print('python',sys.version.split()[0],'torch',torch.__version__,'torchvision',torchvision.__version__)"; } | tee -a "$OUT/log.txt"
$PY benchmarks/make_digit_bank.py "$MNIST" "$STRANGERS" --selection $SELECT | tee -a "$OUT/log.txt"

if [ -z "${PER_EPOCH:-}" ]; then  # images per epoch from a measured speed, unless given
  log "probe training speed"
  $PY benchmarks/bench_train.py --device $DEVICE --batch-size $BS --seconds 8 --mnist "$MNIST" | tee $W/probe.json | tee -a "$OUT/log.txt"
  RATE=$($PY -c "import json;print(json.load(open('$W/probe.json'))['images_per_s'])") || RATE=100
  [ -n "$DISTILL" ] && RATE=$($PY -c "print($RATE*0.75)")  # the teacher's forward pass costs about a quarter
  PER_EPOCH=$($PY -c "print(max(1, int($RATE*$TRAIN_SECONDS/$EPOCHS/$BS))*$BS)")
fi
log "synthetic:$PER_EPOCH x $EPOCHS epochs, lr $LR, augment $AUGMENT, touch $TOUCH, ema '$EMA', init '$INIT', distill '$DISTILL'"

log "train"
$PY -m core.train --data synthetic:$PER_EPOCH --mnist "$MNIST" --epochs $EPOCHS --batch-size $BS --lr $LR \
  --augment $AUGMENT --touch $TOUCH ${EMA:+--ema $EMA} ${INIT:+--init "$INIT"} ${DISTILL:+--distill "$DISTILL"} \
  --val-digits $SELECT --val-size $VAL_SIZE --device $DEVICE --out $W/run --progress json \
  > $W/progress.jsonl 2> $W/train.err
log "train rc=$? $(tail -c 600 $W/train.err)"
grep -v '"event": "step"' $W/progress.jsonl > "$OUT/progress.jsonl"  # epochs only: $OUT is small
tail -n 2 "$OUT/progress.jsonl" | cut -c1-600 | tee -a "$OUT/log.txt"
$PY - <<PYEOF 2>&1 | tee -a "$OUT/log.txt"
from core.models.checkpoint import load_model, save_model
m, info = load_model("$W/run/best.safetensors")
meta = dict(info.meta)
for k in ("format", "arch", "head", "input_height", "input_width", "channels", "mean", "std", "num_classes", "created", "version"):
    meta.pop(k, None)
save_model("$W/digitsum-resnet50.safetensors", m, meta, half=True)
print("exported fp16", info.meta["metrics"])
PYEOF
# $OUT takes 8 files of <= 16 MiB: three parts of the ~46 MiB model
(cd $W && split -n 3 digitsum-resnet50.safetensors "$OUT/digitsum-resnet50.part-" && sha256sum digitsum-resnet50.safetensors | tee -a "$OUT/log.txt")

log "selection half, $SELECTION images per layout (seed 2), second look on: the new model, then the shipped one"
for layout in synth grid touch; do
  $PY -m core synth $W/sel-$layout --count $SELECTION --seed 2 --layout $layout --mnist $SELECT > /dev/null
  for model in $W/digitsum-resnet50.safetensors $SHIPPED; do
    echo "$layout $(basename $(dirname $model))/$(basename $model) $($PY -m core evaluate $W/sel-$layout \
      --labels $W/sel-$layout/labels.csv --model $model --device $DEVICE --json -q)" | tee -a "$OUT/log.txt"
  done
done
log "end of training part"
