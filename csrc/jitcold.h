/* What the dispatch loop asks about a pc, inline for both places that ask
 * it at every jump of cold code: the dispatch loop (jit.c) and the cold
 * tier's own loop (fastinterp.c), which goes on at a jump's target unless
 * it has a translation or just became hot.  Not parsed by cffi. */
#ifndef BT_JITCOLD_H
#define BT_JITCOLD_H

#include "jit.h"
#include "priv.h"

/* The mode bits that change translation (see bt_jit_mode). */
static inline uint64_t jit_mode_of(hart_t *h)
{
    return (h->priv & 3) | ((h->mstatus & MSTATUS_FS) ? 4 : 0);
}

static inline uint64_t jit_slot_of(jit_ctx_t *c, uint64_t vpc)
{
    return ((vpc >> 1) * JIT_HASH >> 20) & c->mask;
}

/* The translation entered at vpc (physical paddr, mode), or 0. */
static inline jit_block_fn jit_lookup(jit_ctx_t *c, uint64_t vpc, uint64_t paddr, uint64_t mode)
{
    /* Python keeps the table at most half full, so the probe ends. */
    for (uint64_t i = jit_slot_of(c, vpc);; i = (i + 1) & c->mask) {
        jit_entry_t *e = &c->table[i];
        if (!e->fn || (e->vpc == vpc && e->paddr == paddr && e->mode == mode))
            return e->fn;
    }
}

/* After a slow access (a device's register, say): did it make an interrupt
 * pending?  A system VM's translated code or copied block then leaves, so
 * that its loop takes the interrupt now, not at the end of its quantum. */
static inline int jit_access_interrupts(hart_t *h)
{
    return h->machine_kind == MACHINE_SYSTEM && bt_pending_interrupt(h);
}

static inline jit_hot_t *jit_hot_entry(jit_ctx_t *c, uint64_t pc)
{
    return &c->hot[((pc >> 1) * JIT_HASH >> JIT_HOT_SHIFT) & (JIT_HOT_SIZE - 1)];
}

/* Count an entry into the untranslated block at pc; nonzero each time it
 * has run another hot_threshold times since the last (a block that is
 * inside a region but still reached through the dispatcher, e.g. a return
 * site, gets a region of its own at its second turn), or after a snooze. */
static inline int jit_entered_cold(jit_ctx_t *c, uint64_t pc)
{
    jit_hot_t *e = jit_hot_entry(c, pc);
    if (e->pc != pc)
        *e = (jit_hot_t){pc, 0, c->hot_threshold};
    if (++e->count < e->next)
        return 0;
    e->next = e->count + c->hot_threshold;
    return 1;
}

#endif
