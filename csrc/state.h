/* The one hart-state layout shared by Python (through cffi), the C core and
 * generated code (ARCHITECTURE.md, principle 4).  This file is read both by
 * the C compiler and by cffi's cdef parser: keep it free of preprocessor
 * logic other than the include guard and plain #defines of integers. */
#ifndef BT_STATE_H
#define BT_STATE_H

#include <stdint.h>

/* Privilege levels as encoded in mstatus.MPP. */
#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* Synchronous exception causes (privileged spec, table 3.6). */
#define EXC_INSN_MISALIGNED 0
#define EXC_INSN_ACCESS 1
#define EXC_ILLEGAL_INSN 2
#define EXC_BREAKPOINT 3
#define EXC_LOAD_MISALIGNED 4
#define EXC_LOAD_ACCESS 5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS 7
#define EXC_ECALL_U 8
#define EXC_ECALL_S 9
#define EXC_ECALL_M 11
#define EXC_INSN_PAGE_FAULT 12
#define EXC_LOAD_PAGE_FAULT 13
#define EXC_STORE_PAGE_FAULT 15

/* Kinds of memory access, for translation and fault causes. */
#define ACC_LOAD 0
#define ACC_STORE 1
#define ACC_FETCH 2

/* Why the engine must stop and return to its caller (hart.exit_reason). */
#define EXIT_NONE 0
#define EXIT_HALT 1        /* the guest asked to stop (HTIF tohost, exit syscall) */
#define EXIT_USER_TRAP 2   /* user-mode VM: ecall or fault to be handled by the VMM */
#define EXIT_LIMIT 3       /* instruction limit reached */
#define EXIT_REQUEST 4     /* asynchronous request: Ctrl-C, timeout, embedding API */
#define EXIT_WFI 5         /* hart is waiting for an interrupt */
#define EXIT_MMIO_ERROR 6  /* a Python device raised; details kept on the Python side */
#define EXIT_TRAP_LOOP 7   /* system VM: a trap handler traps on its own first instruction */

/* Bits of hart_t.exit_request.  Native code stops at its next check when
 * any bit is set; only STOP ends the run. */
#define EXIT_REQ_STOP 1    /* stop the run (exit_reason says why) */
#define EXIT_REQ_YIELD 2   /* back to the JIT's dispatcher: new translations to install */

/* Machine kinds: what the VMM does with traps. */
#define MACHINE_USER 0     /* process VM: every trap exits to the VMM */
#define MACHINE_SYSTEM 1   /* bare/virt: traps are delivered to the guest */

#define TLB_SIZE 256
#define CALLOUT_SLOTS 64

/* One direct-mapped TLB entry of the shadow (V2M) translation: the guest
 * virtual address of the page (all-ones when invalid), and the addend that
 * turns a guest virtual address into a host pointer.  An access of size n
 * hits when (vaddr & ~(4095 ^ (n - 1))) == page: the alignment check is
 * folded into the tag compare (a misaligned address keeps a low bit). */
typedef struct {
    uint64_t page;
    uint64_t addend;
} tlb_entry_t;
/* In a tlb_store entry's page: the page has watch bits (code of a tier),
 * so generated stores miss (no mask leaves this bit of an address) and
 * need not read the watch map; the C core's own lookups hit. */
#define TLB_WATCHED 8ULL

/* What the fast path does not read about a TLB entry, for the selective
 * flushes of satp writes and sfence.vma: the ASID it was filled under, G
 * (valid in every address space), and the level of the leaf it is a 4 KiB
 * piece of (0: a page, 1: a megapage...). */
#define TLB_TAG_ASID_MASK 0xffff
#define TLB_TAG_GLOBAL 0x10000
#define TLB_TAG_LEVEL_SHIFT 17

typedef struct hart {
    /* --- architectural registers --- */
    uint64_t x[32];
    uint64_t f[32];              /* NaN-boxed singles live in the low half */
    uint64_t pc;
    uint64_t priv;               /* PRV_U / PRV_S / PRV_M */

    /* --- CSRs (values the VMM owns; sstatus/sie/sip are views) --- */
    uint64_t mstatus;
    uint64_t misa;
    uint64_t mhartid;
    uint64_t medeleg, mideleg;
    uint64_t mie, mip;
    uint64_t mtvec, mscratch, mepc, mcause, mtval;
    uint64_t stvec, sscratch, sepc, scause, stval;
    uint64_t satp;
    uint64_t mcounteren, scounteren;
    uint64_t menvcfg, senvcfg;
    uint64_t mcountinhibit;
    uint64_t fflags, frm;
    uint64_t mcycle, minstret;   /* minstret counts retired instructions */
    uint64_t pmpcfg[16];         /* WARL storage; even indices only on RV64 */
    uint64_t pmpaddr[64];

    /* --- LR/SC reservation: the address LR read (all-ones when none), the
     * value it read there and its size (see bt_sc) --- */
    uint64_t reservation;
    uint64_t reserved_value;
    uint64_t reserved_size;

    /* --- fence.i: bumped by each one; a tier holding decoded or translated
     * code drops it when its own copy of the epoch differs --- */
    uint64_t code_epoch;

    /* --- the pending synchronous exception raised by a helper --- */
    uint64_t exc_pending;        /* nonzero: cause/tval below are valid */
    uint64_t exc_cause;
    uint64_t exc_tval;

    /* --- run control --- */
    uint64_t machine_kind;       /* MACHINE_USER / MACHINE_SYSTEM */
    volatile uint64_t exit_request;  /* EXIT_REQ_* bits, set asynchronously; engines poll it */
    uint64_t exit_reason;        /* EXIT_* once the engine stops */
    uint64_t insn_limit;         /* stop when minstret reaches this */
    /* What translated loops compare their instruction count with: the
     * insn_limit (or the JIT's next sample, if sooner) while no exit is
     * requested, 0 once one is (one compare per loop pass instead of
     * two).  Set through bt_request_exit and bt_arm_checks only. */
    volatile uint64_t check_limit;

    /* --- physical memory map (P2M): one RAM region --- */
    uint8_t *ram;
    uint64_t ram_base;
    uint64_t ram_size;
    uint64_t ram_low_guard;      /* user VM: accesses below this fault (NULL page) */
    /* Per RAM page (ram_size / 4096 + 2 bytes, owned by whoever owns the
     * hart): bits that send generated stores to their slow path, set
     * through bt_watch (FI_PAGE_DECODED, JIT_PAGE_* by the tiers). */
    uint8_t *watch;
    /* Process VM: no page at or above this (page-aligned) address is
     * watched, so translated stores there check no watch byte (0: no
     * floor).  The program's code ends below it; bt_watch drops it to 0
     * when a page above gets code, and the JIT then drops the
     * translations built for it (see jit_ctx_t.store_floor). */
    uint64_t store_floor;

    /* --- HTIF: stores to tohost stop the run --- */
    uint64_t tohost_addr;        /* 0 when the program has no tohost */
    uint64_t tohost_value;

    /* --- timer (CLINT) state, used for mip.MTIP --- */
    uint64_t mtimecmp;
    uint64_t time_offset;        /* mtime = host clock ticks - offset */

    /* --- statistics --- */
    uint64_t stat_tlb_hits, stat_tlb_misses, stat_mmio;
    uint64_t stat_callouts[CALLOUT_SLOTS];  /* calls of each callout, numbered by bt_vmm.cpu.callouts */

    /* --- privileged core bookkeeping (csrc/priv.c, trap.c, mem.c) --- */
    uint64_t insn_bits;          /* engines set it before a callout: tval of illegal-instruction */
    uint64_t cycle_delta;        /* mcycle = minstret + delta (the frozen value while inhibited) */
    uint64_t instret_delta;      /* likewise for the minstret CSR: minstret itself stays the engine's count */
    uint64_t mmu_key;            /* translation context the TLB was filled under (flush on change) */
    uint64_t tlb_epoch;          /* bumped by every TLB flush: what a virtual address maps to may have changed */
    uint64_t trace_mmu;          /* nonzero: report each page walk to bt_trace_walk */

    /* --- V2M TLB: separate load, store and fetch arrays --- */
    tlb_entry_t tlb_load[TLB_SIZE];
    tlb_entry_t tlb_store[TLB_SIZE];
    tlb_entry_t tlb_fetch[TLB_SIZE];
    uint32_t tlb_tag[3][TLB_SIZE];   /* per entry of tlb_load, tlb_store, tlb_fetch (ACC_* order) */
} hart_t;

#endif
