/* An M-mode trap handler written in C: synchronous exception causes, mepc
 * and mtval for ecall, ebreak, illegal instructions and a load fault. */
#include "bare.h"

static volatile struct trap seen;

__attribute__((interrupt("machine"), aligned(4))) static void mtrap(void)
{
    seen.cause = csr_read(mcause);
    seen.epc = csr_read(mepc);
    seen.tval = csr_read(mtval);
    csr_write(mepc, seen.epc + insn_length(seen.epc));
}

static void expect(const char *what, uint64_t pc, uint64_t cause, uint64_t tval)
{
    printf("%s: cause %lu tval 0x%lx\n", what, seen.cause, seen.tval);
    check(seen.cause == cause && seen.epc == pc && seen.tval == tval, what);
    seen.cause = -1ul;
}

int main(void)
{
    csr_write(mtvec, (uint64_t)mtrap);
    uint64_t pc = AT("ecall");
    expect("ecall", pc, CAUSE_ECALL_M, 0);
    pc = AT(".word 0xc0001073"); /* unimp: csrrw x0, cycle, x0 */
    expect("unimp", pc, CAUSE_ILLEGAL, 0xc0001073);
    pc = AT(".word 0x30200073 | (1 << 15)"); /* mret with rs1 != 0 */
    expect("bad mret", pc, CAUSE_ILLEGAL, 0x30208073);
    pc = AT(".hword 0x4002"); /* c.lwsp with rd = 0 is reserved */
    expect("c.lwsp x0", pc, CAUSE_ILLEGAL, 0x4002);
    pc = AT("c.ebreak"); /* mtval 0 as on QEMU 7.2; the spec allows the pc too */
    expect("c.ebreak", pc, CAUSE_BREAKPOINT, 0);
    pc = AT("ld zero, 8(zero)");
    expect("load from 8", pc, CAUSE_LOAD_ACCESS, 8);
    printf("mcause after: %lu\n", csr_read(mcause));
    return failures;
}
