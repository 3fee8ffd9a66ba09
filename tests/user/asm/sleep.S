# nanosleep({1000 s, 0}): only --timeout or Ctrl-C ends this run.
    .section .rodata
    .balign 8
request:
    .dword 1000, 0
    .text
    .globl _start
_start:
    la a0, request
    li a1, 0
    li a7, 101
    ecall
    li a7, 93
    ecall
