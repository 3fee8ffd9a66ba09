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
#define FI_PAGE_BLOCKS 16  /* copied blocks hold code of the page (a store that
                              empties one of its entries drops them) */

struct jit_ctx;
struct fi_decoder;

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
    uint32_t block;      /* a block starting here: its offset in the block arena + 1 (0: none) */
    uint32_t runs;       /* times a jump reached it, until its block is copied */
} fi_entry_t;

/* Copy-and-patch blocks (process VM): a straight-line run of pre-decoded
 * instructions that the loop reached FI_BLOCK_HOT times by jumps is copied,
 * once, into native code from stencils, each a generic handler compiled
 * inline with holes for its instruction and its fields
 * (bt_vmm/engines/fast/stencils.py).  A block runs the instructions without
 * the loop's per-instruction bookkeeping.  Code stays coherent through the
 * stores: one that empties a pre-decoded entry drops every block of its
 * page (and unlinks the chains), and a piece whose store did so leaves its
 * block after it (fi_store returns 2, its handler the sync bit). */
#define FI_HOLE_PC 0       /* the instruction's pc */
#define FI_HOLE_RAW 1      /* its instruction bits (tval of some faults) */
#define FI_HOLE_NEXTPC 2   /* its pc + length: where straight-line code goes on */
#define FI_HOLE_RETIRED 3  /* instructions of the block before it */
#define FI_HOLE_CONT 4     /* the next piece (the block's end piece after the last) */
#define FI_HOLE_CHAIN 5    /* its fi_chain_t: where a jump out of the block may go directly */
#define FI_HOLE_SMALL 6    /* 6..12: its operand fields small[0..6], zero-extended */
#define FI_HOLE_WIDE 13    /* 13..14: wide[0..1], sign-extended */
#define FI_HOLES 15
#define FI_STENCIL_HOLES 32
#define FI_BLOCK_HOT 8     /* jumps into a block start before it is copied */
#define FI_BLOCK_MAX 64    /* instructions per block */
/* What a block returns (h->pc says where it stopped). */
#define FI_BLOCK_DONE 0    /* every instruction retired; h->pc is the next pc */
#define FI_BLOCK_LEFT 1    /* the instruction at h->pc returned c->block_next, not
                              its next pc (a jump, a fault, bookkeeping): not retired */

/* Chaining: a piece that may leave its block (a jump, the block's end)
 * has a slot naming the copied block it last left for.  When it leaves for
 * that pc again, it goes straight there, doing what the loop would have
 * done: it retires the instructions, checks the exit request, that the
 * budget (c->stop) covers the whole target block, and the JIT's count of
 * entries into cold code (jit_entered_cold: it does not chain when that
 * would make the target hot, or when code was written on a translated
 * page).  Slots are linked by fi_run and unlinked all at once when a
 * translation is installed (a chain never bypasses one), blocks are
 * dropped, or the arena is emptied. */
typedef struct {
    uint64_t pc;         /* the target (odd: not linked) */
    uint64_t code;       /* its copied block's code */
    uint64_t count;      /* the block's instructions */
} fi_chain_t;
#define FI_CHAIN_NONE 1

typedef struct {
    uint32_t at;         /* offset of a 64-bit absolute value in the code */
    uint32_t kind;       /* FI_HOLE_* */
    int64_t addend;
} fi_hole_t;

typedef struct {
    uint64_t fn;         /* the generic handler it stands for (sorted by it) */
    uint64_t code;       /* its machine code (in the stencils' loaded object) */
    uint32_t size;       /* bytes of code */
    /* Where it jumps to the next piece (movabs $next, %reg; jmp *%reg),
     * jump_len 0 if not recognised: a copy drops that jump at the end of
     * the code (the next piece follows) or makes it a direct jump. */
    uint32_t jump_at, jump_len;
    uint32_t ends;       /* an unconditional jump: the block ends after it */
    uint32_t nholes;
    uint32_t chains;     /* it has an FI_HOLE_CHAIN: it gets a slot */
    fi_hole_t holes[32]; /* FI_STENCIL_HOLES */
} fi_stencil_t;

typedef struct fi_ctx {
    fi_entry_t **pages;  /* per RAM page: FI_PAGE_ENTRIES entries, or NULL */
    uint64_t npages;
    uint8_t *watch;      /* per RAM page (npages + 1 bytes): FI_PAGE_DECODED, FI_PAGE_BLOCKS, JIT_PAGE_* */
    hart_t *hart;        /* whose watch map it is (see bt_watch) */
    struct jit_ctx *jit; /* the JIT using this as its cold tier, or NULL */
    uint64_t code_epoch; /* hart_t.code_epoch the entries belong to (fence.i drops them) */
    struct fi_decoder *decoder; /* pre-decoding tables (predecode.h), or NULL: Python decodes */
    uint64_t stop_on_jump; /* nonzero (with jit): a taken branch or jump counts its target
                              and stops there (FI_JUMP, FI_HOT) for the JIT's dispatch loop */
    /* The process VM's memory window (guest address -> host pointer). */
    uint64_t mem_lo;     /* lowest accessible guest address */
    uint64_t mem_span;   /* bytes accessible from mem_lo */
    uint64_t mem_addend; /* host pointer = guest address + addend */
    /* copy-and-patch blocks: the stencils (NULL: none) and the arena of copies */
    fi_stencil_t *stencils;   /* sorted by fn */
    uint64_t nstencils;
    fi_stencil_t *stencil_end;   /* a block's last piece: holes PC (the next pc), RETIRED */
    uint8_t *arena;
    uint64_t arena_size, arena_used;
    uint64_t block_next; /* FI_BLOCK_LEFT: what the instruction's handler returned */
    fi_chain_t *block_slot; /* FI_BLOCK_LEFT, DONE: the leaving piece's slot (or NULL) */
    uint64_t stop;       /* fi_run's budget: minstret at which it stops */
    fi_chain_t *chains;  /* slots of the arena's pieces */
    uint64_t chains_size, chains_used;
    /* statistics */
    uint64_t stat_misses, stat_invalidated, stat_flushes;
    uint64_t stat_blocks;     /* blocks copied */
    uint64_t stat_links;      /* chain slots linked */
    uint64_t stat_decoded;    /* instructions pre-decoded in C */
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
/* Give the context its stencils (copied: the caller keeps the code alive)
 * and an arena of arena_size bytes for blocks; nonzero if it cannot be had. */
int fi_set_stencils(fi_ctx_t *c, const fi_stencil_t *stencils, uint64_t n, const fi_stencil_t *end,
                    uint64_t arena_size);
/* Unlink every chain between copied blocks (a translation was installed). */
void fi_unchain(fi_ctx_t *c);
/* Run pre-decoded instructions from h->pc, at most max_steps of them. */
int fi_run(fi_ctx_t *c, hart_t *h, uint64_t max_steps);
/* Slow paths of handlers: 0 done, 1 fault pending; fi_store 2: done, and
 * it rewrote pre-decoded code or (a system VM) made an interrupt pending (a
 * block must not run on after it). */
int fi_store(fi_ctx_t *c, hart_t *h, uint64_t vaddr, uint64_t size, uint64_t value);
int fi_load(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t for_store, uint64_t *out);
/* Another engine wrote guest physical [paddr, paddr+size): drop what it
 * overlaps (and the copied blocks of its pages). */
void fi_note_write(fi_ctx_t *c, hart_t *h, uint64_t paddr, uint64_t size);

#endif
