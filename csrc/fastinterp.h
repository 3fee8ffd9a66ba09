/* The fast interpreter tier's native side: the pre-decode table (one entry
 * per guest instruction, filled by Python, handlers compiled from the ISA
 * description), the threaded run loop, and the store slow path that keeps
 * pre-decoded code coherent with memory.  Parsed by cffi too: declarations
 * and integer #defines only. */
#ifndef BT_FASTINTERP_H
#define BT_FASTINTERP_H

#include "state.h"

/* Why fi_run returned. */
#define FI_EXIT 0    /* h->exit_request is set */
#define FI_LIMIT 1   /* minstret reached insn_limit */
#define FI_STEPS 2   /* the caller's step budget ran out */
#define FI_MISS 3    /* no pre-decoded entry at h->pc: decode it (or step it) in Python */
#define FI_FAULT 4   /* exc_pending; h->pc is the faulting instruction */
#define FI_IRQ 5     /* system VM: an interrupt is pending before h->pc */
#define FI_JUMP 6    /* stop_on_jump: control just left straight-line code for a
                        target with a translation, or the JIT has work (h->pc: the target) */
#define FI_HOT 7     /* stop_on_jump: the block at h->pc just became hot (the JIT's count) */

#define FI_PAGE_ENTRIES 2048  /* one per 16-bit parcel of a 4 KiB page */
/* Bits of a byte of the page watch map (one per RAM page): a store to a page
 * whose byte is nonzero takes the slow path, which keeps every tier's code
 * coherent with memory.  Bits 0-1 belong to the JIT (JIT_PAGE_*). */
#define FI_PAGE_DECODED 4

struct jit_ctx;

/* One pre-decoded instruction.  fn is the handler
 * uint64_t fn(hart_t *h, fi_ctx_t *c, uint64_t pc, fi_entry_t *e), which
 * returns the next pc; an odd return means "look at the hart": a fault is
 * pending (exc_pending) or, if not, the loop has bookkeeping to do before
 * continuing at the returned pc minus one.  fn == 0: empty. */
typedef struct fi_entry {
    uint64_t fn;
    uint32_t raw;        /* instruction bits: tval of illegal instruction */
    int32_t wide[2];     /* operand fields wider than 8 bits, sign-extended */
    uint8_t length;      /* 2 or 4 */
    uint8_t small[7];    /* operand fields of at most 8 bits */
} fi_entry_t;

typedef struct fi_ctx {
    fi_entry_t **pages;  /* per RAM page: FI_PAGE_ENTRIES entries, or NULL */
    uint64_t npages;
    uint8_t *watch;      /* per RAM page (npages + 1 bytes): FI_PAGE_DECODED, JIT_PAGE_* */
    struct jit_ctx *jit; /* the JIT using this as its cold tier, or NULL */
    uint64_t code_epoch; /* hart_t.code_epoch the entries belong to (fence.i drops them) */
    uint64_t stop_on_jump; /* nonzero (with jit): a taken branch or jump counts its target
                              and stops there (FI_JUMP, FI_HOT) for the JIT's dispatch loop */
    /* The process VM's memory window (guest address -> host pointer). */
    uint64_t mem_lo;     /* lowest accessible guest address */
    uint64_t mem_span;   /* bytes accessible from mem_lo */
    uint64_t mem_addend; /* host pointer = guest address + addend */
    /* statistics */
    uint64_t stat_misses, stat_invalidated, stat_flushes;
} fi_ctx_t;

fi_ctx_t *fi_new(hart_t *h);
void fi_free(fi_ctx_t *c);
/* Drop every pre-decoded entry (fence.i); the entries now belong to h's code epoch. */
void fi_flush(fi_ctx_t *c, hart_t *h);
/* The entry for the instruction at RAM offset ram_off (allocating its page). */
fi_entry_t *fi_entry(fi_ctx_t *c, uint64_t ram_off);
/* RAM offset of the instruction at virtual pc; nonzero when it has none
 * (fetch fault, or outside RAM): the reference interpreter then steps it. */
int fi_pc_offset(hart_t *h, uint64_t pc, uint64_t *ram_off);
/* Nonzero when the instruction at guest physical paddr is pre-decoded (it
 * has run).  Reads only the pre-decode table: safe from another thread. */
int fi_decoded_at(fi_ctx_t *c, hart_t *h, uint64_t paddr);
/* Run pre-decoded instructions from h->pc, at most max_steps of them. */
int fi_run(fi_ctx_t *c, hart_t *h, uint64_t max_steps);
/* Slow paths of handlers: 0 done, 1 fault pending. */
int fi_store(fi_ctx_t *c, hart_t *h, uint64_t vaddr, uint64_t size, uint64_t value);
int fi_load(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t for_store, uint64_t *out);
/* Another engine wrote guest physical [paddr, paddr+size): drop what it overlaps. */
void fi_note_write(fi_ctx_t *c, hart_t *h, uint64_t paddr, uint64_t size);

#endif
