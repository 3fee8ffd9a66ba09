/* The JIT's native side: table lookup, dispatch loop, memory slow paths. */
#include <string.h>

#include "bt.h"
#include "jit.h"
#include "jitcold.h"
#include "fpu.h"

uint64_t bt_jit_mode(hart_t *h)
{
    return jit_mode_of(h);
}

/* (inline: the dispatch loop asks it for every pc it dispatches) */
static inline int phys_of(hart_t *h, uint64_t vpc, uint64_t *paddr)
{
    if (h->machine_kind == MACHINE_USER) {
        *paddr = vpc;
        return 0;
    }
    tlb_entry_t *e = &h->tlb_fetch[(vpc >> 12) & (TLB_SIZE - 1)];
    if (e->page == (vpc & ~4095ULL)) {
        *paddr = vpc + e->addend - (uint64_t)(uintptr_t)h->ram + h->ram_base;
        return 0;
    }
    if (bt_translate(h, vpc, ACC_FETCH, paddr)) {
        h->exc_pending = 0; /* the interpreter raises it again, precisely */
        return 1;
    }
    return 0;
}

int bt_jit_phys(hart_t *h, uint64_t vpc, uint64_t *paddr)
{
    return phys_of(h, vpc, paddr);
}

static jit_hot_t *samples_of(jit_ctx_t *c, uint64_t fn)
{
    return &c->sampled[(fn >> 4) * JIT_HASH >> 56 & (JIT_SAMPLED_SIZE - 1)];
}

void bt_jit_insert(jit_ctx_t *c, uint64_t vpc, uint64_t paddr, uint64_t mode, uint64_t fn)
{
    jit_hot_t *samples = samples_of(c, fn);
    if (samples->pc == fn)
        samples->pc = 0;   /* the code of a region freed since may have been there */
    uint64_t i = jit_slot_of(c, vpc);
    while (c->table[i].fn &&
           !(c->table[i].vpc == vpc && c->table[i].paddr == paddr && c->table[i].mode == mode))
        i = (i + 1) & c->mask;
    c->table[i] = (jit_entry_t){vpc, paddr, mode, (jit_block_fn)(uintptr_t)fn};
    if (c->fi)
        fi_unchain(c->fi);   /* the cold tier's chains must not pass it by */
}

void bt_jit_clear_ic(jit_ctx_t *c)
{
    memset(c->ic, 0, sizeof c->ic);
}

void bt_jit_clear(jit_ctx_t *c)
{
    for (uint64_t i = 0; i <= c->mask; i++)
        c->table[i].fn = 0;
    bt_jit_clear_ic(c);
}

void bt_jit_clear_hot(jit_ctx_t *c)
{
    memset(c->hot, 0, sizeof c->hot);
}

void bt_jit_offer(jit_ctx_t *c, hart_t *h)
{
    c->install_ready = 1;
    bt_request_exit(h, EXIT_REQ_YIELD);
}

void bt_jit_snooze(jit_ctx_t *c, uint64_t pc, uint64_t times)
{
    jit_hot_t *e = jit_hot_entry(c, pc);
    if (e->pc == pc)
        e->next = e->count + times * c->hot_threshold;
}

uint64_t bt_jit_entries(jit_ctx_t *c, uint64_t pc)
{
    jit_hot_t *e = jit_hot_entry(c, pc);
    return e->pc == pc ? e->count : 0;
}

uint64_t bt_jit_heat(jit_ctx_t *c, uint64_t *out, uint64_t max)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < JIT_HOT_SIZE && n < max; i++)
        if (c->hot[i].count) {
            out[2 * n] = c->hot[i].pc;
            out[2 * n + 1] = c->hot[i].count;
            n++;
        }
    return n;
}

/* A sample found the region at function address fn running: nonzero
 * when that makes it hot (each region once; a region that fails to tier up
 * stays where it is). */
static int sampled_hot(jit_ctx_t *c, uint64_t fn)
{
    jit_hot_t *e = samples_of(c, fn);
    if (e->pc != fn)
        *e = (jit_hot_t){fn, 0, c->tier_up};
    return ++e->count == e->next;
}

/* The limit translated code stops at: the budget, the next sample or (a
 * system VM) the end of the quantum, whichever comes first.  A sample that
 * came due outside translated code (in the cold tier or the dispatcher) is
 * skipped: it would land on whichever region runs next. */
static uint64_t check_limit(jit_ctx_t *c, hart_t *h)
{
    uint64_t limit = h->insn_limit;
    if (c->tier_up) {
        uint64_t period = c->sample_period > JIT_SAMPLE_MIN ? c->sample_period : JIT_SAMPLE_MIN;
        if (h->minstret >= c->sample_at)
            c->sample_at = h->minstret + period;
        limit = c->sample_at < limit ? c->sample_at : limit;
    }
    if (h->machine_kind == MACHINE_SYSTEM) {
        if (h->minstret >= c->quantum_at || c->quantum_at - h->minstret > JIT_SYSTEM_QUANTUM)
            c->quantum_at = h->minstret + JIT_SYSTEM_QUANTUM;
        limit = c->quantum_at < limit ? c->quantum_at : limit;
    }
    return limit;
}

static int run(jit_ctx_t *c, hart_t *h);

/* Must Python drop translations before any runs again?  (Stores wrote
 * their code, a fence.i, or the store floor they were built for went.) */
static inline int stale(jit_ctx_t *c, hart_t *h)
{
    return c->smc_count || c->code_epoch != h->code_epoch || c->store_floor != h->store_floor;
}

/* System VM: is an interrupt to be taken before the next dispatch?  The
 * timer's depends on the host clock, read every JIT_TIMER_POLL dispatches
 * and after each quantum (see jit_ctx_t.timer_poll). */
static inline int interrupt_due(jit_ctx_t *c, hart_t *h)
{
    if (!(h->mip & h->mie) && !((h->mie & MIP_MTIP) && c->timer_poll-- == 0))
        return 0;
    c->timer_poll = JIT_TIMER_POLL;
    return bt_pending_interrupt(h) != 0;
}

/* Translated code computes FP arithmetic in place (see bt_fp_enter). */
int bt_jit_run(jit_ctx_t *c, hart_t *h)
{
    uint64_t host = bt_fp_enter();
    int r = run(c, h);
    bt_fp_leave(host);
    return r;
}

static int run(jit_ctx_t *c, hart_t *h)
{
    int system = h->machine_kind == MACHINE_SYSTEM;
    for (;;) {
        if (h->exit_request) {
            if (h->exit_request & EXIT_REQ_STOP)
                return JIT_RUN_EXIT;
            __atomic_fetch_and(&h->exit_request, ~(uint64_t)EXIT_REQ_YIELD, __ATOMIC_SEQ_CST);
        }
        if (c->install_ready)
            return JIT_RUN_INSTALL;
        if (stale(c, h))
            return JIT_RUN_SMC;
        uint64_t paddr;
        /* A pending interrupt or a fetch fault: the cold tier stops at once. */
        if (!(system && interrupt_due(c, h)) && !phys_of(h, h->pc, &paddr)) {
            uint64_t mode = jit_mode_of(h);
            jit_block_fn fn = jit_lookup(c, h->pc, paddr, mode);
            if (fn) {
                c->ic[(h->pc >> 1) & (JIT_IC_SIZE - 1)] = (jit_ic_t){h->pc, system ? mode | h->tlb_epoch << 3 : mode, fn};
                c->stat_dispatch++;
                uint64_t limit = check_limit(c, h);
                bt_arm_checks(h, limit);
                uint64_t r = fn(h, c);
                if (r == JIT_FAULT)
                    return JIT_RUN_FAULT;
                if ((r != JIT_STOP && r != JIT_CHECKED) || h->exit_request || stale(c, h) || c->install_ready)
                    continue;
                if (r == JIT_CHECKED && limit < h->insn_limit) {
                    if (limit == c->quantum_at)   /* the quantum's end: back to the top for interrupts */
                        c->quantum_at = h->minstret, c->timer_poll = 0;   /* (check_limit moves it on) */
                    if (c->tier_up && limit == c->sample_at) {   /* a sample */
                        c->sample_at = h->minstret;
                        if (sampled_hot(c, c->hot_region))
                            return JIT_RUN_TIER_UP;
                    }
                    continue;
                }
                /* the budget ends inside the next block: the cold tier runs it exactly */
            } else if (c->fi && jit_entered_cold(c, h->pc)) {
                return JIT_RUN_HOT;
            }
        }
        if (!c->fi)
            break;
        /* The cold tier runs until a jump reaches a translation or a block
         * that just became hot, or the JIT has work (stop_on_jump). */
        int r = fi_run(c->fi, h, ~0ULL);
        if (r == FI_HOT)
            return JIT_RUN_HOT;
        if (r == FI_EXIT && !(h->exit_request & EXIT_REQ_STOP))
            continue;   /* a yield: back to the top */
        if (r != FI_JUMP) {
            c->fi_status = r;
            break;
        }
    }
    c->stat_cold++;
    return JIT_RUN_COLD;
}

/* Must translated code leave after a slow access?  For an exit request or
 * an interrupt the access made pending. */
static int leave_after(hart_t *h)
{
    return h->exit_request || jit_access_interrupts(h);
}

int bt_jit_load(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t for_store, uint64_t *out)
{
    int r = for_store ? bt_load_for_store(h, vaddr, size, out) : bt_load(h, vaddr, size, out);
    if (r)
        return 1;
    return leave_after(h) ? 2 : 0;
}

/* Record a write to guest physical [paddr, paddr+n), within one page. */
static void note_write(jit_ctx_t *c, fi_ctx_t *fc, hart_t *h, uint64_t paddr, uint64_t n)
{
    if (fc)
        fi_note_write(fc, h, paddr, n);
    if (!c || paddr < h->ram_base || paddr - h->ram_base >= h->ram_size)
        return;
    uint64_t page = (paddr - h->ram_base) >> 12;
    if (page >= c->npages || (c->code_pages[page] & (JIT_PAGE_CODE | JIT_PAGE_WRITTEN)) != JIT_PAGE_CODE)
        return;
    c->code_pages[page] |= JIT_PAGE_WRITTEN;
    if (c->smc_count < JIT_SMC_MAX)
        c->smc_pages[c->smc_count] = page;
    c->smc_count++;
}

void bt_code_write(jit_ctx_t *jc, fi_ctx_t *fc, hart_t *h, uint64_t vaddr, uint64_t size)
{
    /* A store crosses at most one page boundary; each part maps on its own. */
    uint64_t first = 4096 - (vaddr & 4095);
    uint64_t n = size < first ? size : first;
    for (uint64_t v = vaddr; size; v += n, size -= n, n = size) {
        uint64_t paddr = v;
        tlb_entry_t *e = &h->tlb_store[(v >> 12) & (TLB_SIZE - 1)];
        int system = h->machine_kind == MACHINE_SYSTEM;
        if (system && (e->page & ~TLB_WATCHED) == (v & ~4095ULL)) /* the store just filled it: no second page walk */
            paddr = v + e->addend - (uint64_t)(uintptr_t)h->ram + h->ram_base;
        else if (system && bt_translate(h, v, ACC_STORE, &paddr)) {
            h->exc_pending = 0; /* cannot happen: the store just succeeded */
            continue;
        }
        note_write(jc, fc, h, paddr, n);
    }
}

int bt_jit_store(jit_ctx_t *c, hart_t *h, uint64_t vaddr, uint64_t size, uint64_t value)
{
    if (bt_store(h, vaddr, size, value))
        return 1;
    bt_code_write(c, c->fi, h, vaddr, size);
    return leave_after(h) || c->smc_count ? 2 : 0;
}

void bt_jit_clear_pages(jit_ctx_t *c)
{
    for (uint64_t i = 0; i < c->npages; i++)
        c->code_pages[i] &= ~(JIT_PAGE_CODE | JIT_PAGE_WRITTEN);
}

