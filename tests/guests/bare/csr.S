/* CSR access rules and WARL behaviour (as QEMU's virt machine). */
#include "harness.h"

test_main:
    CHECK_CSR 1, misa, 0x800000000014112d     /* RV64 IMAFDCSU */
    CHECK_CSR 2, mhartid, 0
    CHECK_CSR 3, mvendorid, 0
    csrw misa, zero                            /* not switchable */
    CHECK_CSR 4, misa, 0x800000000014112d

    /* mstatus: writable bits, fixed UXL/SXL, SD summarising FS; sstatus view */
    csrr s0, mstatus
    li t0, -1
    csrw mstatus, t0
    CHECK_CSR 5, mstatus, 0x8000000a007e79aa
    CHECK_CSR 6, sstatus, 0x80000002000c6122
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, 0x1000                              /* MPP = 2 is reserved: MPP keeps 0 */
    csrs mstatus, t0
    csrr t0, mstatus
    li t1, MSTATUS_MPP
    and t0, t0, t1
    CHECK 7, t0, 0
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, 0x2000                              /* FS = Initial: no SD */
    csrs mstatus, t0
    csrr t0, mstatus
    bltz t0, 1f
    li t0, 0x6000
    csrs sstatus, t0                           /* through the sstatus view */
    csrr t0, sstatus
    bgez t0, 1f
    csrw mstatus, s0
    j 2f
1:  FAIL 8
2:
    /* FP CSRs: illegal while FS is Off; writes make FS Dirty */
    li t0, MSTATUS_FS
    csrc mstatus, t0
    EXPECT 10, 2, csrr a0, fflags
    EXPECT 11, 2, csrw frm, zero
    li t0, 0x2000
    csrs mstatus, t0
    li t0, 0x1ff
    csrw fcsr, t0
    CHECK_CSR 12, fcsr, 0xff
    CHECK_CSR 13, fflags, 0x1f
    CHECK_CSR 14, frm, 7
    csrr t0, mstatus
    li t1, MSTATUS_FS
    and t0, t0, t1
    CHECK 15, t0, MSTATUS_FS
    csrwi frm, 2
    CHECK_CSR 16, fcsr, 0x5f

    /* trap vectors: modes 2 and 3 are reserved, the write is ignored */
    csrr s0, mtvec
    li t0, 0x80001002
    csrw mtvec, t0
    csrr t0, mtvec
    bne t0, s0, 1f
    li t0, 0x80001001
    csrw mtvec, t0
    CHECK_CSR 17, mtvec, 0x80001001
    csrw mtvec, s0
    j 2f
1:  csrw mtvec, s0
    FAIL 18
2:
    /* epc: bit 0 is always zero */
    li t0, 0x80000fff
    csrw mepc, t0
    CHECK_CSR 19, mepc, 0x80000ffe
    csrw sepc, t0
    CHECK_CSR 20, sepc, 0x80000ffe

    /* satp: only Bare, Sv39 and Sv48; an unsupported mode ignores the write */
    li t0, 0x8000000000012345
    csrw satp, t0
    CHECK_CSR 21, satp, 0x8000000000012345
    li t0, 0xa000000000000001                  /* Sv57 */
    csrw satp, t0
    CHECK_CSR 22, satp, 0x8000000000012345
    li t0, 0x9000000000000007
    csrw satp, t0
    CHECK_CSR 23, satp, 0x9000000000000007
    csrw satp, zero

    /* delegation and interrupt-enable masks */
    li t0, -1
    csrw medeleg, t0
    CHECK_CSR 24, medeleg, 0xb3ff
    csrw medeleg, zero
    csrw mideleg, t0
    CHECK_CSR 25, mideleg, 0x222
    csrw mie, t0
    CHECK_CSR 26, mie, 0xaaa
    CHECK_CSR 27, sie, 0x222
    csrw sie, zero
    CHECK_CSR 28, mie, 0x888
    csrw mip, t0
    CHECK_CSR 29, mip, 0x222                   /* MSIP/MTIP/MEIP are the devices' */
    CHECK_CSR 30, sip, 0x222
    csrw sip, zero                             /* S may clear SSIP only */
    CHECK_CSR 31, mip, 0x220
    csrw mip, zero
    li t0, 0x20
    csrw mideleg, t0                           /* STIP only: sie/sip see only it */
    csrw mie, t0
    CHECK_CSR 32, sie, 0x20
    csrw mie, zero
    csrw mideleg, zero

    /* envcfg: FIOM only; counter enables: 32 bits; mcountinhibit: no TM */
    li t0, -1
    csrw menvcfg, t0
    CHECK_CSR 33, menvcfg, 1
    csrw senvcfg, t0
    CHECK_CSR 34, senvcfg, 1
    csrw mcounteren, t0
    CHECK_CSR 35, mcounteren, 0xffffffff
    csrw mcountinhibit, t0
    CHECK_CSR 36, mcountinhibit, 0xfffffffd
    csrw mcountinhibit, zero
    csrw mcounteren, zero

    /* PMP: WARL storage; odd pmpcfg do not exist on RV64 */
    li t0, 0x7f02                              /* byte 0: W without R; byte 1: reserved bits */
    csrw pmpcfg0, t0
    CHECK_CSR 37, pmpcfg0, 0x1f00
    EXPECT 38, 2, csrr a0, pmpcfg1
    li t0, -1
    csrw pmpaddr3, t0
    CHECK_CSR 39, pmpaddr3, 0x3fffffffffffff
    li t0, 0x9f                                /* lock entry 8 (pmpcfg2 byte 0) */
    csrw pmpcfg2, t0
    csrw pmpcfg2, zero
    CHECK_CSR 40, pmpcfg2, 0x9f
    csrw pmpaddr8, zero
    CHECK_CSR 41, pmpaddr8, 0
    li t0, 0x1234
    csrw pmpaddr8, t0
    CHECK_CSR 42, pmpaddr8, 0
    CHECK_CSR 43, pmpaddr63, 0

    /* minstret: a write replaces the writing instruction's increment */
    li t0, 1000
    csrw minstret, t0
    csrr t1, minstret
    CHECK 44, t1, 1000
    csrr t1, instret
    CHECK 45, t1, 1003                         /* csrr, li, beq retired since */
    /* mcountinhibit freezes the counter */
    csrwi mcountinhibit, 4
    csrr t1, minstret
    nop
    nop
    csrr t2, minstret
    bne t1, t2, 1f
    csrwi mcountinhibit, 0
    csrr t1, minstret
    nop
    csrr t2, minstret
    sub t2, t2, t1
    CHECK 46, t2, 2
    li t0, 50
    csrw mcycle, t0
    csrr t1, mcycle
    CHECK 47, t1, 50
    j 2f
1:  FAIL 48
2:
    /* counter enables: S needs mcounteren, U needs scounteren as well */
    GOTO_MODE 1
    EXPECT 50, 2, rdcycle a0
    EXPECT 51, 2, rdtime a0
    EXPECT 52, 2, rdinstret a0
    TO_M
    li t0, 5                                   /* CY, IR */
    csrw mcounteren, t0
    GOTO_MODE 1
    NO_TRAP 53, rdcycle a0
    EXPECT 54, 2, rdtime a0
    NO_TRAP 55, rdinstret a0
    csrwi scounteren, 1
    TO_M
    GOTO_MODE 0
    NO_TRAP 56, rdcycle a0
    EXPECT 57, 2, rdinstret a0
    TO_M
    li t0, 7
    csrw mcounteren, t0
    csrw scounteren, t0
    GOTO_MODE 0
    NO_TRAP 58, rdtime a0
    NO_TRAP 59, rdinstret a0
    TO_M

    /* access rules */
    EXPECT 60, 2, csrw mvendorid, zero         /* read-only */
    EXPECT 61, 2, csrs cycle, a0
    NO_TRAP 62, csrrs a0, cycle, zero          /* a read of a read-only CSR is fine */
    EXPECT 63, 2, csrr a0, 0x7c0               /* does not exist */
    EXPECT 64, 2, csrr a0, 0x3a1
    GOTO_MODE 1
    EXPECT 65, 2, csrr a0, mscratch
    NO_TRAP 66, csrw sscratch, a0
    TO_M
    PASS
