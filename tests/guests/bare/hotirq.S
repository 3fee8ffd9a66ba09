/* Interrupts that come while a hot loop runs: one its own store to the
 * CLINT's msip raises (taken right after that store), and the timer's, by
 * the clock (a loop with no way out but the interrupt). */
#include "harness.h"

#define CLINT_MSIP 0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME 0x200bff8
#define MIP_MSIP 0x8
#define MIP_MTIP 0x80

test_main:
    li s0, CLINT_MSIP
    li s1, CLINT_MTIMECMP
    li s2, CLINT_MTIME
    li t0, -1
    sd t0, 0(s1)                               /* no timer yet */

    /* the loop's last store raises the software interrupt */
    li t0, MIP_MSIP
    csrw mie, t0
    ARM 1f
    csrsi mstatus, MSTATUS_MIE
    li t1, 3000                                /* hot long before its last pass */
2:  addi t1, t1, -1
    seqz t2, t1
    sw t2, 0(s0)                               /* msip = 1 on the last pass */
after_store:
    bnez t1, 2b
    FAIL 2                                     /* not taken after the store */
1:  CHECK_CAUSE 3, INTERRUPT | 3
    csrci mstatus, MSTATUS_MIE                 /* mret re-enabled it */
    TRAP_FIELD TI_EPC
    CHECK_LABEL 4, t5, after_store
    CHECK 5, t1, 0
    sw zero, 0(s0)

    /* the timer ends a loop that has no other way out */
    li t0, MIP_MTIP
    csrw mie, t0
    ARM 1f
    ld t0, 0(s2)
    li t2, 2000000                             /* 0.2 s ahead: the loop is translated by then */
    add t0, t0, t2
    sd t0, 0(s1)
    csrsi mstatus, MSTATUS_MIE
    li t1, 0
3:  addi t1, t1, 1
    j 3b
1:  CHECK_CAUSE 6, INTERRUPT | 7
    li t0, -1
    sd t0, 0(s1)
    PASS
