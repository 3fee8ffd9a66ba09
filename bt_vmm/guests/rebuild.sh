#!/bin/bash
# Rebuild the prebuilt benchmark guests (static riscv64 Linux ELFs) shipped in
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
