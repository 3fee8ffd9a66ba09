/* A tiny harness for bare-metal privileged tests (assembly, via cpp).
 *
 * A program defines `test_main` (entered in M-mode with the trap handlers
 * installed) and ends with PASS, or FAIL n / CHECK n,... with a distinct n
 * per check: the run's exit status is n (0 is success).
 *
 * Traps: ARM label arms a one-shot resume point and clears the record; the
 * M or S handler (whichever the trap goes to) records cause, tval, epc, the
 * handling mode and the status register at entry in trap_info, then returns
 * with xret to the armed label in the trapped mode.  An unarmed trap fails
 * the run with 1000 + cause (2000 + number for interrupts).  Interrupt
 * handlers clear xie so the interrupt does not come straight back.
 *
 * t5, t6 belong to the harness; a6, a7 are clobbered by TO_M and FAIL.
 */
#define MSTATUS_SIE 0x2
#define MSTATUS_MIE 0x8
#define MSTATUS_SPIE 0x20
#define MSTATUS_MPIE 0x80
#define MSTATUS_SPP 0x100
#define MSTATUS_MPP 0x1800
#define MSTATUS_FS 0x6000
#define MSTATUS_MPRV 0x20000
#define MSTATUS_SUM 0x40000
#define MSTATUS_MXR 0x80000
#define MSTATUS_TVM 0x100000
#define MSTATUS_TW 0x200000
#define MSTATUS_TSR 0x400000
#define MSTATUS_SD 0x8000000000000000
#define INTERRUPT 0x8000000000000000

/* trap_info layout */
#define TI_CAUSE 0
#define TI_TVAL 8
#define TI_EPC 16
#define TI_MODE 24
#define TI_STATUS 32
#define TI_RESUME 40

#define HARNESS_TO_M -1
#define HARNESS_FAIL -2

/* --- checks --- */
.macro FAIL code
    li a0, \code
    j fail
.endm

.macro PASS
    li a0, 0
    j fail
.endm

/* reg == value (an immediate) */
.macro CHECK code, reg, value
    li t6, \value
    beq \reg, t6, 90f
    FAIL \code
90:
.endm

/* reg == address of label */
.macro CHECK_LABEL code, reg, label
    la t6, \label
    beq \reg, t6, 90f
    FAIL \code
90:
.endm

.macro CHECK_CSR code, csr, value
    csrr t5, \csr
    CHECK \code, t5, \value
.endm

/* --- traps --- */
.macro ARM resume
    la t5, trap_info
    la t6, \resume
    sd t6, TI_RESUME(t5)
    li t6, -1
    sd t6, TI_CAUSE(t5)
.endm

/* Load field `off` of the last trap's record into t5. */
.macro TRAP_FIELD off
    la t5, trap_info
    ld t5, \off(t5)
.endm

.macro CHECK_CAUSE code, cause
    TRAP_FIELD TI_CAUSE
    CHECK \code, t5, \cause
.endm

.macro CHECK_TVAL code, value
    TRAP_FIELD TI_TVAL
    CHECK \code, t5, \value
.endm

.macro CHECK_MODE code, mode
    TRAP_FIELD TI_MODE
    CHECK \code, t5, \mode
.endm

/* Run one instruction, which must trap with `cause` (to either handler). */
.macro EXPECT code, cause, insn:vararg
    ARM 91f
    \insn
91:
    CHECK_CAUSE \code, \cause
.endm

/* Run one instruction, which must not trap. */
.macro NO_TRAP code, insn:vararg
    ARM 91f
    \insn
91:
    CHECK_CAUSE \code, -1
.endm

/* --- privilege changes --- */
/* From M-mode: continue at the next instruction in `mode` (0 U, 1 S, 3 M). */
.macro GOTO_MODE mode
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    li t6, (\mode << 11)
    csrs mstatus, t6
    la t6, 92f
    csrw mepc, t6
    mret
92:
.endm

/* From any mode: continue at the next instruction in M-mode. */
.macro TO_M
    la a6, 93f
    li a7, HARNESS_TO_M
    ecall
93:
.endm

/* --- start-up, handlers, exit --- */
.section .text.init
.globl _start
_start:
    la t6, mtrap
    csrw mtvec, t6
    la t6, strap
    csrw stvec, t6
    la sp, stack_top
    j test_main

.text
fail:
    li a7, HARNESS_FAIL
    ecall

/* Shared by both handlers: t5 = trap_info, t6 = cause, a6/a7 untouched. */
.macro HANDLER x, mode
    csrr t6, \x\()cause
    bltz t6, 95f                    /* interrupt */
    li t5, 8
    bltu t6, t5, 96f
    li t5, 11
    bgtu t6, t5, 96f
    li t5, HARNESS_TO_M             /* ecall: harness requests first */
    beq a7, t5, 97f
    li t5, HARNESS_FAIL
    beq a7, t5, 98f
    j 96f
95: csrw \x\()ie, zero
96: la t5, trap_info
    sd t6, TI_CAUSE(t5)
    csrr t6, \x\()tval
    sd t6, TI_TVAL(t5)
    csrr t6, \x\()epc
    sd t6, TI_EPC(t5)
    li t6, \mode
    sd t6, TI_MODE(t5)
    csrr t6, \x\()status
    sd t6, TI_STATUS(t5)
    ld t6, TI_RESUME(t5)
    beqz t6, 99f
    sd zero, TI_RESUME(t5)
    csrw \x\()epc, t6
    \x\()ret
99: ld a0, TI_CAUSE(t5)             /* nothing armed: fail with the cause */
    li t6, 1000
    bgez a0, 94f
    slli a0, a0, 1
    srli a0, a0, 1
    li t6, 2000
94: add a0, a0, t6
    j fail
.endm

.align 2
mtrap:
    HANDLER m, 3
97: csrw mepc, a6                   /* TO_M: to M-mode, with MIE = 0 */
    li a7, 0
    li t6, MSTATUS_MPP
    csrs mstatus, t6
    li t6, MSTATUS_MPIE
    csrc mstatus, t6
    mret
98: li t6, MSTATUS_MPRV             /* FAIL: report a0 through tohost */
    csrc mstatus, t6
    slli a0, a0, 1
    ori a0, a0, 1
    la t5, tohost
    sd a0, 0(t5)
1:  j 1b

.align 2
strap:
    HANDLER s, 1
97:
98: ecall                           /* harness requests go on to M-mode */

.section .tohost, "aw", @progbits
.align 6
.globl tohost
tohost: .dword 0
.align 6
.globl fromhost
fromhost: .dword 0

.data
.align 4
trap_info: .fill 8, 8, 0
.align 12
stack: .fill 4096, 1, 0
stack_top:

.text
