/* Shared helpers for the bare-metal C programs: CSR access, trap records
 * and checks.  A program prints what it observes and exits with the number
 * of failed checks, so a run is compared on both its output and status. */
#ifndef BARE_H
#define BARE_H

#include <stdint.h>
#include <stdio.h>

#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" : : "r"((uint64_t)(val)) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " #csr ", %0" : : "r"((uint64_t)(val)) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " #csr ", %0" : : "r"((uint64_t)(val)) : "memory")

/* Run one instruction and return its address (for epc checks). */
#define AT(insn) ({ uint64_t pc_; __asm__ volatile("la %0, 1f\n1: " insn : "=&r"(pc_) : : "memory"); pc_; })

#define MSTATUS_SIE (1ul << 1)
#define MSTATUS_MIE (1ul << 3)
#define MSTATUS_SPP (1ul << 8)
#define MSTATUS_MPP (3ul << 11)
#define MSTATUS_SUM (1ul << 18)
#define INTERRUPT (1ul << 63)

#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_ECALL_U 8
#define CAUSE_ECALL_S 9
#define CAUSE_ECALL_M 11
#define CAUSE_LOAD_PAGE 13
#define CAUSE_STORE_PAGE 15

/* What a trap handler saw. */
struct trap {
    uint64_t cause, epc, tval, status;
};

/* Length of the instruction at pc, to step a handler's return over it. */
static inline uint64_t insn_length(uint64_t pc)
{
    return (*(volatile uint16_t *)pc & 3) == 3 ? 4 : 2;
}

/* Give S and U modes access to all of memory (QEMU enforces PMP). */
static inline void pmp_allow_all(void)
{
    csr_write(pmpaddr0, -1ul);
    csr_write(pmpcfg0, 0x1f); /* NAPOT, R W X */
}

static int failures;

static inline void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

#endif
