#!/usr/bin/env bash
# One device call's prediction part (issue #7's GPU goals): folder -> CSV on 100,000 PNGs with
# `digitsum predict`, whole process timed, then stage by stage, and model-only throughput at
# several batch sizes (MODEL_BENCH=0 skips it).
#   OUT=/tmp/o COUNT=2000 DEVICE=cpu bash benchmarks/gpu_predict.sh   # dry run
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
COUNT=${COUNT:-100000}
DEVICE=${DEVICE:-cuda}
MODEL=${MODEL:-resources/models/digitsum-resnet50.safetensors}
PY=${PY:-python3}
P=/tmp/digitsum-predict; rm -rf $P; mkdir -p $P
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }

PARTS=10
log "synth $COUNT PNGs in $PARTS folders (one process each)"
for i in $(seq 0 $((PARTS - 1))); do
  OMP_NUM_THREADS=1 $PY -m core synth $P/part$i --count $((COUNT / PARTS)) --seed $i > /dev/null 2>> $P/synth.err &
done
wait
log "$(find $P -name '*.png' | wc -l) PNGs, $(du -sh $P | cut -f1)"

for round in 1 2; do
  log "predict round $round"
  t0=$(date +%s.%N)
  timeout 90 $PY -m core predict $P/part* --model $MODEL --device $DEVICE --quiet -o $P/pred.csv 2>&1 | tail -n 3 | tee -a "$OUT/log.txt"
  t1=$(date +%s.%N)
  $PY -c "n=sum(1 for _ in open('$P/pred.csv', encoding='utf-8-sig'))-1; s=$t1-$t0; print(f'whole process: {n} rows in {s:.2f} s = {n/s:,.0f} images/s')" | tee -a "$OUT/log.txt"
done
$PY - <<PYEOF 2>&1 | tee -a "$OUT/log.txt"
# the CSV names files relative to their folder (the contract), so match rows by input order
import csv, glob
truth = [int(r["sum"]) for f in sorted(glob.glob("$P/part*/labels.csv"))
         for r in sorted(csv.DictReader(open(f, encoding="utf-8-sig")), key=lambda r: r["filename"])]
rows = list(csv.DictReader(open("$P/pred.csv", encoding="utf-8-sig")))
ok = sum(r["predicted_sum"] != "" and int(r["predicted_sum"]) == t for r, t in zip(rows, truth))
print(f"rows {len(rows)}, error rows {sum(bool(r['error']) for r in rows)}, exact sums {ok / max(1, len(rows)):.4f} "
      "(images composed from the bundled held-out digits)")
PYEOF

log "stage by stage (cudnn.benchmark on, then off)"
timeout 60 $PY benchmarks/bench_gpu_predict.py $P/part* --model $MODEL --device $DEVICE 2>&1 | tail -n 1 | tee -a "$OUT/log.txt"
timeout 60 $PY benchmarks/bench_gpu_predict.py $P/part* --model $MODEL --device $DEVICE --no-cudnn-benchmark 2>&1 | tail -n 1 | tee -a "$OUT/log.txt"
if [ "${MODEL_BENCH:-1}" = 1 ]; then
  log "model-only inference throughput"
  timeout 60 $PY benchmarks/bench_model.py --model $MODEL --device $DEVICE --batch-sizes 256 1024 4096 --seconds 3 | tee -a "$OUT/log.txt"
fi
log "end of prediction part"
