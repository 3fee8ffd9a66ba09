# A misaligned AMO is a store/AMO address-misaligned trap: SIGBUS, as on Linux.
    .data
    .balign 8
word:
    .dword 0
    .text
    .globl _start
_start:
    la t0, word
    li t1, 1
    amoadd.w zero, t1, (t0)     # aligned: fine
    addi t0, t0, 2
    amoadd.w zero, t1, (t0)     # misaligned: SIGBUS
    li a0, 0
    li a7, 93
    ecall
