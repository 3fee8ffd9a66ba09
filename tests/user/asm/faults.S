# argv[1][0] selects the fault: 's' load from NULL, 'w' store to the top of
# the address space, 'i' illegal instruction, 'b' ebreak, 'j' jump to NULL.
    .globl _start
_start:
    ld t0, 16(sp)           # argv[1]
    lbu t0, 0(t0)
    li t1, 's'
    beq t0, t1, load_null
    li t1, 'w'
    beq t0, t1, store_high
    li t1, 'i'
    beq t0, t1, illegal
    li t1, 'b'
    beq t0, t1, breakpoint
    li t1, 'j'
    beq t0, t1, jump_null
    li a0, 99
    li a7, 93
    ecall
load_null:
    ld a0, 0(zero)
store_high:
    li t0, -16
    sd zero, 0(t0)
illegal:
    .word 0
breakpoint:
    ebreak
jump_null:
    jr zero
