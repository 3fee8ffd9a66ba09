/* Page-table building for the Sv39/Sv48 test programs. */
#define V 0x1
#define R 0x2
#define W 0x4
#define X 0x8
#define U 0x10
#define G 0x20
#define A 0x40
#define D 0x80
#define WIN 0x40000000                 /* the test window (VPN[2] = 1) */
#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)

/* table[index] = PTE pointing at `target` with `flags` */
.macro PTE table, index, target, flags
    la t0, \target
    srli t0, t0, 12
    slli t0, t0, 10
    li t1, \flags
    or t0, t0, t1
    la t1, \table
    li t2, (\index) * 8
    add t1, t1, t2
    sd t0, 0(t1)
.endm

/* table[index] = leaf PTE of the physical address `paddr` */
.macro PTE_AT table, index, paddr, flags
    li t0, ((\paddr) >> 12 << 10) | (\flags)
    la t1, \table
    sd t0, (\index) * 8(t1)
.endm

/* reg = satp of the table at `root` with `bits` (mode, ASID); t1 scratch */
.macro SATP_OF reg, root, bits
    la \reg, \root
    srli \reg, \reg, 12
    li t1, \bits
    or \reg, \reg, t1
.endm
