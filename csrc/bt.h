/* The C core's interface: what engines call (cffi from Python, direct calls
 * from generated code).  Parsed by cffi's cdef too: declarations only.
 *
 * Conventions.  A function that can fault records the architectural
 * exception in the hart (exc_pending, exc_cause, exc_tval) and returns
 * without changing any other architectural state; the engine then abandons
 * the instruction and calls bt_take_exception.  Callouts named by the ISA
 * description (s.call("name", ...)) are `uint64_t bt_<name>(hart_t *, uint64_t...)`.
 */
#ifndef BT_CORE_H
#define BT_CORE_H

#include "state.h"

/* --- set-up --- */
void bt_hart_reset(hart_t *h, uint64_t machine_kind, uint64_t pc);

/* --- exceptions and interrupts (trap.c) --- */
void bt_raise(hart_t *h, uint64_t cause, uint64_t tval);
void bt_take_exception(hart_t *h);                 /* deliver exc_pending at h->pc */
uint64_t bt_pending_interrupt(hart_t *h);          /* cause+1 of the interrupt to take, or 0 */
void bt_take_interrupt(hart_t *h, uint64_t cause); /* deliver an interrupt at h->pc */
uint64_t bt_mtime(hart_t *h);

/* --- run control (trap.c) --- */
void bt_request_exit(hart_t *h, uint64_t bits);   /* any thread: set EXIT_REQ_* bits */
void bt_stop(hart_t *h, uint64_t reason);         /* the hart's thread: stop with EXIT_* reason */
void bt_arm_checks(hart_t *h, uint64_t limit);    /* before translated code runs: check_limit */

/* --- memory (mem.c): loads return the value zero-extended --- */
int bt_load(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t *out);
int bt_load_for_store(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t *out);
int bt_store(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t value);
int bt_fetch(hart_t *h, uint64_t vaddr, uint64_t *out);   /* 16 or 32 bits */
int bt_translate(hart_t *h, uint64_t vaddr, uint64_t acc, uint64_t *paddr);
void bt_tlb_flush(hart_t *h);
/* Drop the TLB entries of page vpn (or TLB_ALL_PAGES) in address space asid
 * (or TLB_ALL_SPACES, global mappings included): sfence.vma's four forms. */
#define TLB_ALL_PAGES 0xffffffffffffffff
#define TLB_ALL_SPACES 0xffffffffffffffff
void bt_tlb_flush_some(hart_t *h, uint64_t vpn, uint64_t asid);
/* Host pointer to n bytes of guest physical RAM at paddr, or NULL when any
 * byte lies outside RAM.  The one place guest addresses become host ones. */
uint8_t *bt_ram_ptr(hart_t *h, uint64_t paddr, uint64_t n);

/* --- callouts named by the ISA description --- */
uint64_t bt_ecall(hart_t *h);
uint64_t bt_ebreak(hart_t *h);
uint64_t bt_mret(hart_t *h);                       /* returns the new pc */
uint64_t bt_sret(hart_t *h);
uint64_t bt_wfi(hart_t *h);
uint64_t bt_sfence_vma(hart_t *h, uint64_t vaddr, uint64_t asid, uint64_t flags);
uint64_t bt_fence_i(hart_t *h);
/* CSR access: kind 0 write, 1 set, 2 clear; flags bit 0: rd != x0 (read),
 * bit 1: write (csrrw always, csrrs/c when rs1/uimm != 0). Returns old value. */
uint64_t bt_csr(hart_t *h, uint64_t csr, uint64_t kind, uint64_t operand, uint64_t flags);
/* CSR access for the Python API: no privilege, read-only or FS checks; WARL
 * rules apply.  0 on success, -1 when the CSR does not exist (or, for poke,
 * is read-only). */
int bt_csr_peek(hart_t *h, uint64_t csr, uint64_t *out);
int bt_csr_poke(hart_t *h, uint64_t csr, uint64_t value);
uint64_t bt_lr(hart_t *h, uint64_t addr, uint64_t size);
uint64_t bt_sc(hart_t *h, uint64_t addr, uint64_t value, uint64_t size); /* 0 on success */
/* Mark RAM page ``page`` (an index into hart_t.watch) with watch ``bits``;
 * a page at or above the store floor ends the floor. */
void bt_watch(hart_t *h, uint64_t page, uint64_t bits);
/* Guest physical [paddr, paddr+size) was written other than through a
 * tier's store path (the embedding API, a system call's host I/O, sc): if
 * it holds code of any tier, every tier drops its code, as at fence.i
 * (at its next look at the code epoch: code already running, e.g. the
 * block holding an sc, runs on to its exit, as fence.i allows). */
void bt_wrote(hart_t *h, uint64_t paddr, uint64_t size);

#endif
