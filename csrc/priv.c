/* CSRs and privileged instructions: placeholder until the privileged core lands. */
#include "bt.h"

#define ILLEGAL() bt_raise(h, EXC_ILLEGAL_INSN, 0)

uint64_t bt_mret(hart_t *h) { ILLEGAL(); return 0; }
uint64_t bt_sret(hart_t *h) { ILLEGAL(); return 0; }
uint64_t bt_wfi(hart_t *h) { (void)h; return 0; }
uint64_t bt_sfence_vma(hart_t *h, uint64_t vaddr, uint64_t asid, uint64_t flags)
{
    (void)vaddr, (void)asid, (void)flags;
    bt_tlb_flush(h);
    return 0;
}
uint64_t bt_fence_i(hart_t *h) { (void)h; return 0; }
uint64_t bt_csr(hart_t *h, uint64_t csr, uint64_t kind, uint64_t operand, uint64_t flags)
{
    (void)csr, (void)kind, (void)operand, (void)flags;
    ILLEGAL();
    return 0;
}
