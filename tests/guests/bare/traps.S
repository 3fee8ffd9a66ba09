/* Synchronous exceptions, delegation, trap returns and their checks. */
#include "harness.h"

test_main:
    /* ecall from each mode, handled in M: cause and the trapped mode in MPP */
    ARM 1f
ecall_m:
    ecall
1:  CHECK_CAUSE 1, 11
    TRAP_FIELD TI_EPC
    CHECK_LABEL 2, t5, ecall_m
    GOTO_MODE 1
    EXPECT 3, 9, ecall
    CHECK_MODE 4, 3
    TRAP_FIELD TI_STATUS
    srli t5, t5, 11
    andi t5, t5, 3
    CHECK 5, t5, 1
    TO_M
    GOTO_MODE 0
    EXPECT 6, 8, ecall
    TRAP_FIELD TI_STATUS
    srli t5, t5, 11
    andi t5, t5, 3
    CHECK 7, t5, 0
    TO_M

    /* delegation: ecall from U goes to S; SPP records U */
    li t0, 1 << 8
    csrw medeleg, t0
    GOTO_MODE 0
    EXPECT 10, 8, ecall
    CHECK_MODE 11, 1
    TRAP_FIELD TI_STATUS
    andi t5, t5, MSTATUS_SPP
    CHECK 12, t5, 0
    TO_M
    csrw medeleg, zero
    /* a delegated exception raised in S is taken in S; SPP records S */
    li t0, 1 << 2
    csrw medeleg, t0
    CHECK_CSR 13, medeleg, 1 << 2
    GOTO_MODE 1
    EXPECT 14, 2, .word 0xffffffff
    CHECK_MODE 15, 1
    TRAP_FIELD TI_STATUS
    andi t5, t5, MSTATUS_SPP
    CHECK 16, t5, MSTATUS_SPP
    csrw sscratch, zero
    TO_M
    csrw medeleg, zero
    /* exceptions in M-mode are never delegated */
    li t0, 1 << 11 | 1 << 2
    csrw medeleg, t0
    CHECK_CSR 17, medeleg, 1 << 2
    EXPECT 18, 2, .word 0x7c002573       /* csrr a0, 0x7c0: no such CSR */
    CHECK_MODE 19, 3
    csrw medeleg, zero

    /* ebreak: tval is 0, as on Debian's QEMU 7.2 (the spec allows the pc too) */
    ARM 1f
    ebreak
1:  CHECK_CAUSE 20, 3
    CHECK_TVAL 21, 0

    /* illegal instructions carry their bits in tval */
    EXPECT 22, 2, .word 0x7c002573
    CHECK_TVAL 23, 0x7c002573
    EXPECT 24, 2, csrw mhartid, zero       /* read-only CSR */
    CHECK_TVAL 25, 0xf1401073
    EXPECT 26, 2, .word 0xffffffff
    CHECK_TVAL 27, 0xffffffff
    GOTO_MODE 1
    EXPECT 28, 2, csrr a0, mstatus          /* M CSR from S */
    CHECK_TVAL 29, 0x30002573
    EXPECT 30, 2, mret
    CHECK_TVAL 31, 0x30200073
    TO_M
    GOTO_MODE 0
    EXPECT 32, 2, csrr a0, sstatus          /* S CSR from U */
    EXPECT 33, 2, sret
    EXPECT 34, 2, wfi
    EXPECT 35, 2, sfence.vma
    TO_M

    /* mret: MIE <- MPIE, MPIE <- 1, MPP <- U, MPRV cleared when leaving M */
    li t0, MSTATUS_MPP | MSTATUS_MIE
    csrs mstatus, t0
    li t0, MSTATUS_MPIE
    csrs mstatus, t0
    la t0, 1f
    csrw mepc, t0
    mret
1:  csrr t0, mstatus
    li t1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP
    and t0, t0, t1
    CHECK 40, t0, MSTATUS_MIE | MSTATUS_MPIE
    csrci mstatus, MSTATUS_MIE
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    GOTO_MODE 1
    TO_M
    csrr t0, mstatus
    li t1, MSTATUS_MPRV
    and t0, t0, t1
    CHECK 41, t0, 0
    /* MPP = M keeps MPRV */
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    GOTO_MODE 3
    csrr t0, mstatus
    li t1, MSTATUS_MPRV
    and t0, t0, t1
    CHECK 42, t0, MSTATUS_MPRV
    csrc mstatus, t1

    /* sret: SIE <- SPIE, SPIE <- 1, SPP <- U, to the mode in SPP */
    GOTO_MODE 1
    li t0, MSTATUS_SPP | MSTATUS_SPIE
    csrs sstatus, t0
    csrci sstatus, MSTATUS_SIE
    la t0, 1f
    csrw sepc, t0
    sret
1:  csrr t0, sstatus
    andi t0, t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
    CHECK 43, t0, MSTATUS_SPIE | MSTATUS_SIE
    csrci sstatus, MSTATUS_SIE
    /* sret to U */
    la t0, 1f
    csrw sepc, t0
    sret
1:  EXPECT 44, 2, csrr a0, sstatus        /* now in U */
    TO_M

    /* TSR, TW, TVM */
    li t0, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM
    csrs mstatus, t0
    GOTO_MODE 1
    EXPECT 45, 2, sret
    EXPECT 46, 2, wfi
    EXPECT 47, 2, sfence.vma
    EXPECT 48, 2, csrr a0, satp
    TO_M
    li t0, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM
    csrc mstatus, t0
    GOTO_MODE 1
    NO_TRAP 49, wfi
    NO_TRAP 50, sfence.vma
    NO_TRAP 51, csrr a0, satp
    TO_M
    NO_TRAP 52, wfi                          /* M-mode ignores TW */

    /* misaligned loads and stores work (as on QEMU) */
    la s0, data
    li t0, 0x0807060504030201
    sd t0, 0(s0)
    NO_TRAP 60, lw a0, 1(s0)
    li t0, 0x05040302
    bne a0, t0, 1f
    li t0, 0xaabbccdd
    NO_TRAP 61, sw t0, 3(s0)
    ld a0, 0(s0)
    li t0, 0x08aabbccdd030201
    beq a0, t0, 2f
1:  FAIL 62
2:  NO_TRAP 63, ld a0, 6(s0)             /* crosses into the next doubleword */
    li t0, 0x0808
    andi a0, a0, 0x7ff
    /* misaligned AMOs and LR fault */
    addi s1, s0, 2
    EXPECT 64, 6, amoadd.w a0, t0, (s1)
    TRAP_FIELD TI_TVAL
    bne t5, s1, 1f
    EXPECT 65, 4, lr.w a0, (s1)
    EXPECT 66, 6, sc.w a0, t0, (s1)
    j 2f
1:  FAIL 67
2:
    /* access faults: nothing at address 0 */
    EXPECT 70, 5, ld a0, 0(zero)
    CHECK_TVAL 71, 0
    EXPECT 72, 7, sd a0, 8(zero)
    CHECK_TVAL 73, 8
    li t0, 0x1000
    EXPECT 74, 1, jalr t0
    CHECK_TVAL 75, 0x1000
    TRAP_FIELD TI_EPC
    CHECK 76, t5, 0x1000
    PASS

.data
.align 3
data: .fill 4, 8, 0
