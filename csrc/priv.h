/* Bit layouts of the privileged architecture shared by the C core files
 * (privileged spec, chapter 3), and the core's internal entry points.
 * Parsed by cffi as well: integer #defines and declarations only. */
#ifndef BT_PRIV_H
#define BT_PRIV_H

#include "bt.h"

/* mstatus / sstatus */
#define MSTATUS_SIE 0x2
#define MSTATUS_MIE 0x8
#define MSTATUS_SPIE 0x20
#define MSTATUS_UBE 0x40
#define MSTATUS_MPIE 0x80
#define MSTATUS_SPP 0x100
#define MSTATUS_VS 0x600
#define MSTATUS_MPP 0x1800
#define MSTATUS_FS 0x6000
#define MSTATUS_XS 0x18000
#define MSTATUS_MPRV 0x20000
#define MSTATUS_SUM 0x40000
#define MSTATUS_MXR 0x80000
#define MSTATUS_TVM 0x100000
#define MSTATUS_TW 0x200000
#define MSTATUS_TSR 0x400000
#define MSTATUS_UXL 0x300000000
#define MSTATUS_SD 0x8000000000000000
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_SPP_SHIFT 8

/* interrupt numbers and their mip/mie bits */
#define IRQ_S_SOFT 1
#define IRQ_M_SOFT 3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7
#define IRQ_S_EXT 9
#define IRQ_M_EXT 11
#define MIP_SSIP 0x2
#define MIP_MSIP 0x8
#define MIP_STIP 0x20
#define MIP_MTIP 0x80
#define MIP_SEIP 0x200
#define MIP_MEIP 0x800

/* satp modes */
#define SATP_MODE_BARE 0
#define SATP_MODE_SV39 8
#define SATP_MODE_SV48 9
#define SATP_ASID_SHIFT 44

/* page-table entry bits */
#define PTE_V 0x1
#define PTE_R 0x2
#define PTE_W 0x4
#define PTE_X 0x8
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80

/* Flush the TLB when the translation context (privilege, satp mode, the
 * mstatus bits translation depends on) differs from the one it was filled
 * under.  Called after every change of those. */
void bt_mmu_sync(hart_t *h);

#endif
