/* Sv39 and Sv48 translation: permissions, each page-fault cause, A/D
 * updates, SUM, MXR, MPRV, superpages, sfence.vma. */
#include "harness.h"
#include "paging.h"

#define LOAD_PF 13
#define STORE_PF 15
#define FETCH_PF 12

/* t0 = PTE at table[index] */
.macro LOAD_PTE table, index
    la t0, \table
    ld t0, (\index) * 8(t0)
.endm

.macro SET_SATP mode, root
    SATP_OF t0, \root, \mode
    csrw satp, t0
.endm

.macro MPRV_ACCESS code, cause, mpp, insn:vararg
    ARM 88f
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, MSTATUS_MPRV | (\mpp << 11)
    csrs mstatus, t0
    \insn
88: li t0, MSTATUS_MPRV
    csrc mstatus, t0
    CHECK_CAUSE \code, \cause
.endm

test_main:
    /* identity gigapage for the program itself at 0x80000000 */
    PTE_AT pt_root, 2, 0x80000000, V | R | W | X | A | D
    PTE pt_root, 1, pt_l1, V
    PTE pt_l1, 0, pt_l0, V
    PTE pt_l1, 1, page_a, V | R | A | D            /* misaligned megapage */
    PTE pt_l1, 2, pt_l0, V | A                     /* A in a pointer is reserved */
    PTE pt_l0, 0, page_a, V | R | W | A | D
    PTE pt_l0, 1, page_a, V | R | A | D
    PTE pt_l0, 2, page_a, V | X | A
    PTE pt_l0, 3, page_a, V | R | W | U | A | D
    /* 4: invalid */
    PTE pt_l0, 5, page_a, V | W                    /* W without R */
    PTE pt_l0, 6, page_a, V | R | A | D | (1 << 54)  /* reserved bit */
    PTE pt_l0, 7, page_a, V | R | W                /* A and D clear */
    PTE pt_l0, 8, code_page, V | R | X | A
    PTE pt_l0, 9, code_page, V | R | X | U | A
    PTE pt_l0, 10, pt_l0, V                        /* pointer at the last level */
    li t0, (0x1000 >> 12 << 10) | V                /* next level outside RAM */
    la t1, pt_l1
    sd t0, 3 * 8(t1)
    li s0, WIN
    li s1, 0x1111

    SET_SATP SATP_SV39, pt_root
    sfence.vma
    GOTO_MODE 1
    /* basic translation and the fault cause of each access kind */
    NO_TRAP 1, ld a0, 0(s0)
    CHECK 2, a0, 0x1111
    li s2, WIN + 0x1000
    NO_TRAP 3, ld a0, 0(s2)
    CHECK 4, a0, 0x1111
    EXPECT 5, STORE_PF, sd a0, 0(s2)
    CHECK_TVAL 6, WIN + 0x1000
    EXPECT 7, STORE_PF, amoadd.d a0, a0, (s2)
    li s2, WIN + 0x4000
    EXPECT 8, LOAD_PF, ld a0, 0(s2)
    CHECK_TVAL 9, WIN + 0x4000
    EXPECT 10, STORE_PF, sd a0, 8(s2)
    CHECK_TVAL 11, WIN + 0x4008
    EXPECT 12, FETCH_PF, jalr s2
    CHECK_TVAL 13, WIN + 0x4000
    TRAP_FIELD TI_EPC
    CHECK 14, t5, WIN + 0x4000
    li s2, WIN + 0x1000                            /* readable, not executable */
    EXPECT 15, FETCH_PF, jalr s2
    /* execute through a mapping */
    li s2, WIN + 0x8000
    li a1, 0
    NO_TRAP 16, jalr s2
    CHECK 17, a1, 42
    /* MXR: execute-only pages become readable */
    li s2, WIN + 0x2000
    EXPECT 18, LOAD_PF, ld a0, 0(s2)
    li t0, MSTATUS_MXR
    csrs sstatus, t0
    NO_TRAP 19, ld a0, 0(s2)
    CHECK 20, a0, 0x1111
    csrc sstatus, t0
    /* SUM: user pages from S-mode, never for fetch */
    li s2, WIN + 0x3000
    EXPECT 21, LOAD_PF, ld a0, 0(s2)
    EXPECT 22, STORE_PF, sd a0, 0(s2)
    li t0, MSTATUS_SUM
    csrs sstatus, t0
    NO_TRAP 23, ld a0, 0(s2)
    CHECK 24, a0, 0x1111
    li s2, WIN + 0x9000
    EXPECT 25, FETCH_PF, jalr s2
    li t0, MSTATUS_SUM
    csrc sstatus, t0
    /* malformed entries */
    li s2, WIN + 0x5000
    EXPECT 26, LOAD_PF, ld a0, 0(s2)
    li s2, WIN + 0x6000
    EXPECT 27, LOAD_PF, ld a0, 0(s2)
    li s2, WIN + 0xa000
    EXPECT 28, LOAD_PF, ld a0, 0(s2)
    li s2, WIN + 0x200000
    EXPECT 29, LOAD_PF, ld a0, 0(s2)
    li s2, WIN + 0x400000
    EXPECT 30, LOAD_PF, ld a0, 0(s2)
    li s2, WIN + 0x600000                          /* walk leaves RAM: access fault */
    EXPECT 67, 5, ld a0, 0(s2)
    EXPECT 68, 7, sd a0, 0(s2)
    EXPECT 69, 1, jalr s2
    li s2, 0x4000000000                            /* bit 38 not sign-extended */
    EXPECT 31, LOAD_PF, ld a0, 0(s2)
    CHECK_TVAL 32, 0x4000000000
    li s2, -8                                      /* canonical, unmapped */
    EXPECT 33, LOAD_PF, ld a0, 0(s2)
    /* A and D are set by the hardware walk */
    li s2, WIN + 0x7000
    NO_TRAP 34, ld a0, 0(s2)
    LOAD_PTE pt_l0, 7
    andi t0, t0, A | D
    CHECK 35, t0, A
    NO_TRAP 36, sd a0, 8(s2)
    LOAD_PTE pt_l0, 7
    andi t0, t0, A | D
    CHECK 37, t0, A | D
    /* sfence.vma makes a changed mapping visible */
    NO_TRAP 38, ld a0, 0(s0)
    PTE pt_l0, 0, page_b, V | R | W | A | D
    sfence.vma s0
    ld a0, 0(s0)
    CHECK 39, a0, 0x2222
    PTE pt_l0, 0, page_a, V | R | W | A | D
    sfence.vma
    ld a0, 0(s0)
    CHECK 40, a0, 0x1111
    TO_M

    /* a page fault delegated to S */
    li t0, 1 << LOAD_PF
    csrw medeleg, t0
    GOTO_MODE 1
    li s2, WIN + 0x4000
    EXPECT 41, LOAD_PF, ld a0, 0(s2)
    CHECK_MODE 42, 1
    CHECK_TVAL 43, WIN + 0x4000
    TO_M
    csrw medeleg, zero

    /* MPRV: M-mode loads and stores translated as MPP (the harness's own
     * accesses would be too, so MPRV is on for one instruction at a time) */
    MPRV_ACCESS 50, -1, 1, ld a0, 0(s0)
    CHECK 51, a0, 0x1111
    li s2, WIN + 0x3000
    MPRV_ACCESS 52, LOAD_PF, 1, ld a0, 0(s2)      /* U page, SUM = 0 */
    MPRV_ACCESS 53, -1, 0, ld a0, 0(s2)
    MPRV_ACCESS 54, STORE_PF, 0, sd a0, 0(s0)     /* not a U page */
    MPRV_ACCESS 55, 5, 3, ld a0, 0(s0)            /* MPP = M: physical, no RAM */
    li t0, 0x80000000
    NO_TRAP 57, ld a0, 0(t0)

    /* Sv48: the Sv39 root serves as the level-2 table of entry 0 */
    PTE pt_root48, 0, pt_root, V
    PTE pt_root48, 1, page_a, V | R | A | D        /* misaligned 512 GiB page */
    SET_SATP SATP_SV48, pt_root48
    sfence.vma
    GOTO_MODE 1
    NO_TRAP 60, ld a0, 0(s0)
    CHECK 61, a0, 0x1111
    li s2, 0x4000000000                            /* canonical in Sv48: unmapped */
    EXPECT 62, LOAD_PF, ld a0, 0(s2)
    li s2, 0x800000000000                          /* bit 47 not sign-extended */
    EXPECT 63, LOAD_PF, ld a0, 0(s2)
    CHECK_TVAL 64, 0x800000000000
    li s2, 0x8000000000
    EXPECT 65, LOAD_PF, ld a0, 0(s2)
    li s2, WIN + 0x4000
    EXPECT 66, STORE_PF, sd a0, 0(s2)
    TO_M
    csrw satp, zero
    PASS

.text
.align 12
code_page:
    li a1, 42
    ret

.data
.align 12
pt_root: .fill 512, 8, 0
pt_l1: .fill 512, 8, 0
pt_l0: .fill 512, 8, 0
pt_root48: .fill 512, 8, 0
page_a: .dword 0x1111
.align 12
page_b: .dword 0x2222
.align 12
