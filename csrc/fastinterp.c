/* The fast interpreter tier: pre-decoded entries run by a threaded loop. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "bt.h"
#include "priv.h"
#include "fastinterp.h"
#include "predecode.h"
#include "jit.h"
#include "jitcold.h"

#define PAGE_SHIFT 12
#define PAGE_OFFSET_MASK 4095ULL
#define TIMER_POLL 64   /* instructions between reads of the host clock */
#define FI_ARENA_PER_CHAIN 64   /* bytes of arena per chain slot (copying stops when either is full) */

typedef uint64_t (*fi_handler)(hart_t *h, fi_ctx_t *c, uint64_t pc, fi_entry_t *e);

fi_ctx_t *fi_new(hart_t *h)
{
    fi_ctx_t *c = calloc(1, sizeof *c);
    if (!c)
        return 0;
    c->npages = (h->ram_size + PAGE_OFFSET_MASK) >> PAGE_SHIFT;
    c->pages = calloc(c->npages, sizeof *c->pages);
    c->watch = h->watch;   /* the hart's: its lifetime */
    c->hart = h;
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
        c->watch[i] &= ~(FI_PAGE_DECODED | FI_PAGE_BLOCKS);
    }
    c->code_epoch = h->code_epoch;
    c->arena_used = 0;   /* no entry names a block any more */
    c->chains_used = 0;
    c->stat_flushes++;
}

void fi_free(fi_ctx_t *c)
{
    if (!c)
        return;
    for (uint64_t i = 0; i < c->npages; i++)   /* (the watch map is the hart's: not touched) */
        free(c->pages[i]);
    free(c->pages);
    free(c->stencils);
    free(c->chains);
    if (c->arena)
        munmap(c->arena, c->arena_size);
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
    bt_watch(c->hart, page, FI_PAGE_DECODED);
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

/* Forget the copied blocks of RAM page `page` (their code stays in the arena
 * until it is emptied; no entry or chain leads there any more). */
static void drop_blocks(fi_ctx_t *c, uint64_t page)
{
    fi_entry_t *entries = c->pages[page];
    for (uint64_t i = 0; i < FI_PAGE_ENTRIES; i++)
        entries[i].block = 0, entries[i].runs = 0;
    c->watch[page] &= ~FI_PAGE_BLOCKS;
    fi_unchain(c);
}

/* Drop the entries whose instruction overlaps the written byte at paddr,
 * and the copied blocks of its page if it held one. */
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
    uint64_t before = c->stat_invalidated;
    if (page[i].fn)
        page[i].fn = 0, c->stat_invalidated++;
    if (i > 0 && page[i - 1].fn && page[i - 1].length == 4)
        page[i - 1].fn = 0, c->stat_invalidated++;
    if (c->stat_invalidated != before && (c->watch[off >> PAGE_SHIFT] & FI_PAGE_BLOCKS))
        drop_blocks(c, off >> PAGE_SHIFT);
}

int fi_store(fi_ctx_t *c, hart_t *h, uint64_t vaddr, uint64_t size, uint64_t value)
{
    if (bt_store(h, vaddr, size, value))
        return 1;
    uint64_t before = c->stat_invalidated;
    bt_code_write(c->jit, c, h, vaddr, size);
    /* 2: the instruction must be the last of a copied block: it rewrote
     * pre-decoded code, or (a system VM) made an interrupt pending */
    return c->stat_invalidated != before || jit_access_interrupts(h) ? 2 : 0;
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


int fi_set_stencils(fi_ctx_t *c, const fi_stencil_t *stencils, uint64_t n, const fi_stencil_t *end,
                    uint64_t arena_size)
{
    if (c->stencils)
        return 1;
    fi_stencil_t *copy = malloc((n + 1) * sizeof *copy);
    uint64_t nchains = arena_size / FI_ARENA_PER_CHAIN;
    fi_chain_t *chains = calloc(nchains, sizeof *chains);
    void *arena = mmap(0, arena_size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!copy || !chains || arena == MAP_FAILED) {
        free(copy);
        free(chains);
        if (arena != MAP_FAILED)
            munmap(arena, arena_size);
        return 1;
    }
    memcpy(copy, stencils, n * sizeof *copy);
    copy[n] = *end;
    c->stencils = copy;
    c->nstencils = n;
    c->stencil_end = &copy[n];
    c->arena = arena;
    c->arena_size = arena_size;
    c->arena_used = 0;
    c->chains = chains;
    c->chains_size = nchains;
    c->chains_used = 0;
    return 0;
}

void fi_unchain(fi_ctx_t *c)
{
    for (uint64_t i = 0; i < c->chains_used; i++)
        c->chains[i].pc = FI_CHAIN_NONE;
}

static const fi_stencil_t *stencil_of(const fi_ctx_t *c, uint64_t fn)
{
    uint64_t lo = 0, hi = c->nstencils;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (c->stencils[mid].fn < fn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nstencils && c->stencils[lo].fn == fn ? &c->stencils[lo] : 0;
}

/* Copy one piece to *at, its holes filled; the next piece goes right after. */
static void place(uint8_t **at, const fi_stencil_t *s, const uint64_t values[FI_HOLES])
{
    uint64_t size = s->size, jump_end = s->jump_at + s->jump_len;
    if (s->jump_len && jump_end == size)
        size = s->jump_at;   /* falls through into the next piece */
    memcpy(*at, (const void *)(uintptr_t)s->code, size);
    for (uint32_t i = 0; i < s->nholes; i++) {
        const fi_hole_t *hole = &s->holes[i];
        if (hole->at + 8 > size || (s->jump_len && hole->at >= s->jump_at && hole->at < jump_end))
            continue;   /* (the jump to the next piece: dropped, or direct below) */
        uint64_t v = (hole->kind == FI_HOLE_CONT ? (uint64_t)(uintptr_t)(*at + size) : values[hole->kind]) + hole->addend;
        memcpy(*at + hole->at, &v, 8);
    }
    if (s->jump_len && size == s->size) {   /* jmp rel32 to the next piece */
        uint8_t *j = *at + s->jump_at;
        int32_t rel = (int32_t)((*at + size) - (j + 5));
        j[0] = 0xE9;
        memcpy(j + 1, &rel, 4);
    }
    *at += size;
}

/* Header of a block in the arena; its code follows. */
typedef struct {
    uint64_t count;   /* instructions */
    uint64_t pc;      /* where it was copied for: its pieces hold their pcs (a
                         system VM may map the page at another address too) */
} fi_block_t;

typedef uint64_t (*fi_block_fn)(hart_t *h, fi_ctx_t *c);

/* Copy the block starting at entry e (pc, RAM offset off) into the arena:
 * straight-line code up to the first control-flow instruction, the page's
 * end, an instruction without a stencil or not pre-decoded yet. */
static void copy_block(fi_ctx_t *c, fi_entry_t *e, uint64_t pc, uint64_t off)
{
    const fi_stencil_t *pieces[FI_BLOCK_MAX];
    fi_entry_t *entries[FI_BLOCK_MAX];
    uint64_t pcs[FI_BLOCK_MAX + 1], size = sizeof(fi_block_t) + c->stencil_end->size, n = 0;
    uint64_t slots = c->stencil_end->chains;
    fi_entry_t *start = e;
    uint64_t page = off >> PAGE_SHIFT;   /* (a block stays on its page) */
    while (n < FI_BLOCK_MAX && e->fn) {
        const fi_stencil_t *s = stencil_of(c, e->fn);
        if (!s)
            break;
        pieces[n] = s, entries[n] = e, pcs[n] = pc, size += s->size, slots += s->chains, n++;
        uint64_t length = e->length;
        pc += length;
        if (s->ends || ((off ^ (off + length)) >> PAGE_SHIFT))
            break;
        off += length, e += length >> 1;
    }
    pcs[n] = pc;
    uint64_t at_off = (c->arena_used + 15) & ~15ULL;
    if (!n || at_off + size > c->arena_size || c->chains_used + slots > c->chains_size)
        return;
    /* Writable only while copying (W^X): the pages it spans. */
    uint8_t *lo = c->arena + (at_off & ~PAGE_OFFSET_MASK);
    uint64_t span = ((at_off + size + PAGE_OFFSET_MASK) & ~PAGE_OFFSET_MASK) - (at_off & ~PAGE_OFFSET_MASK);
    if (mprotect(lo, span, PROT_READ | PROT_WRITE))
        return;
    fi_block_t *b = (fi_block_t *)(c->arena + at_off);
    b->count = n, b->pc = pcs[0];
    uint8_t *at = (uint8_t *)(b + 1);
    for (uint64_t i = 0; i <= n; i++) {
        const fi_stencil_t *s = i < n ? pieces[i] : c->stencil_end;
        fi_chain_t *slot = s->chains ? &c->chains[c->chains_used++] : 0;
        if (slot)
            slot->pc = FI_CHAIN_NONE;
        uint64_t values[FI_HOLES] = {
            [FI_HOLE_PC] = pcs[i], [FI_HOLE_RETIRED] = i, [FI_HOLE_CHAIN] = (uint64_t)(uintptr_t)slot};
        if (i < n) {
            const fi_entry_t *f = entries[i];
            values[FI_HOLE_NEXTPC] = pcs[i + 1];
            values[FI_HOLE_RAW] = f->raw;
            for (size_t k = 0; k < sizeof f->small; k++)
                values[FI_HOLE_SMALL + k] = f->small[k];
            for (size_t k = 0; k < sizeof f->wide / sizeof f->wide[0]; k++)
                values[FI_HOLE_WIDE + k] = (uint64_t)(int64_t)f->wide[k];
        }
        place(&at, s, values);
    }
    mprotect(lo, span, PROT_READ | PROT_EXEC);
    c->arena_used = at - c->arena;
    start->block = (uint32_t)(at_off + 1);
    bt_watch(c->hart, page, FI_PAGE_BLOCKS);
    c->stat_blocks++;
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
 * hot, or the JIT has work).  A system VM's pc is looked up at the address
 * the fetch TLB gives it (a miss stops: the dispatch loop translates it);
 * this loop takes interrupts itself. */
static inline int cold_jump(struct jit_ctx *j, hart_t *h, int system, uint64_t pc)
{
    if (!j || j->install_ready || j->smc_count || j->code_epoch != h->code_epoch)
        return FI_JUMP;
    uint64_t paddr = pc;
    if (system) {
        tlb_entry_t *t = &h->tlb_fetch[(pc >> PAGE_SHIFT) & (TLB_SIZE - 1)];
        if (t->page != (pc & ~PAGE_OFFSET_MASK))
            return FI_JUMP;
        paddr = pc + t->addend - (uint64_t)(uintptr_t)h->ram + h->ram_base;
    }
    if (jit_lookup(j, pc, paddr, jit_mode_of(h)))
        return FI_JUMP;
    return jit_entered_cold(j, pc) ? FI_HOT : -1;
}

/* At a block start (entry e, at pc): run its copied block if it has one
 * (RAM offset off) and the budget allows all of it, copying it first
 * once it is hot.
 * FI_BLOCK_* or -1: no block ran. */
static int run_block(fi_ctx_t *c, hart_t *h, fi_entry_t *e, uint64_t pc, uint64_t off, fi_chain_t *link)
{
    if (!e->block) {
        if (++e->runs != FI_BLOCK_HOT)
            return -1;
        copy_block(c, e, pc, off);
        if (!e->block)
            return -1;
    }
    fi_block_t *b = (fi_block_t *)(c->arena + e->block - 1);
    if (b->pc != pc)
        return -1;
    uint64_t code = (uint64_t)(uintptr_t)(b + 1);
    if (link && (link->pc != pc || link->code != code)) {
        *link = (fi_chain_t){pc, code, b->count};
        c->stat_links++;
    }
    if (c->stop - h->minstret < b->count)
        return -1;
    return (int)((fi_block_fn)(uintptr_t)code)(h, c);
}

int fi_run(fi_ctx_t *c, hart_t *h, uint64_t max_steps)
{
    int system = h->machine_kind == MACHINE_SYSTEM;
    uint64_t stop = h->minstret + max_steps < h->minstret ? ~0ULL : h->minstret + max_steps;
    if (stop > h->insn_limit)
        stop = h->insn_limit;
    c->stop = stop;
    uint64_t pc = h->pc, timer = 0;
    fi_entry_t *e = 0; /* pc's entry, at RAM offset off, when straight-line code reached it */
    uint64_t off = 0;
    fi_chain_t *link = 0;   /* the slot of the block exit that led to pc (when e is 0) */
    uint64_t link_page = 0; /* the page of the blocks that slot's chains run */
    if (c->code_epoch != h->code_epoch)
        fi_flush(c, h);
    for (;;) {
        if (h->exit_request)
            return FI_EXIT;
        if (h->minstret >= stop)
            return h->minstret >= h->insn_limit ? FI_LIMIT : FI_STEPS;
        /* A system VM's chained blocks come back here at the end of each
         * quantum, for the interrupts the clock made pending. */
        if (system)
            c->stop = stop - h->minstret > JIT_SYSTEM_QUANTUM ? h->minstret + JIT_SYSTEM_QUANTUM : stop;
        /* Interrupts: every instruction while one is pending and enabled in
         * mie; the timer's clock is read every TIMER_POLL instructions. */
        if (system && ((h->mip & h->mie) || ((h->mie & MIP_MTIP) && timer-- == 0))) {
            timer = TIMER_POLL;
            if (bt_pending_interrupt(h))
                return FI_IRQ;
        }
        int block = -1;   /* what a copied block starting here did (FI_BLOCK_*) */
        if (!e) {
            if (!fetch_offset(c, h, system, pc, &off))
                break;
            fi_entry_t *page = c->pages[off >> PAGE_SHIFT];
            if (!page || !page[(off & PAGE_OFFSET_MASK) >> 1].fn) {
                if (!fi_predecode(c, h, pc))
                    break;
                page = c->pages[off >> PAGE_SHIFT];
            }
            e = &page[(off & PAGE_OFFSET_MASK) >> 1];
            fi_chain_t *from = link;
            link = 0;
            if (system && link_page != pc >> PAGE_SHIFT)
                from = 0;   /* a system VM chains within a page: its mapping is the block's */
            if (c->stencils && e->fn) {
                link_page = pc >> PAGE_SHIFT;   /* (chains from here stay on this page) */
                block = run_block(c, h, e, pc, off, from);
                if (block == FI_BLOCK_DONE || block == FI_BLOCK_LEFT)
                    link = c->block_slot;   /* (for the block this leads to) */
                if (block == FI_BLOCK_DONE) {
                    pc = h->pc, e = 0;
                    continue;
                }
                if (block >= 0) {   /* stopped at the instruction at h->pc (chains go anywhere) */
                    pc = h->pc;
                    if (!fetch_offset(c, h, system, pc, &off))
                        break;   /* (cannot be: its piece was copied from there) */
                    e = &c->pages[off >> PAGE_SHIFT][(off & PAGE_OFFSET_MASK) >> 1];
                }
            }
        }
        uint64_t length, next;
        if (block == FI_BLOCK_LEFT) {   /* its handler ran in the block (stores only clear fn) */
            length = e->length;
            next = c->block_next;
        } else {
            if (!e->fn && !fi_predecode(c, h, pc))   /* not decoded yet, or invalidated by a store */
                break;
            length = e->length; /* read now: the handler may flush the page */
            next = ((fi_handler)(uintptr_t)e->fn)(h, c, pc, e);
        }
        int synced = next & 1;
        if (synced) {
            if (h->exc_pending)
                return FI_FAULT;
            next -= 1;
            timer = 0;  /* privileged state may have changed: look again */
            if (c->code_epoch != h->code_epoch)
                fi_flush(c, h), link = 0;   /* (its slot went with the arena) */
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
