/* What the TLB must not keep: a satp write to another ASID switches
 * address space at once (no sfence.vma), and each form of sfence.vma
 * (all, one ASID, one address, both) drops what it names, a whole
 * superpage from any address inside it. */
#include "harness.h"
#include "paging.h"

#define MEGA (WIN + 0x200000)          /* its second megapage */
#define MEGA_1 0x80200000              /* physical megapages it maps to */
#define MEGA_2 0x80400000
#define ASID_1 (1 << 44)
#define ASID_2 (2 << 44)

test_main:
    /* Both address spaces: the program's identity gigapage, global (a
     * kernel's mappings), and the window, their own. */
    PTE_AT pt_1, 2, 0x80000000, V | R | W | X | G | A | D
    PTE_AT pt_2, 2, 0x80000000, V | R | W | X | G | A | D
    PTE pt_1, 1, pt_1_l1, V
    PTE pt_2, 1, pt_2_l1, V
    PTE pt_1_l1, 0, pt_1_l0, V
    PTE pt_2_l1, 0, pt_2_l0, V
    PTE pt_1_l0, 0, page_a, V | R | W | A | D
    PTE pt_2_l0, 0, page_b, V | R | W | A | D
    PTE_AT pt_1_l1, 1, MEGA_1, V | R | W | A | D
    li t0, MEGA_1 + 0x1000
    li t1, 0x3333
    sd t1, 0(t0)
    li t0, MEGA_2 + 0x1000
    li t1, 0x4444
    sd t1, 0(t0)
    li s0, WIN
    SATP_OF s1, pt_1, SATP_SV39 | ASID_1
    SATP_OF s2, pt_2, SATP_SV39 | ASID_2
    csrw satp, s1
    sfence.vma
    GOTO_MODE 1

    /* a satp write to another ASID: its mappings at once, both ways */
    ld a0, 0(s0)
    CHECK 1, a0, 0x1111
    csrw satp, s2
    ld a0, 0(s0)
    CHECK 2, a0, 0x2222
    csrw satp, s1
    ld a0, 0(s0)
    CHECK 3, a0, 0x1111

    /* sfence.vma of the megapage's first address drops a piece cached
     * from its second page */
    li s3, MEGA + 0x1000
    ld a0, 0(s3)
    CHECK 4, a0, 0x3333
    PTE_AT pt_1_l1, 1, MEGA_2, V | R | W | A | D
    li t0, MEGA
    sfence.vma t0
    ld a0, 0(s3)
    CHECK 5, a0, 0x4444

    /* sfence.vma of an ASID drops that ASID's mappings */
    PTE pt_1_l0, 0, page_b, V | R | W | A | D
    li t0, 1
    sfence.vma zero, t0
    ld a0, 0(s0)
    CHECK 6, a0, 0x2222

    /* ... and of an address in an ASID, that mapping */
    PTE pt_1_l0, 0, page_a, V | R | W | A | D
    li t0, 1
    sfence.vma s0, t0
    ld a0, 0(s0)
    CHECK 7, a0, 0x1111

    /* a store's translation goes as well as a load's */
    sd zero, 8(s0)
    PTE pt_1_l0, 0, page_b, V | R | W | A | D
    sfence.vma s0
    li t1, 0x5555
    sd t1, 8(s0)
    la t0, page_b
    ld a0, 8(t0)
    CHECK 8, a0, 0x5555
    la t0, page_a
    ld a0, 8(t0)
    CHECK 9, a0, 0

    TO_M
    csrw satp, zero
    PASS

.data
.align 12
pt_1: .fill 512, 8, 0
pt_1_l1: .fill 512, 8, 0
pt_1_l0: .fill 512, 8, 0
pt_2: .fill 512, 8, 0
pt_2_l1: .fill 512, 8, 0
pt_2_l0: .fill 512, 8, 0
page_a: .dword 0x1111, 0
.align 12
page_b: .dword 0x2222, 0
.align 12
