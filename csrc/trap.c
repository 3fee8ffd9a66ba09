/* Exceptions, interrupts and privilege transitions (privileged spec 3.1.6-3.1.9, 3.3.1). */
#include <string.h>
#include <time.h>
#include "priv.h"

static uint64_t host_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* 10 MHz, the timebase of QEMU's virt board */
    return (uint64_t)ts.tv_sec * 10000000ULL + (uint64_t)ts.tv_nsec / 100;
}

void bt_hart_reset(hart_t *h, uint64_t machine_kind, uint64_t pc)
{
    uint8_t *ram = h->ram, *watch = h->watch;
    uint64_t base = h->ram_base, size = h->ram_size, guard = h->ram_low_guard;
    memset(h, 0, sizeof *h);
    h->ram = ram, h->ram_base = base, h->ram_size = size, h->ram_low_guard = guard, h->watch = watch;
    h->machine_kind = machine_kind;
    h->pc = pc;
    h->priv = machine_kind == MACHINE_USER ? PRV_U : PRV_M;
    /* RV64 IMAFDCSU */
    h->misa = (2ULL << 62) | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) |
              (1 << 12) | (1 << 18) | (1 << 20);
    h->mstatus = (2ULL << 32) | (2ULL << 34); /* UXL = SXL = 64 */
    if (machine_kind == MACHINE_USER) {
        h->mstatus |= MSTATUS_FS; /* Dirty: Linux gives user code the FPU */
        /* qemu-user lets user code read every counter */
        h->mcounteren = h->scounteren = 0xffffffff;
    }
    h->reservation = ~0ULL;
    h->mtimecmp = ~0ULL;
    h->time_offset = host_ticks(); /* mtime counts from reset */
    bt_tlb_flush(h);
}

void bt_raise(hart_t *h, uint64_t cause, uint64_t tval)
{
    h->exc_pending = 1;
    h->exc_cause = cause;
    h->exc_tval = tval;
}

uint64_t bt_mtime(hart_t *h)
{
    return host_ticks() - h->time_offset;
}

static uint64_t trap_vector(uint64_t tvec, uint64_t cause, int interrupt)
{
    uint64_t base = tvec & ~3ULL;
    return interrupt && (tvec & 3) == 1 ? base + 4 * cause : base;
}

/* Enter the trap handler of the mode the trap is delegated to. */
static void trap_enter(hart_t *h, uint64_t cause, uint64_t tval, int interrupt)
{
    uint64_t deleg = interrupt ? h->mideleg : h->medeleg;
    uint64_t xcause = cause | (uint64_t)interrupt << 63;
    uint64_t s = h->mstatus;
    if (h->priv <= PRV_S && cause < 64 && ((deleg >> cause) & 1)) {
        h->scause = xcause, h->sepc = h->pc, h->stval = tval;
        s &= ~(uint64_t)(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
        s |= h->priv << MSTATUS_SPP_SHIFT;
        if (h->mstatus & MSTATUS_SIE)
            s |= MSTATUS_SPIE;
        h->priv = PRV_S;
        h->pc = trap_vector(h->stvec, cause, interrupt);
    } else {
        h->mcause = xcause, h->mepc = h->pc, h->mtval = tval;
        s &= ~(uint64_t)(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE);
        s |= h->priv << MSTATUS_MPP_SHIFT;
        if (h->mstatus & MSTATUS_MIE)
            s |= MSTATUS_MPIE;
        h->priv = PRV_M;
        h->pc = trap_vector(h->mtvec, cause, interrupt);
    }
    h->mstatus = s;
    bt_mmu_sync(h);
}

void bt_take_exception(hart_t *h)
{
    uint64_t cause = h->exc_cause, tval = h->exc_tval;
    uint64_t pc = h->pc, priv = h->priv, mstatus = h->mstatus;
    h->exc_pending = 0;
    if (h->machine_kind == MACHINE_USER) {
        /* The process VM's "kernel" is the VMM: hand the trap over. */
        h->scause = cause;
        h->stval = tval;
        h->sepc = h->pc;
        bt_stop(h, EXIT_USER_TRAP);
        return;
    }
    trap_enter(h, cause, tval, 0);
    if (h->pc == pc && h->priv == priv && h->mstatus == mstatus) {
        /* The handler faulted on its own first instruction in the very state
         * it is entered with: the hart would spin here forever without
         * retiring anything (an instruction's faults do not depend on the
         * xepc/xcause/xtval the trap just wrote). */
        bt_stop(h, EXIT_TRAP_LOOP);
    }
}

/* Highest priority first (privileged spec 3.1.9). */
static const uint64_t irq_priority[] = {IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER,
                                        IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER};

uint64_t bt_pending_interrupt(hart_t *h)
{
    uint64_t pending = h->mip & h->mie;
    /* Read the clock only when the timer interrupt could be taken. */
    if ((h->mie & MIP_MTIP) && bt_mtime(h) >= h->mtimecmp)
        pending |= MIP_MTIP;
    if (!pending)
        return 0;
    int m_on = h->priv < PRV_M || (h->mstatus & MSTATUS_MIE);
    int s_on = h->priv < PRV_S || (h->priv == PRV_S && (h->mstatus & MSTATUS_SIE));
    uint64_t m_set = m_on ? pending & ~h->mideleg : 0;
    uint64_t s_set = s_on ? pending & h->mideleg : 0;
    uint64_t take = m_set ? m_set : s_set; /* M-level interrupts come first */
    for (unsigned i = 0; i < sizeof irq_priority / sizeof irq_priority[0]; i++)
        if ((take >> irq_priority[i]) & 1)
            return irq_priority[i] + 1;
    return 0;
}

void bt_take_interrupt(hart_t *h, uint64_t cause)
{
    trap_enter(h, cause, 0, 1);
}

/* The translation context: what decides how a virtual address translates. */
static uint64_t mmu_key(hart_t *h)
{
    uint64_t mode = h->satp >> 60;
    if (mode == SATP_MODE_BARE)
        return 0; /* identity for every privilege */
    uint64_t key = mode << 56 | h->priv;
    if (h->priv == PRV_M && !(h->mstatus & MSTATUS_MPRV))
        return key;
    return key | (h->mstatus & (MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MXR));
}

void bt_mmu_sync(hart_t *h)
{
    uint64_t key = mmu_key(h);
    if (key != h->mmu_key) {
        h->mmu_key = key;
        bt_tlb_flush(h);
    }
}

uint64_t bt_ecall(hart_t *h)
{
    static const uint64_t cause[] = {EXC_ECALL_U, EXC_ECALL_S, 10, EXC_ECALL_M};
    bt_raise(h, cause[h->priv & 3], 0);
    return 0;
}

uint64_t bt_ebreak(hart_t *h)
{
    bt_raise(h, EXC_BREAKPOINT, 0); /* QEMU 7.2 (our oracle) leaves tval 0 */
    return 0;
}

void bt_request_exit(hart_t *h, uint64_t bits)
{
    __atomic_fetch_or(&h->exit_request, bits, __ATOMIC_SEQ_CST);
    __atomic_store_n(&h->check_limit, 0, __ATOMIC_SEQ_CST);
}

void bt_stop(hart_t *h, uint64_t reason)
{
    h->exit_reason = reason;
    bt_request_exit(h, EXIT_REQ_STOP);
}

/* check_limit = limit unless an exit is requested.  Written before
 * exit_request is read again: a request racing with this either is seen
 * here or zeroes check_limit after this store (bt_request_exit writes in
 * the other order).  Already armed (the common case): nothing is written,
 * so nothing can overwrite a request's zero. */
void bt_arm_checks(hart_t *h, uint64_t limit)
{
    if (h->check_limit == limit && !h->exit_request)
        return;
    __atomic_store_n(&h->check_limit, limit, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&h->exit_request, __ATOMIC_SEQ_CST))
        __atomic_store_n(&h->check_limit, 0, __ATOMIC_SEQ_CST);
}
