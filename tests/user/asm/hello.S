# write(1, msg, len); exit(7) -- RV64I only, no libc.
    .equ SYS_write, 64
    .equ SYS_exit, 93
    .section .rodata
msg:
    .ascii "hello from asm\n"
    .text
    .globl _start
_start:
    li a0, 1
    la a1, msg
    li a2, 15               # strlen(msg)
    li a7, SYS_write
    ecall
    li a0, 7
    li a7, SYS_exit
    ecall
