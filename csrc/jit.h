/* The JIT's native side: the translation table, the dispatch loop that runs
 * translated code from block to block without returning to Python, and the
 * slow paths generated code calls for memory accesses.  Parsed by cffi too:
 * declarations and integer #defines only. */
#ifndef BT_JIT_H
#define BT_JIT_H

#include "state.h"
#include "fastinterp.h"

/* What a translated function returns. */
#define JIT_OK 0      /* ran to an exit; h->pc is the next pc */
#define JIT_FAULT 1   /* exc_pending; h->pc is the faulting instruction */
#define JIT_STOP 2    /* stopped at h->pc: exit request, budget, or a code write */
#define JIT_CHECKED 3 /* stopped at a check (h->pc, an entry or a loop header): an
                         exit request, the budget, or the next sample;
                         c->hot_region is the function that stopped */

/* Why bt_jit_run returned to Python. */
#define JIT_RUN_EXIT 0    /* h->exit_request is set */
#define JIT_RUN_COLD 1    /* no translation for h->pc (or budget/interrupt): interpret */
#define JIT_RUN_FAULT 2   /* deliver the pending exception */
#define JIT_RUN_SMC 3     /* a store hit a page holding translations (or a fence.i,
                             or the store floor went) */
#define JIT_RUN_HOT 4     /* the block at h->pc became hot: translate it */
#define JIT_RUN_INSTALL 5 /* the compile thread has translations ready: install them */
#define JIT_RUN_TIER_UP 6 /* the region at c->hot_region is hot (c->tier_up samples):
                             optimise it harder */

/* The JIT's bits of a page watch map byte (see FI_PAGE_DECODED). */
#define JIT_PAGE_CODE 1
#define JIT_PAGE_WRITTEN 2
#define JIT_HOT_SIZE 8192 /* block-entry counters of the cold tier (a power of two) */
/* Hashing a pc (>> 1) into the table: (x * JIT_HASH) >> a shift (the cold
 * tier's copied blocks count entries with the same, stencils.py). */
#define JIT_HASH 0x9E3779B97F4A7C15ULL
#define JIT_HOT_SHIFT 40
#define JIT_SAMPLED_SIZE 256 /* sample counters of regions (a power of two) */
/* Guest instructions a region holds at most (the top tier's cap; the first
 * tier's is lower, see region.py).  A sample period is at least that, so a
 * region entered after a sample passes its first check. */
#define JIT_REGION_MAX 512
#define JIT_SAMPLE_MIN 512   /* guest instructions between samples, at least */
/* System VM: translated loops come back to the dispatcher after about this
 * many guest instructions (~10 us), which takes the interrupts that became
 * pending meanwhile by the host clock (the timer's) or from another thread.
 * (A slow access that makes one pending leaves at once, see bt_jit_store.) */
#define JIT_SYSTEM_QUANTUM 16384
/* System VM: dispatches between reads of the host clock for the timer
 * interrupt (and one after each quantum), which cost more than a dispatch. */
#define JIT_TIMER_POLL 32

#define JIT_SMC_MAX 16
#define JIT_IC_SIZE 1024  /* indirect-jump cache entries (a power of two) */

struct jit_ctx;
typedef uint64_t (*jit_block_fn)(hart_t *h, struct jit_ctx *c);

/* One translation: entered at virtual pc `vpc`, which was physical `paddr`
 * in mode `mode` (see bt_jit_mode) when translated.  fn == 0: empty slot.
 * A region has an entry per loop header besides its first block: it
 * starts where h->pc says. */
typedef struct {
    uint64_t vpc;
    uint64_t paddr;
    uint64_t mode;
    jit_block_fn fn;
} jit_entry_t;

/* The indirect-jump cache: direct-mapped by pc, filled by the dispatch
 * loop, read by generated code at jalr/returns; cleared whenever
 * translations are dropped.  A system VM's entries also hold the TLB epoch
 * in their mode (mode | epoch << 3): a TLB flush (a new satp, sfence.vma) may
 * have mapped the pc elsewhere, and the entry no longer hits. */
typedef struct {
    uint64_t vpc;
    uint64_t mode;
    jit_block_fn fn;
} jit_ic_t;

/* Entries into a block start the cold tier ran, by pc, and samples of a
 * region, by its function's address (a colliding key takes the slot over:
 * counting is a heuristic). */
typedef struct {
    uint64_t pc;
    uint64_t count;
    uint64_t next;   /* the count of the next JIT_RUN_HOT */
} jit_hot_t;

typedef struct jit_ctx {
    jit_entry_t *table;      /* open addressing, linear probing; owned by Python */
    uint64_t mask;           /* table size - 1 (a power of two) */
    uint8_t *code_pages;     /* per RAM page: JIT_PAGE_* bits (shared with the cold tier's) */
    uint64_t npages;
    fi_ctx_t *fi;            /* the cold tier, or NULL: return to Python for cold code */
    uint64_t fi_status;      /* JIT_RUN_COLD: the FI_* status the cold tier stopped with */
    uint64_t hot_threshold;  /* block entries before JIT_RUN_HOT */
    uint64_t smc_pages[16];  /* RAM pages written since Python last looked */
    uint64_t smc_count;      /* > JIT_SMC_MAX: too many, flush everything */
    uint64_t code_epoch;     /* hart_t.code_epoch the translations belong to (fence.i drops them) */
    uint64_t store_floor;    /* hart_t.store_floor they were built for (a change drops them) */
    /* statistics */
    uint64_t stat_dispatch;  /* translations entered from the dispatch loop */
    uint64_t stat_cold;      /* returns to Python for cold code */
    uint64_t stat_chain;     /* direct jumps from region to region */
    uint64_t stat_ic_hit;    /* indirect jumps through the cache */
    volatile uint64_t install_ready; /* set by the compile thread (bt_jit_offer) */
    uint64_t hot_region;     /* JIT_CHECKED, JIT_RUN_TIER_UP: the region's function */
    /* Sampling, for tier-up: every sample_period guest instructions the
     * region that reaches a check stops, and the dispatcher counts it (not
     * a counter in every loop).  A period that ends outside translated
     * code is not counted. */
    uint64_t tier_up;        /* samples of a region before JIT_RUN_TIER_UP (0: no sampling) */
    uint64_t sample_period;  /* guest instructions between samples */
    uint64_t sample_at;      /* minstret of the next sample */
    uint64_t quantum_at;     /* system VM: minstret where the quantum ends (JIT_SYSTEM_QUANTUM);
                                fixed until then, so that re-arming the checks writes nothing */
    uint64_t timer_poll;     /* system VM: dispatches until the clock is read again (JIT_TIMER_POLL) */
    jit_ic_t ic[1024];       /* JIT_IC_SIZE */
    jit_hot_t hot[8192];     /* JIT_HOT_SIZE */
    jit_hot_t sampled[256];  /* JIT_SAMPLED_SIZE */
} jit_ctx_t;

/* The mode bits that change translation: privilege and whether FP is on. */
uint64_t bt_jit_mode(hart_t *h);
/* Physical address of the instruction at vpc; nonzero when it does not
 * translate (the interpreter then raises the fetch fault). */
int bt_jit_phys(hart_t *h, uint64_t vpc, uint64_t *paddr);

void bt_jit_insert(jit_ctx_t *c, uint64_t vpc, uint64_t paddr, uint64_t mode, uint64_t fn);
void bt_jit_clear(jit_ctx_t *c);   /* empties the table and the indirect-jump cache */
void bt_jit_clear_ic(jit_ctx_t *c);   /* empties the indirect-jump cache */
/* Forget the cold tier's block-entry counts (so that code becomes hot again
 * after its translations are dropped). */
void bt_jit_clear_hot(jit_ctx_t *c);
/* The next JIT_RUN_HOT for pc's block comes after ``times`` times the
 * threshold: JIT_SNOOZE while it has nothing to gain from one (its region
 * is being compiled), 1 to start counting afresh. */
void bt_jit_snooze(jit_ctx_t *c, uint64_t pc, uint64_t times);
/* The cold tier's count of entries into pc's block (0: not counted). */
uint64_t bt_jit_entries(jit_ctx_t *c, uint64_t pc);
/* The counted blocks, as (pc, entries) pairs in out[2 * max]; how many. */
uint64_t bt_jit_heat(jit_ctx_t *c, uint64_t *out, uint64_t max);
#define JIT_SNOOZE 16
/* From the compile thread: translations are ready.  The thread running the
 * guest leaves native code at its next check and bt_jit_run returns
 * JIT_RUN_INSTALL. */
void bt_jit_offer(jit_ctx_t *c, hart_t *h);
int bt_jit_run(jit_ctx_t *c, hart_t *h);

/* Slow paths of generated memory accesses: 0 done, 1 fault pending,
 * 2 done but the translation must stop after this instruction (an exit
 * request, an interrupt the access made pending, or the store hit a page
 * holding translations). */
int bt_jit_load(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t for_store, uint64_t *out);
int bt_jit_store(jit_ctx_t *c, hart_t *h, uint64_t vaddr, uint64_t size, uint64_t value);
/* A store to [vaddr, vaddr+size) succeeded: tell the tiers holding code
 * there (either context may be NULL). */
void bt_code_write(jit_ctx_t *jc, fi_ctx_t *fc, hart_t *h, uint64_t vaddr, uint64_t size);
/* Drop the JIT's bits from the page watch map (all its translations went). */
void bt_jit_clear_pages(jit_ctx_t *c);

#endif
