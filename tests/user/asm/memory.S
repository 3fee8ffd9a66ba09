# brk and mmap: memory handed out is usable and reads as zeros.
# Exit status 0, or the number of the failed check.
    .equ SYS_brk, 214
    .equ SYS_munmap, 215
    .equ SYS_mremap, 216
    .equ SYS_mmap, 222
    .globl _start
_start:
    li a0, 0                # s0 = brk(0)
    li a7, SYS_brk
    ecall
    mv s0, a0
    li s1, 1
    beqz s0, fail
    li t0, 8192             # brk(s0 + 8192) == s0 + 8192
    add a0, s0, t0
    mv s2, a0
    li a7, SYS_brk
    ecall
    li s1, 2
    bne a0, s2, fail
    li t0, 0x5a5a           # the new break area is writable and was zero
    ld t1, -8(s2)
    li s1, 3
    bnez t1, fail
    sd t0, -8(s2)
    ld t1, -8(s2)
    bne t0, t1, fail
    li a0, 0                # p = mmap(NULL, 3 pages, RW, PRIVATE|ANON, -1, 0)
    li a1, 12288
    li a2, 3
    li a3, 0x22
    li a4, -1
    li a5, 0
    li a7, SYS_mmap
    ecall
    mv s3, a0
    li s1, 4
    slli t0, s3, 52          # page-aligned: low 12 bits clear
    bnez t0, fail
    li t0, -4096
    bgeu s3, t0, fail
    li t0, 77               # write the last word, read it back
    li t2, 12280
    add t2, s3, t2
    sd t0, 0(t2)
    ld t1, 0(t2)
    li s1, 5
    bne t0, t1, fail
    mv a0, s3               # grow it to 8 pages (may move); the data follows
    li a1, 12288
    li a2, 32768
    li a3, 1                # MREMAP_MAYMOVE
    li a7, SYS_mremap
    ecall
    mv s3, a0
    li t2, 12280
    add t2, s3, t2
    ld t1, 0(t2)
    li s1, 6
    li t0, 77
    bne t0, t1, fail
    mv a0, s3               # munmap it; a fresh mapping reads zeros
    li a1, 32768
    li a7, SYS_munmap
    ecall
    li s1, 7
    bnez a0, fail
    mv a0, s3               # mmap(s3, 8 pages, RW, PRIVATE|ANON|FIXED)
    li a1, 32768
    li a2, 3
    li a3, 0x32
    li a4, -1
    li a5, 0
    li a7, SYS_mmap
    ecall
    li s1, 8
    bne a0, s3, fail
    li t2, 12280
    add t2, s3, t2
    ld t1, 0(t2)
    li s1, 9
    bnez t1, fail
    li a0, 0                # mmap(NULL, 0, ...) is EINVAL
    li a1, 0
    li a2, 3
    li a3, 0x22
    li a4, -1
    li a7, SYS_mmap
    ecall
    li s1, 10
    li t0, -22
    bne a0, t0, fail
    li s1, 0
fail:
    mv a0, s1
    li a7, 93
    ecall
