/* Output through the HTIF write system call and the UART, exit through
 * the HTIF exit system call. */
#include "harness.h"

#define UART 0x10000000

test_main:
    /* magic_mem = {64 (write), fd 1, buf, len} */
    la s0, magic_mem
    li t0, 64
    sd t0, 0(s0)
    li t0, 1
    sd t0, 8(s0)
    la t0, message
    sd t0, 16(s0)
    li t0, 11
    sd t0, 24(s0)
    la s1, tohost
    sd s0, 0(s1)
    la s2, fromhost
1:  ld t0, 0(s2)
    beqz t0, 1b
    ld t0, 0(s0)                     /* the result: bytes written */
    CHECK 1, t0, 11
    ld t0, 0(s1)                     /* the host cleared tohost */
    CHECK 2, t0, 0
    /* a write from outside RAM gives -EFAULT */
    sd zero, 0(s2)
    li t0, 64                        /* the result replaced the number */
    sd t0, 0(s0)
    li t0, 0x1000
    sd t0, 16(s0)
    sd s0, 0(s1)
1:  ld t0, 0(s2)
    beqz t0, 1b
    ld t0, 0(s0)
    CHECK 3, t0, -14
    /* the UART: poll LSR.THRE, write THR */
    li s3, UART
    la s4, uart_message
2:  lbu t1, 0(s4)
    beqz t1, 3f
1:  lbu t0, 5(s3)
    andi t0, t0, 0x20
    beqz t0, 1b
    sb t1, 0(s3)
    addi s4, s4, 1
    j 2b
3:  /* exit(7) through the system-call block */
    li t0, 93
    sd t0, 0(s0)
    li t0, 7
    sd t0, 8(s0)
    sd s0, 0(s1)
    FAIL 4

.data
.align 6
magic_mem: .fill 8, 8, 0
message: .ascii "hello htif\n"
uart_message: .asciz "uart ok\n"
