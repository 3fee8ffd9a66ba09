/* M -> S -> U through mret and sret, with medeleg sending illegal
 * instructions and U-mode ecalls to a C S-mode handler; everything else goes
 * to the C M-mode handler.  Each handler records the cause and the mode the
 * trap came from (mstatus.MPP / sstatus.SPP).  printf works in every mode:
 * HTIF is plain memory. */
#include <stdlib.h>

#include "bare.h"

static volatile struct trap seen;
static volatile char handler; /* 'M' or 'S' */

__attribute__((interrupt("machine"), aligned(4))) static void mtrap(void)
{
    seen.cause = csr_read(mcause);
    seen.epc = csr_read(mepc);
    seen.tval = csr_read(mtval);
    seen.status = (csr_read(mstatus) & MSTATUS_MPP) >> 11;
    handler = 'M';
    csr_write(mepc, seen.epc + insn_length(seen.epc));
}

__attribute__((interrupt("supervisor"), aligned(4))) static void strap(void)
{
    seen.cause = csr_read(scause);
    seen.epc = csr_read(sepc);
    seen.tval = csr_read(stval);
    seen.status = (csr_read(sstatus) & MSTATUS_SPP) >> 8;
    handler = 'S';
    csr_write(sepc, seen.epc + insn_length(seen.epc));
}

static void expect(const char *what, uint64_t pc, char mode, uint64_t cause, uint64_t from)
{
    printf("%s: %c-mode handler, cause %lu, from mode %lu\n", what, handler, seen.cause, seen.status);
    check(handler == mode && seen.cause == cause && seen.status == from && seen.epc == pc, what);
    handler = '-';
}

static void user_main(void)
{
    uint64_t pc = AT("ecall");
    expect("U ecall", pc, 'S', CAUSE_ECALL_U, 0);
    pc = AT("csrr a0, sstatus");
    expect("U csrr sstatus", pc, 'S', CAUSE_ILLEGAL, 0);
    check(seen.tval == 0x10002573, "U csrr sstatus tval");
    pc = AT("ebreak");
    expect("U ebreak", pc, 'M', CAUSE_BREAKPOINT, 0);
    exit(failures);
}

static void supervisor_main(void)
{
    uint64_t pc = AT("ecall");
    expect("S ecall", pc, 'M', CAUSE_ECALL_S, 1);
    pc = AT("csrr a0, mstatus");
    expect("S csrr mstatus", pc, 'S', CAUSE_ILLEGAL, 1);
    check(seen.tval == 0x30002573, "S csrr mstatus tval");
    csr_clear(sstatus, MSTATUS_SPP);
    csr_write(sepc, (uint64_t)user_main);
    __asm__ volatile("sret");
    __builtin_unreachable();
}

int main(void)
{
    pmp_allow_all();
    csr_write(mtvec, (uint64_t)mtrap);
    csr_write(stvec, (uint64_t)strap);
    csr_write(medeleg, (1ul << CAUSE_ILLEGAL) | (1ul << CAUSE_ECALL_U));
    printf("medeleg 0x%lx\n", csr_read(medeleg));
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, 1ul << 11);
    csr_write(mepc, (uint64_t)supervisor_main);
    __asm__ volatile("mret");
    __builtin_unreachable();
}
