/* Self-modifying code: a patched instruction runs after fence.i. */
#include "harness.h"

test_main:
    call patched
    CHECK 1, a0, 1
    la t0, new_insn
    lw t1, 0(t0)
    la t0, patched
    sw t1, 0(t0)
    fence.i
    call patched
    CHECK 2, a0, 2
    /* and again in a loop: each iteration patches the next result */
    li s0, 3
1:  la t0, patched
    li t1, 0x00000513                /* addi a0, zero, imm */
    slli t2, s0, 20
    or t1, t1, t2
    sw t1, 0(t0)
    fence.i
    call patched
    bne a0, s0, 2f
    addi s0, s0, 1
    li t0, 10
    bne s0, t0, 1b
    PASS
2:  FAIL 3

.option push
.option norvc
patched:
    addi a0, zero, 1
    ret
.option pop

.data
new_insn:
.option push
.option norvc
    addi a0, zero, 2
.option pop
