# Hands the kernel bad pointers; every call must fail with -EFAULT (-14)
# and the process must keep running.  Exit status: 0, or the number of the
# first call that did not return -EFAULT.
    .equ EFAULT, 14
    .macro expect_efault n
    li t0, -EFAULT
    li s1, \n
    bne a0, t0, fail
    .endm
    .globl _start
_start:
    li a0, 1                # write(1, NULL, 10)
    li a1, 0
    li a2, 10
    li a7, 64
    ecall
    expect_efault 1
    li a0, 1                # write(1, 0xffffffffffff0000, 8): far outside the guest
    li a1, -65536
    li a2, 8
    li a7, 64
    ecall
    expect_efault 2
    li a0, 0                # read(0, 0x100, 16): inside the NULL guard
    li a1, 0x100
    li a2, 16
    li a7, 63
    ecall
    expect_efault 3
    li a0, -100             # openat(AT_FDCWD, 0x8, O_RDONLY)
    li a1, 8
    li a2, 0
    li a7, 56
    ecall
    expect_efault 4
    li a0, 1                # writev(1, 0x10, 1): iovec array unreadable
    li a1, 0x10
    li a2, 1
    li a7, 66
    ecall
    expect_efault 5
    li a0, 1                # writev(1, iov, 1) with iov_base = 0x20
    la a1, bad_iov
    li a2, 1
    li a7, 66
    ecall
    expect_efault 6
    li a0, 1                # clock_gettime(CLOCK_MONOTONIC, NULL + 8)
    li a1, 8
    li a7, 113
    ecall
    expect_efault 7
    li a0, 1                # write(1, msg, 2^63): length runs off the end
    la a1, msg
    li a2, 1
    slli a2, a2, 63
    li a7, 64
    ecall
    li t0, -EFAULT
    li s1, 8
    bne a0, t0, fail
    li a0, 0                # fstat(0, 0x10)
    li a1, 0x10
    li a7, 80
    ecall
    expect_efault 9
    li a0, -1               # getcwd(-1 (end of address space), 100)
    li a1, 100
    li a7, 17
    ecall
    expect_efault 10
    li a0, 1                # the process is still alive: write "ok\n"
    la a1, msg
    li a2, 3
    li a7, 64
    ecall
    li s1, 0
fail:
    mv a0, s1
    li a7, 93
    ecall
    .section .rodata
msg:
    .ascii "ok\n"
    .balign 8
bad_iov:
    .dword 0x20, 4
