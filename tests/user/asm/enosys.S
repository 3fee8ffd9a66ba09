# An unknown system call returns -ENOSYS (twice; named once on stderr).
    .globl _start
_start:
    li a7, 1000
    ecall
    mv s0, a0
    li a7, 1000
    ecall
    mv s1, a0
    li t0, -38
    li a0, 1
    bne s0, t0, 1f
    bne s1, t0, 1f
    li a0, 0
1:  li a7, 93
    ecall
