/* Interrupts: delegation, global enables, priority, CLINT timer and
 * software interrupts, vectored mtvec. */
#include "harness.h"

#define CLINT_MSIP 0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME 0x200bff8
#define MIP_SSIP 0x2
#define MIP_MSIP 0x8
#define MIP_STIP 0x20
#define MIP_MTIP 0x80

/* Spin (bounded) until a trap takes us to the armed label. */
.macro SPIN code
    li t0, 1000
81: addi t0, t0, -1
    bnez t0, 81b
    FAIL \code
.endm

test_main:
    li s0, CLINT_MSIP
    li s1, CLINT_MTIMECMP
    li s2, CLINT_MTIME

    /* nothing is taken while the enables are off */
    li t0, -1
    sd t0, 0(s1)                               /* no timer */
    csrsi mip, MIP_SSIP
    csrsi mie, MIP_SSIP
    NO_TRAP 1, nop                             /* M-mode, MIE = 0 */
    csrr t0, mip
    andi t0, t0, MIP_SSIP
    CHECK 2, t0, MIP_SSIP

    /* MIE = 1: the pending M-level SSI is taken */
    ARM 1f
    csrsi mstatus, MSTATUS_MIE
    SPIN 3
1:  CHECK_CAUSE 4, INTERRUPT | 1
    CHECK_MODE 5, 3
    csrci mip, MIP_SSIP
    csrci mstatus, MSTATUS_MIE

    /* An M-level interrupt is taken in S-mode even with MIE = 0 */
    csrsi mip, MIP_SSIP
    csrsi mie, MIP_SSIP
    ARM 1f
    GOTO_MODE 1
    SPIN 6
1:  CHECK_CAUSE 7, INTERRUPT | 1
    CHECK_MODE 8, 3
    TO_M
    csrci mip, MIP_SSIP

    /* Delegated SSI: S-mode takes it only with SIE; U-mode always */
    csrsi mideleg, MIP_SSIP
    csrsi mie, MIP_SSIP
    GOTO_MODE 1
    csrci sstatus, MSTATUS_SIE
    csrsi sip, MIP_SSIP
    NO_TRAP 10, nop
    ARM 1f
    csrsi sstatus, MSTATUS_SIE
    SPIN 11
1:  CHECK_CAUSE 12, INTERRUPT | 1
    CHECK_MODE 13, 1
    TRAP_FIELD TI_STATUS                       /* SPIE saved the enable, SPP = S */
    andi t5, t5, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    CHECK 14, t5, MSTATUS_SPIE | MSTATUS_SPP
    csrr t0, sstatus                           /* back in S: SIE restored by sret */
    andi t0, t0, MSTATUS_SIE
    CHECK 15, t0, MSTATUS_SIE
    csrci sstatus, MSTATUS_SIE
    csrsi sie, MIP_SSIP
    li t0, MSTATUS_SPP
    csrc sstatus, t0
    ARM 1f
    la t0, 2f
    csrw sepc, t0
    sret                                       /* to U with SIE = 0 */
2:  SPIN 16
1:  CHECK_CAUSE 17, INTERRUPT | 1
    CHECK_MODE 18, 1
    TRAP_FIELD TI_STATUS
    andi t5, t5, MSTATUS_SPP
    CHECK 19, t5, 0
    TO_M
    csrci mip, MIP_SSIP
    csrw mideleg, zero

    /* The CLINT timer: MTIP follows mtime >= mtimecmp */
    ld t0, 0(s2)
    addi t0, t0, 20                            /* 2 us ahead */
    sd t0, 0(s1)
    li t0, MIP_MTIP
    csrw mie, t0
    ARM 1f
    csrsi mstatus, MSTATUS_MIE
2:  wfi                                        /* a nop here: loop until it fires */
    j 2b
1:  CHECK_CAUSE 20, INTERRUPT | 7
    csrci mstatus, MSTATUS_MIE
    csrr t0, mip
    andi t0, t0, MIP_MTIP
    CHECK 21, t0, MIP_MTIP
    li t0, -1
    sd t0, 0(s1)
    csrr t0, mip
    andi t0, t0, MIP_MTIP
    CHECK 22, t0, 0
    ld t0, 0(s1)
    CHECK 23, t0, -1

    /* priority: MSI before MTI before SSI (all M-level) */
    li t0, 1
    sw t0, 0(s0)                               /* CLINT msip */
    csrr t0, mip
    andi t0, t0, MIP_MSIP
    CHECK 24, t0, MIP_MSIP
    sd zero, 0(s1)                             /* timer due now */
    csrsi mip, MIP_SSIP
    li t0, MIP_MSIP | MIP_MTIP | MIP_SSIP
    csrw mie, t0
    ARM 1f
    csrsi mstatus, MSTATUS_MIE
    SPIN 25
1:  CHECK_CAUSE 26, INTERRUPT | 3
    csrci mstatus, MSTATUS_MIE              /* mret re-enabled it */
    li t0, MIP_MTIP | MIP_SSIP
    csrw mie, t0
    ARM 1f
    csrsi mstatus, MSTATUS_MIE
    SPIN 27
1:  CHECK_CAUSE 28, INTERRUPT | 7
    csrci mstatus, MSTATUS_MIE              /* mret re-enabled it */
    li t0, MIP_SSIP
    csrw mie, t0
    ARM 1f
    csrsi mstatus, MSTATUS_MIE
    SPIN 29
1:  CHECK_CAUSE 30, INTERRUPT | 1
    /* M-level before S-level: a delegated STI waits while an MSI is pending */
    csrci mstatus, MSTATUS_MIE
    csrci mip, MIP_SSIP
    li t0, MIP_STIP
    csrs mideleg, t0
    csrs mip, t0
    li t0, MIP_MSIP | MIP_STIP
    csrw mie, t0
    ARM 1f
    GOTO_MODE 0
    SPIN 31
1:  CHECK_CAUSE 32, INTERRUPT | 3
    CHECK_MODE 33, 3
    TO_M
    sw zero, 0(s0)
    li t0, -1
    sd t0, 0(s1)
    csrr t0, mip
    andi t0, t0, MIP_MSIP
    CHECK 34, t0, 0
    li t0, MIP_STIP
    csrc mip, t0
    csrw mideleg, zero

    /* vectored mtvec: interrupts go to base + 4 * cause, exceptions to base */
    csrr s3, mtvec
    la t0, vectors + 1
    csrw mtvec, t0
    csrsi mip, MIP_SSIP
    csrsi mie, MIP_SSIP
    ARM 1f
    csrsi mstatus, MSTATUS_MIE
    SPIN 40
1:  csrw mtvec, s3
    CHECK_CAUSE 41, INTERRUPT | 1
    la t0, vectored_hit
    ld t0, 0(t0)
    CHECK 42, t0, 1
    csrci mip, MIP_SSIP
    la t0, vectors + 1
    csrw mtvec, t0
    EXPECT 43, 11, ecall
    csrw mtvec, s3
    la t0, vectored_hit
    ld t0, 0(t0)
    CHECK 44, t0, 1
    PASS

.align 6
vectors:
.option push
.option norvc                                  /* 4-byte entries */
    j mtrap
    j 1f
.option pop
1:  la t6, vectored_hit
    li t5, 1
    sd t5, 0(t6)
    j mtrap

.data
.align 3
vectored_hit: .dword 0
