/* Machine timer interrupts from the CLINT (mtimecmp 0x2004000, mtime
 * 0x200bff8 on QEMU's virt and spike boards alike): mip.MTIP follows
 * mtime >= mtimecmp, and a C handler takes three interrupts waited for with
 * wfi.  (QEMU's spike board has no time CSR, so it is not read here.) */
#include "bare.h"

#define MTIMECMP ((volatile uint64_t *)0x2004000)
#define MTIME ((volatile uint64_t *)0x200bff8)
#define MIP_MTIP (1ul << 7)
#define TICKS 3

static volatile struct trap seen;
static volatile int ticks;

__attribute__((interrupt("machine"), aligned(4))) static void mtrap(void)
{
    seen.cause = csr_read(mcause);
    seen.epc = csr_read(mepc);
    seen.status = csr_read(mstatus);
    *MTIMECMP = -1ul; /* lowers MTIP */
    ticks++;
}

int main(void)
{
    *MTIMECMP = -1ul;
    uint64_t t0 = *MTIME;
    uint64_t t1 = *MTIME;
    while (t1 == t0)
        t1 = *MTIME;
    check(t1 > t0, "mtime advances");
    check(!(csr_read(mip) & MIP_MTIP), "MTIP clear while mtimecmp is in the future");
    *MTIMECMP = *MTIME;
    check(csr_read(mip) & MIP_MTIP, "MTIP set once mtime reaches mtimecmp");
    *MTIMECMP = -1ul;
    check(!(csr_read(mip) & MIP_MTIP), "MTIP clear again");
    check(ticks == 0, "no interrupt while disabled");

    csr_write(mtvec, (uint64_t)mtrap);
    csr_set(mie, MIP_MTIP);
    for (int i = 0; i < TICKS; i++) {
        /* Checked with MIE clear: an interrupt taken between the check and
         * wfi would leave wfi waiting for one that never comes.  wfi wakes
         * for an interrupt pending in mie whatever MIE says; it is taken
         * once MIE is set. */
        *MTIMECMP = *MTIME + 1000; /* 100 us at 10 MHz */
        while (ticks == i) {
            __asm__ volatile("wfi");
            csr_set(mstatus, MSTATUS_MIE);
            csr_clear(mstatus, MSTATUS_MIE);
        }
        printf("tick %d: mcause 0x%lx MPIE %d MIE in handler %d\n", ticks, seen.cause,
               (seen.status & (1ul << 7)) != 0, (seen.status & MSTATUS_MIE) != 0);
        check(seen.cause == (INTERRUPT | 7), "timer interrupt cause");
    }
    csr_clear(mstatus, MSTATUS_MIE);
    return failures;
}
