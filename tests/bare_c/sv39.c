/* Sv39 in C: an identity gigapage for RAM plus 4 KiB aliases of one data
 * page at 0x40005000 (read-write) and 0x40007000 (read-only), run from
 * S-mode.  Checks reads and writes through the alias, the A and D bits the
 * walker sets, and the page faults (delegated to a C S-mode handler). */
#include <stdlib.h>

#include "bare.h"

#define PTE_V 0x1ul
#define PTE_R 0x2ul
#define PTE_W 0x4ul
#define PTE_X 0x8ul
#define PTE_A 0x40ul
#define PTE_D 0x80ul
#define PTE(pa, flags) (((uint64_t)(pa) >> 12 << 10) | (flags))
#define SATP_SV39 (8ul << 60)

#define ALIAS_RW 0x40005000ul
#define UNMAPPED 0x40006000ul
#define ALIAS_RO 0x40007000ul

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t level1[512] __attribute__((aligned(4096)));
static volatile uint64_t level0[512] __attribute__((aligned(4096)));
static volatile uint64_t page[512] __attribute__((aligned(4096)));
static volatile struct trap seen;

__attribute__((interrupt("supervisor"), aligned(4))) static void strap(void)
{
    seen.cause = csr_read(scause);
    seen.epc = csr_read(sepc);
    seen.tval = csr_read(stval);
    csr_write(sepc, seen.epc + insn_length(seen.epc));
}

/* A load or store that may fault: a faulting load leaves the value 0xdead. */
static uint64_t load(uint64_t va, uint64_t *pc)
{
    uint64_t v = 0xdead;
    __asm__ volatile("la %1, 1f\n1: ld %0, 0(%2)" : "+&r"(v), "=&r"(*pc) : "r"(va) : "memory");
    return v;
}

static void store(uint64_t va, uint64_t v, uint64_t *pc)
{
    __asm__ volatile("la %0, 1f\n1: sd %1, 0(%2)" : "=&r"(*pc) : "r"(v), "r"(va) : "memory");
}

static void expect_fault(const char *what, uint64_t pc, uint64_t cause, uint64_t va)
{
    printf("%s: cause %lu stval 0x%lx\n", what, seen.cause, seen.tval);
    check(seen.cause == cause && seen.epc == pc && seen.tval == va, what);
    seen.cause = -1ul;
}

static void print_ad(const char *when, uint64_t pte)
{
    printf("%s: A=%d D=%d\n", when, (pte & PTE_A) != 0, (pte & PTE_D) != 0);
}

static void supervisor_main(void)
{
    uint64_t pc;
    seen.cause = -1ul;
    print_ad("alias before", level0[5]);
    uint64_t v = load(ALIAS_RW, &pc);
    printf("read through alias: 0x%lx\n", v);
    check(v == 0x1234 && seen.cause == -1ul, "alias read");
    print_ad("after read", level0[5]);
    store(ALIAS_RW + 8, 0x5678, &pc);
    check(page[1] == 0x5678, "alias write seen at the identity address");
    print_ad("after write", level0[5]);
    v = load(UNMAPPED, &pc);
    expect_fault("unmapped load", pc, CAUSE_LOAD_PAGE, UNMAPPED);
    check(v == 0xdead, "faulting load leaves rd");
    store(ALIAS_RO + 0x10, 1, &pc);
    expect_fault("read-only store", pc, CAUSE_STORE_PAGE, ALIAS_RO + 0x10);
    check(load(ALIAS_RO + 8, &pc) == 0x5678, "read-only alias read");
    print_ad("read-only alias", level0[7]);
    exit(failures);
}

int main(void)
{
    page[0] = 0x1234;
    root[2] = PTE(0x80000000ul, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
    root[ALIAS_RW >> 30] = PTE(level1, PTE_V);
    level1[(ALIAS_RW >> 21) & 511] = PTE(level0, PTE_V);
    level0[(ALIAS_RW >> 12) & 511] = PTE(page, PTE_V | PTE_R | PTE_W);
    level0[(ALIAS_RO >> 12) & 511] = PTE(page, PTE_V | PTE_R);
    pmp_allow_all();
    csr_write(stvec, (uint64_t)strap);
    csr_write(medeleg, (1ul << CAUSE_LOAD_PAGE) | (1ul << CAUSE_STORE_PAGE));
    csr_write(satp, SATP_SV39 | ((uint64_t)root >> 12));
    __asm__ volatile("sfence.vma" : : : "memory");
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, 1ul << 11);
    csr_write(mepc, (uint64_t)supervisor_main);
    __asm__ volatile("mret");
    __builtin_unreachable();
}
