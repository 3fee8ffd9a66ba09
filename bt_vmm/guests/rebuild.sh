#!/bin/bash
# Rebuild the prebuilt benchmark guests (static riscv64 Linux ELFs, and the
# bare-metal ones in bare/) shipped in
# bt_vmm/guests/ from their sources in bt_vmm/guests/src/.
# Needs Debian's gcc-riscv64-linux-gnu.  bt-vmm bench builds the native
# versions itself, with the same flags, at run time.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-riscv64-linux-gnu-gcc}
# -ffp-contract=off: no fused multiply-add contraction, so the floating-point
# checksums agree bit for bit with the native (x86-64) build.
CFLAGS=(-O2 -ffp-contract=off -static -s)
for src in src/*.c; do
    name=$(basename "$src" .c)
    "$CC" "${CFLAGS[@]}" -o "$name.elf" "$src" -lm
    echo "built $name.elf"
done

# The integer programs bare-metal, for bt-vmm bench --system (M-mode,
# picolibc, stdout and exit through HTIF; qemu-system-riscv64 -M spike runs
# them too).  There is no command line: each size is built in (src/bare/
# main.c) and named in the file, bare/NAME-SIZE.elf.  Needs Debian's
# gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf.
BARE_CC=${BARE_CC:-riscv64-unknown-elf-gcc}
BARE_FLAGS=(--specs=picolibc.specs --crt0=hosted -march=rv64gc -mabi=lp64d -mcmodel=medany -O2 -ffp-contract=off
            -Isrc -Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x100000
            -Wl,--defsym=__ram=0x80100000 -Wl,--defsym=__ram_size=0x7000000)   # (not -s: tohost is found by its symbol)
declare -A BARE_SIZE=([intmix]=100000 [sha256]=60000 [qsort]=3000000 [nqueens]=13 [matmul]=600)
rm -f bare/*.elf
for name in "${!BARE_SIZE[@]}"; do
    out=bare/$name-${BARE_SIZE[$name]}.elf
    "$BARE_CC" "${BARE_FLAGS[@]}" -Dmain=bench_main -c -o "bare/$name.o" "src/$name.c"
    "$BARE_CC" "${BARE_FLAGS[@]}" -DBENCH_SIZE="\"${BARE_SIZE[$name]}\"" -o "$out" \
        src/bare/htif.c src/bare/main.c "bare/$name.o" -lm
    rm "bare/$name.o"
    echo "built $out"
done
