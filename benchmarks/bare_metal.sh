#!/bin/bash
# The integer benchmarks built bare-metal (picolibc, M-mode, stdout and exit
# through HTIF) under bt-vmm's system VM and qemu-system-riscv64 -M spike,
# whole process, best of ROUNDS: bt-vmm's first run (an empty disk cache:
# it compiles everything) and a warm one.  Needs gcc-riscv64-unknown-elf,
# picolibc-riscv64-unknown-elf and qemu-system-misc.
#   benchmarks/bare_metal.sh [ROUNDS]
set -euo pipefail
ROUNDS=${1:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SRC=$ROOT/bt_vmm/guests/src
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
CFLAGS=(--specs=picolibc.specs --crt0=hosted -march=rv64gc -mabi=lp64d -mcmodel=medany -O2
        -ffp-contract=off -I"$SRC")
LAYOUT=(-Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x100000
        -Wl,--defsym=__ram=0x80100000 -Wl,--defsym=__ram_size=0x7000000)
# (sizes for ~0.5 s under qemu-system)
declare -A SIZE=([intmix]=100000 [sha256]=60000 [qsort]=3000000 [nqueens]=13 [matmul]=600)
PYTHON=${PYTHON:-python3}

best() {   # best wall time of ROUNDS runs of "$@", in seconds
    local best=999 t0 t1 t
    for _ in $(seq "$ROUNDS"); do
        t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc -l)
        best=$(echo "if ($t < $best) $t else $best" | bc -l)
    done
    printf "%.3f" "$best"
}

CACHE=${BT_VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bt-vmm}
first_run() {   # bt-vmm on a disk cache holding only the fast tier's tables (as bt-vmm bench --first-run)
    local cache
    cache=$(mktemp -d)
    (cd "$CACHE" && cp --parents ??/fast-*.btc "$cache"/)
    BT_VMM_CACHE=$cache "$PYTHON" -m bt_vmm run --memory 128M "$1"
    rm -rf "$cache"
}

printf "%-8s %9s %12s %8s %12s %8s\n" program "qemu s" "bt-vmm warm" ratio "bt-vmm first" ratio
for prog in "${!SIZE[@]}"; do
    riscv64-unknown-elf-gcc "${CFLAGS[@]}" -Dmain=bench_main -c -o "$OUT/$prog.o" "$SRC/$prog.c"
    riscv64-unknown-elf-gcc "${CFLAGS[@]}" "${LAYOUT[@]}" -DBENCH_SIZE="\"${SIZE[$prog]}\"" -o "$OUT/$prog.elf" \
        "$ROOT/tests/bare_c/htif.c" "$HERE/bare_main.c" "$OUT/$prog.o" -lm
    "$PYTHON" -m bt_vmm run --memory 128M "$OUT/$prog.elf" >/dev/null   # (warms the disk cache)
    q=$(best qemu-system-riscv64 -M spike -bios none -nographic -m 128M -kernel "$OUT/$prog.elf")
    w=$(best "$PYTHON" -m bt_vmm run --memory 128M "$OUT/$prog.elf")
    f=$(best first_run "$OUT/$prog.elf")
    printf "%-8s %9s %12s %7.2fx %12s %7.2fx\n" "$prog" "$q" "$w" "$(echo "$w / $q" | bc -l)" \
        "$f" "$(echo "$f / $q" | bc -l)"
done
