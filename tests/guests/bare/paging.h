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
