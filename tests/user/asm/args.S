# Prints each argv[i] on its own line, then checks the auxiliary vector:
# exit status 0 when AT_PAGESZ == 4096, AT_ENTRY == _start, AT_RANDOM points
# into the stack and sp was 16-byte aligned at entry; otherwise the number of
# the first failed check.
    .equ SYS_write, 64
    .equ SYS_exit, 93
    .equ AT_PAGESZ, 6
    .equ AT_ENTRY, 9
    .equ AT_RANDOM, 25
    .globl _start
_start:
    mv s0, sp               # s0: initial sp
    li a0, 1
    andi t0, s0, 15
    bnez t0, fail
    ld s1, 0(s0)            # argc
    addi s2, s0, 8          # &argv[0]
    li s3, 0
print_loop:
    bge s3, s1, printed
    slli t0, s3, 3
    add t0, s2, t0
    ld a1, 0(t0)
    mv a2, a1               # strlen
1:  lbu t1, 0(a2)
    beqz t1, 2f
    addi a2, a2, 1
    j 1b
2:  sub a2, a2, a1
    li a0, 1
    li a7, SYS_write
    ecall
    li a0, 1
    la a1, newline
    li a2, 1
    li a7, SYS_write
    ecall
    addi s3, s3, 1
    j print_loop
printed:
    # skip argv[] and its NULL, then envp[] up to its NULL
    addi t0, s1, 1
    slli t0, t0, 3
    add t0, s2, t0
3:  ld t1, 0(t0)
    addi t0, t0, 8
    bnez t1, 3b
    li s4, 0                # bit 0: pagesz ok, bit 1: entry ok, bit 2: random ok
auxv_loop:
    ld t1, 0(t0)
    ld t2, 8(t0)
    addi t0, t0, 16
    beqz t1, auxv_done
    li t3, AT_PAGESZ
    bne t1, t3, 4f
    li t3, 4096
    bne t2, t3, 4f
    ori s4, s4, 1
4:  li t3, AT_ENTRY
    bne t1, t3, 5f
    la t3, _start
    bne t2, t3, 5f
    ori s4, s4, 2
5:  li t3, AT_RANDOM
    bne t1, t3, auxv_loop
    bltu t2, s0, auxv_loop
    ori s4, s4, 4
    j auxv_loop
auxv_done:
    li a0, 2
    andi t0, s4, 1
    beqz t0, fail
    li a0, 3
    andi t0, s4, 2
    beqz t0, fail
    li a0, 4
    andi t0, s4, 4
    beqz t0, fail
    li a0, 0
fail:
    li a7, SYS_exit
    ecall
    .section .rodata
newline:
    .ascii "\n"
