/* Exceptions, interrupts and privilege transitions. */
#include <string.h>
#include <time.h>
#include "bt.h"

void bt_hart_reset(hart_t *h, uint64_t machine_kind, uint64_t pc)
{
    uint8_t *ram = h->ram;
    uint64_t base = h->ram_base, size = h->ram_size, guard = h->ram_low_guard;
    memset(h, 0, sizeof *h);
    h->ram = ram, h->ram_base = base, h->ram_size = size, h->ram_low_guard = guard;
    h->machine_kind = machine_kind;
    h->pc = pc;
    h->priv = machine_kind == MACHINE_USER ? PRV_U : PRV_M;
    /* RV64 IMAFDCSU */
    h->misa = (2ULL << 62) | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) |
              (1 << 12) | (1 << 18) | (1 << 20);
    h->mstatus = (2ULL << 32) | (2ULL << 34); /* UXL = SXL = 64 */
    if (machine_kind == MACHINE_USER)
        h->mstatus |= 3ULL << 13; /* FS dirty: Linux gives user code the FPU */
    h->reservation = ~0ULL;
    h->mtimecmp = ~0ULL;
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
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* 10 MHz, the timebase of QEMU's virt board */
    return ((uint64_t)ts.tv_sec * 10000000ULL + (uint64_t)ts.tv_nsec / 100) - h->time_offset;
}

void bt_take_exception(hart_t *h)
{
    uint64_t cause = h->exc_cause, tval = h->exc_tval;
    h->exc_pending = 0;
    if (h->machine_kind == MACHINE_USER) {
        /* The process VM's "kernel" is the VMM: hand the trap over. */
        h->scause = cause;
        h->stval = tval;
        h->sepc = h->pc;
        h->exit_request = 1;
        h->exit_reason = EXIT_USER_TRAP;
        return;
    }
    /* Full delivery with delegation lands with the privileged core. */
    h->mepc = h->pc;
    h->mcause = cause;
    h->mtval = tval;
    h->pc = h->mtvec & ~3ULL;
    h->priv = PRV_M;
}

uint64_t bt_pending_interrupt(hart_t *h)
{
    (void)h;
    return 0;
}

void bt_take_interrupt(hart_t *h, uint64_t cause)
{
    (void)h, (void)cause;
}

uint64_t bt_ecall(hart_t *h)
{
    static const uint64_t cause[] = {EXC_ECALL_U, EXC_ECALL_S, 10, EXC_ECALL_M};
    bt_raise(h, cause[h->priv & 3], 0);
    return 0;
}

uint64_t bt_ebreak(hart_t *h)
{
    bt_raise(h, EXC_BREAKPOINT, h->pc);
    return 0;
}
