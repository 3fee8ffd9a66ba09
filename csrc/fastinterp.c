/* The fast interpreter tier: pre-decoded entries run by a threaded loop. */
#include <stdlib.h>
#include <string.h>
#include "bt.h"
#include "priv.h"
#include "fastinterp.h"
#include "jit.h"
#include "jitcold.h"

#define PAGE_SHIFT 12
#define PAGE_OFFSET_MASK 4095ULL
#define TIMER_POLL 64   /* instructions between reads of the host clock */

typedef uint64_t (*fi_handler)(hart_t *h, fi_ctx_t *c, uint64_t pc, fi_entry_t *e);

fi_ctx_t *fi_new(hart_t *h)
{
    fi_ctx_t *c = calloc(1, sizeof *c);
    if (!c)
        return 0;
    c->npages = (h->ram_size + PAGE_OFFSET_MASK) >> PAGE_SHIFT;
    c->pages = calloc(c->npages, sizeof *c->pages);
    c->watch = h->watch;   /* the hart's: its lifetime */
    if (!c->pages || !c->watch) {
        free(c->pages);
        free(c);
        return 0;
    }
    uint64_t lo = h->ram_low_guard > h->ram_base ? h->ram_low_guard : h->ram_base;
    c->mem_lo = lo;
    c->mem_span = h->ram_base + h->ram_size > lo ? h->ram_base + h->ram_size - lo : 0;
    c->mem_addend = (uint64_t)(uintptr_t)h->ram - h->ram_base;
    c->code_epoch = h->code_epoch;
    return c;
}

/* Pages stay allocated (cleared): the JIT's compile thread may be reading
 * them (fi_decoded_at) while this thread flushes. */
void fi_flush(fi_ctx_t *c, hart_t *h)
{
    for (uint64_t i = 0; i < c->npages; i++) {
        if (c->pages[i])
            memset(c->pages[i], 0, FI_PAGE_ENTRIES * sizeof(fi_entry_t));
        c->watch[i] &= ~FI_PAGE_DECODED;
    }
    c->code_epoch = h->code_epoch;
    c->stat_flushes++;
}

void fi_free(fi_ctx_t *c)
{
    if (!c)
        return;
    for (uint64_t i = 0; i < c->npages; i++)   /* (the watch map is the hart's: not touched) */
        free(c->pages[i]);
    free(c->pages);
    free(c);
}

fi_entry_t *fi_entry(fi_ctx_t *c, uint64_t ram_off)
{
    uint64_t page = ram_off >> PAGE_SHIFT;
    if (page >= c->npages)
        return 0;
    if (!c->pages[page])
        c->pages[page] = calloc(FI_PAGE_ENTRIES, sizeof(fi_entry_t));
    if (!c->pages[page])
        return 0;
    c->watch[page] |= FI_PAGE_DECODED;
    return &c->pages[page][(ram_off & PAGE_OFFSET_MASK) >> 1];
}

int fi_pc_offset(hart_t *h, uint64_t pc, uint64_t *ram_off)
{
    uint64_t paddr = pc;
    if (h->machine_kind == MACHINE_SYSTEM) {
        tlb_entry_t *t = &h->tlb_fetch[(pc >> PAGE_SHIFT) & (TLB_SIZE - 1)];
        if (t->page == (pc & ~PAGE_OFFSET_MASK)) {
            *ram_off = pc + t->addend - (uint64_t)(uintptr_t)h->ram;
            return 0;
        }
        if (bt_translate(h, pc, ACC_FETCH, &paddr)) {
            h->exc_pending = 0; /* the reference interpreter raises it again, precisely */
            return 1;
        }
    }
    if (!bt_ram_ptr(h, paddr, 2))
        return 1;
    *ram_off = paddr - h->ram_base;
    return 0;
}

int fi_decoded_at(fi_ctx_t *c, hart_t *h, uint64_t paddr)
{
    uint64_t off = paddr - h->ram_base;
    if (paddr < h->ram_base || off >> PAGE_SHIFT >= c->npages || !c->pages[off >> PAGE_SHIFT])
        return 0;
    return c->pages[off >> PAGE_SHIFT][(off & PAGE_OFFSET_MASK) >> 1].fn != 0;
}

/* Drop the entries whose instruction overlaps the written byte at paddr. */
static void invalidate_byte(fi_ctx_t *c, hart_t *h, uint64_t paddr)
{
    if (paddr < h->ram_base || paddr - h->ram_base >= h->ram_size)
        return;
    uint64_t off = paddr - h->ram_base;
    fi_entry_t *page = c->pages[off >> PAGE_SHIFT];
    if (!page)
        return;
    uint64_t i = (off & PAGE_OFFSET_MASK) >> 1;
    /* the parcel itself, and a 4-byte instruction starting one parcel before */
    if (page[i].fn)
        page[i].fn = 0, c->stat_invalidated++;
    if (i > 0 && page[i - 1].fn && page[i - 1].length == 4)
        page[i - 1].fn = 0, c->stat_invalidated++;
}

int fi_store(fi_ctx_t *c, hart_t *h, uint64_t vaddr, uint64_t size, uint64_t value)
{
    if (bt_store(h, vaddr, size, value))
        return 1;
    bt_code_write(c->jit, c, h, vaddr, size);
    return 0;
}

void fi_note_write(fi_ctx_t *c, hart_t *h, uint64_t paddr, uint64_t size)
{
    for (uint64_t i = 0; i < size; i++)
        invalidate_byte(c, h, paddr + i);
}

int fi_load(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t for_store, uint64_t *out)
{
    return for_store ? bt_load_for_store(h, vaddr, size, out) : bt_load(h, vaddr, size, out);
}


/* Host pointer to the instruction at pc, through the fetch TLB (system VM)
 * or the memory window (process VM); its RAM offset in *off.  0 on a miss. */
static inline int fetch_offset(fi_ctx_t *c, hart_t *h, int system, uint64_t pc, uint64_t *off)
{
    if (!system) {
        if (pc - c->mem_lo >= c->mem_span)
            return 0;
        *off = pc - h->ram_base;
        return 1;
    }
    tlb_entry_t *t = &h->tlb_fetch[(pc >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    if (t->page != (pc & ~PAGE_OFFSET_MASK))
        return !fi_pc_offset(h, pc, off);
    *off = pc + t->addend - (uint64_t)(uintptr_t)h->ram;
    return 1;
}

/* A taken jump of the JIT's cold tier to pc: -1 to go on in this loop, or
 * why to stop for the dispatch loop (a translation at pc, pc just became
 * hot, or the JIT has work).  The system VM always stops: the dispatch
 * loop translates the pc's address and takes interrupts. */
static inline int cold_jump(struct jit_ctx *j, hart_t *h, int system, uint64_t pc)
{
    if (system || !j || j->install_ready || j->smc_count || j->code_epoch != h->code_epoch ||
        jit_lookup(j, pc, pc, jit_mode_of(h)))
        return FI_JUMP;
    return jit_entered_cold(j, pc) ? FI_HOT : -1;
}

int fi_run(fi_ctx_t *c, hart_t *h, uint64_t max_steps)
{
    int system = h->machine_kind == MACHINE_SYSTEM;
    uint64_t stop = h->minstret + max_steps < h->minstret ? ~0ULL : h->minstret + max_steps;
    if (stop > h->insn_limit)
        stop = h->insn_limit;
    uint64_t pc = h->pc, timer = 0;
    fi_entry_t *e = 0; /* pc's entry, at RAM offset off, when straight-line code reached it */
    uint64_t off = 0;
    if (c->code_epoch != h->code_epoch)
        fi_flush(c, h);
    for (;;) {
        if (h->exit_request)
            return FI_EXIT;
        if (h->minstret >= stop)
            return h->minstret >= h->insn_limit ? FI_LIMIT : FI_STEPS;
        /* Interrupts: every instruction while one is pending and enabled in
         * mie; the timer's clock is read every TIMER_POLL instructions. */
        if (system && ((h->mip & h->mie) || ((h->mie & MIP_MTIP) && timer-- == 0))) {
            timer = TIMER_POLL;
            if (bt_pending_interrupt(h))
                return FI_IRQ;
        }
        if (!e) {
            if (!fetch_offset(c, h, system, pc, &off))
                break;
            fi_entry_t *page = c->pages[off >> PAGE_SHIFT];
            if (!page)
                break;
            e = &page[(off & PAGE_OFFSET_MASK) >> 1];
        }
        if (!e->fn)   /* not decoded yet, or invalidated by a store */
            break;
        uint64_t length = e->length; /* read now: the handler may flush the page */
        uint64_t next = ((fi_handler)(uintptr_t)e->fn)(h, c, pc, e);
        int synced = next & 1;
        if (synced) {
            if (h->exc_pending)
                return FI_FAULT;
            next -= 1;
            timer = 0;  /* privileged state may have changed: look again */
            if (c->code_epoch != h->code_epoch)
                fi_flush(c, h);
        }
        h->minstret++;
        /* Straight on within the page: the next entry is the next slot
         * (entries stay allocated: e stays valid, its fn 0 if a flush or a
         * store dropped it).  A jump, another page or a change of privileged
         * state looks the pc up again. */
        int straight = next == pc + length;
        e = straight && !synced && !((off ^ (off + length)) >> PAGE_SHIFT) ? e + (length >> 1) : 0;
        off += length;
        h->pc = pc = next;
        if (!straight && c->stop_on_jump) {
            int why = cold_jump(c->jit, h, system, pc);
            if (why >= 0)
                return why;
        }
    }
    c->stat_misses++;
    return FI_MISS;
}
