#!/usr/bin/env bash
# The GPU checks an engine change needs before it lands, packed into one run on a CUDA machine:
#   1. the GPU suite (tests/gpu: graphs, streams, Stop, requests decoded together)
#   2. the benchmark at the page's own settings (python -m omni_demo.bench)
#   3. the teacher-forced fidelity check, alone and with rows decoded together (bench.fidelity)
#   4. the live-voice latency (bench.live)
# Each step has its own time limit, so a slow step never costs the others; every log and result lands
# under OUT. Usage: scripts/gpu_checks.sh OUT [WORKLOADS]   (WORKLOADS: the benchmark's, comma-separated)
# STEPS="gpu-tests bench" (say) runs only those: all four with every workload take longer than one
# 10-minute call on a lent machine, so split them over two calls.
set -u
steps=${STEPS:-gpu-tests bench fidelity live}
out=${1:?usage: scripts/gpu_checks.sh OUT [WORKLOADS]}
workloads=${2:-text-speech,concurrent-4,join-4,concurrent-8,speech-120s}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"

step() {  # step NAME SECONDS COMMAND...: run it, its output in OUT/NAME.log, say how it ended
    local name=$1 seconds=$2
    shift 2
    case " $steps " in *" $name "*) ;; *) return 0 ;; esac
    local started=$SECONDS
    timeout "$seconds" "$@" > "$out/$name.log" 2>&1
    echo "$name: rc=$? in $((SECONDS - started)) s"
}

step gpu-tests "${GPU_TESTS_S:-240}" python3 -m pytest tests/gpu -p no:cacheprovider -rA -o log_cli=true \
    --log-cli-level=INFO --junitxml="$out/gpu-tests.xml"
[ -f "$out/gpu-tests.log" ] && grep -E "^(PASSED|FAILED|ERROR)|passed|failed" "$out/gpu-tests.log" | tail -20
step bench "${BENCH_S:-420}" python3 -m omni_demo.bench --model full --workloads "$workloads" --runs 3 \
    --reference-runs 1 --debug-log --out "$out/bench"
[ -f "$out/bench.log" ] && tail -25 "$out/bench.log"
step fidelity "${FIDELITY_S:-180}" python3 -m omni_demo.bench.fidelity --batch 4 --out "$out/fidelity"
step live "${LIVE_S:-240}" python3 -m omni_demo.bench.live --model full --runs 3 --out "$out/live.json"
[ -f "$out/live.log" ] && tail -5 "$out/live.log"
exit 0
