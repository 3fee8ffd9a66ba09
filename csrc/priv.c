/* CSRs and privileged instructions (privileged spec, chapters 2-3).  Where
 * the spec leaves a choice (WARL values, which bits exist), QEMU's virt
 * machine is followed. */
#include "priv.h"

enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_CYCLE = 0xC00, CSR_TIME = 0xC01, CSR_INSTRET = 0xC02, CSR_HPMCOUNTER31 = 0xC1F,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106,
    CSR_SENVCFG = 0x10A, CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142,
    CSR_STVAL = 0x143, CSR_SIP = 0x144, CSR_SATP = 0x180,
    CSR_MVENDORID = 0xF11, CSR_MARCHID = 0xF12, CSR_MIMPID = 0xF13, CSR_MHARTID = 0xF14,
    CSR_MCONFIGPTR = 0xF15,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303,
    CSR_MIE = 0x304, CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30A,
    CSR_MCOUNTINHIBIT = 0x320, CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33F,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342, CSR_MTVAL = 0x343,
    CSR_MIP = 0x344,
    CSR_PMPCFG0 = 0x3A0, CSR_PMPCFG15 = 0x3AF, CSR_PMPADDR0 = 0x3B0, CSR_PMPADDR63 = 0x3EF,
    CSR_MCYCLE = 0xB00, CSR_MINSTRET = 0xB02, CSR_MHPMCOUNTER3 = 0xB03, CSR_MHPMCOUNTER31 = 0xB1F,
};

#define MSTATUS_WMASK (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | \
                       MSTATUS_MPP | MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | \
                       MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
#define SSTATUS_RMASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | \
                       MSTATUS_FS | MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | \
                       MSTATUS_SD)
#define SSTATUS_WMASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | \
                       MSTATUS_MXR)
#define S_INTERRUPTS (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define MIE_WMASK (S_INTERRUPTS | MIP_MSIP | MIP_MTIP | MIP_MEIP)
/* Every exception but ecall from M (read-only zero) and the reserved numbers. */
#define MEDELEG_WMASK 0xB3FFULL
#define ENVCFG_FIOM 0x1ULL
#define COUNTINHIBIT_WMASK 0xFFFFFFFDULL   /* TM does not exist */
#define PMPADDR_WMASK ((1ULL << 54) - 1)
#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_TOR 0x08
#define PMP_A 0x18
#define PMP_L 0x80
#define PMPCFG_WMASK 0x9F                  /* bits 6:5 are reserved */

static void illegal(hart_t *h)
{
    bt_raise(h, EXC_ILLEGAL_INSN, h->insn_bits);
}

/* --- counters: the engine counts minstret; the CSRs are views of it --- */

enum { CTR_CY = 0, CTR_TM = 1, CTR_IR = 2 };

static uint64_t *counter_delta(hart_t *h, int which)
{
    return which == CTR_CY ? &h->cycle_delta : &h->instret_delta;
}

static int inhibited(hart_t *h, int which)
{
    return (h->mcountinhibit >> which) & 1;
}

static uint64_t counter_read(hart_t *h, int which)
{
    uint64_t d = *counter_delta(h, which);
    return inhibited(h, which) ? d : h->minstret + d;
}

/* A write by an instruction replaces that instruction's own increment, which
 * the engine adds when it retires: hence `retiring`. */
static void counter_write(hart_t *h, int which, uint64_t v, int retiring)
{
    *counter_delta(h, which) = inhibited(h, which) ? v : v - h->minstret - retiring;
}

static void countinhibit_write(hart_t *h, uint64_t v)
{
    uint64_t cy = counter_read(h, CTR_CY), ir = counter_read(h, CTR_IR);
    h->mcountinhibit = v & COUNTINHIBIT_WMASK;
    counter_write(h, CTR_CY, cy, 0);
    counter_write(h, CTR_IR, ir, 0);
}

static int counter_enabled(hart_t *h, uint64_t index)
{
    if (h->priv == PRV_M)
        return 1;
    if (!((h->mcounteren >> index) & 1))
        return 0;
    return h->priv == PRV_S || ((h->scounteren >> index) & 1);
}

/* --- status and interrupt registers --- */

/* SD is derived from FS on every read: a stored SD bit is never trusted. */
static uint64_t mstatus_read(hart_t *h)
{
    uint64_t s = h->mstatus & ~MSTATUS_SD;
    return (s & MSTATUS_FS) == MSTATUS_FS ? s | MSTATUS_SD : s;
}

static void mstatus_write(hart_t *h, uint64_t v)
{
    uint64_t mask = MSTATUS_WMASK;
    if (((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
        mask &= ~(uint64_t)MSTATUS_MPP; /* reserved mode: MPP keeps its value */
    h->mstatus = (h->mstatus & ~mask) | (v & mask);
    bt_mmu_sync(h);
}

static uint64_t mip_read(hart_t *h)
{
    return bt_mtime(h) >= h->mtimecmp ? h->mip | MIP_MTIP : h->mip;
}

static void masked_write(uint64_t *reg, uint64_t mask, uint64_t v)
{
    *reg = (*reg & ~mask) | (v & mask);
}

static void fs_dirty(hart_t *h)
{
    h->mstatus |= MSTATUS_FS;
}

static void tvec_write(uint64_t *tvec, uint64_t v)
{
    if ((v & 3) < 2) /* modes 2 and 3 are reserved: the write is ignored */
        *tvec = v;
}

static void satp_write(hart_t *h, uint64_t v)
{
    uint64_t mode = v >> 60;
    if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39 && mode != SATP_MODE_SV48)
        return; /* unsupported mode: the whole write is ignored */
    uint64_t old = h->satp;
    h->satp = v;
    bt_mmu_sync(h); /* a new mode: everything goes */
    /* Another address space (ASID or root table): its mappings apply at
     * once, so those of the old one go; global ones stay, being the same
     * in every address space. */
    if (v != old)
        bt_tlb_flush_some(h, TLB_ALL_PAGES, (old >> SATP_ASID_SHIFT) & TLB_TAG_ASID_MASK);
}

/* --- PMP: WARL storage, not enforced --- */

static uint64_t pmp_cfg(hart_t *h, uint64_t entry)
{
    return (h->pmpcfg[(entry / 8) * 2] >> (8 * (entry % 8))) & 0xff;
}

static void pmpcfg_write(hart_t *h, uint64_t index, uint64_t v)
{
    uint64_t out = 0;
    for (uint64_t i = 0; i < 8; i++) {
        uint64_t old = (h->pmpcfg[index] >> (8 * i)) & 0xff, b = (v >> (8 * i)) & PMPCFG_WMASK;
        if ((b & (PMP_R | PMP_W)) == PMP_W)
            b &= ~(uint64_t)PMP_W; /* R=0 W=1 is reserved */
        out |= (old & PMP_L ? old : b) << (8 * i);
    }
    h->pmpcfg[index] = out;
}

static void pmpaddr_write(hart_t *h, uint64_t entry, uint64_t v)
{
    int locked = pmp_cfg(h, entry) & PMP_L;
    if (entry + 1 < 64) {
        uint64_t next = pmp_cfg(h, entry + 1);
        locked |= (next & PMP_L) && (next & PMP_A) == PMP_TOR;
    }
    if (!locked)
        h->pmpaddr[entry] = v & PMPADDR_WMASK;
}

/* --- the CSR file --- */

static int csr_read(hart_t *h, uint64_t csr, uint64_t *v)
{
    switch (csr) {
    case CSR_FFLAGS: *v = h->fflags; return 0;
    case CSR_FRM: *v = h->frm; return 0;
    case CSR_FCSR: *v = h->frm << 5 | h->fflags; return 0;
    case CSR_CYCLE: case CSR_MCYCLE: *v = counter_read(h, CTR_CY); return 0;
    case CSR_INSTRET: case CSR_MINSTRET: *v = counter_read(h, CTR_IR); return 0;
    case CSR_TIME: *v = bt_mtime(h); return 0;
    case CSR_SSTATUS: *v = mstatus_read(h) & SSTATUS_RMASK; return 0;
    case CSR_SIE: *v = h->mie & h->mideleg; return 0;
    case CSR_STVEC: *v = h->stvec; return 0;
    case CSR_SCOUNTEREN: *v = h->scounteren; return 0;
    case CSR_SENVCFG: *v = h->senvcfg; return 0;
    case CSR_SSCRATCH: *v = h->sscratch; return 0;
    case CSR_SEPC: *v = h->sepc; return 0;
    case CSR_SCAUSE: *v = h->scause; return 0;
    case CSR_STVAL: *v = h->stval; return 0;
    case CSR_SIP: *v = mip_read(h) & h->mideleg; return 0;
    case CSR_SATP: *v = h->satp; return 0;
    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MCONFIGPTR: *v = 0; return 0;
    case CSR_MHARTID: *v = h->mhartid; return 0;
    case CSR_MSTATUS: *v = mstatus_read(h); return 0;
    case CSR_MISA: *v = h->misa; return 0;
    case CSR_MEDELEG: *v = h->medeleg; return 0;
    case CSR_MIDELEG: *v = h->mideleg; return 0;
    case CSR_MIE: *v = h->mie; return 0;
    case CSR_MTVEC: *v = h->mtvec; return 0;
    case CSR_MCOUNTEREN: *v = h->mcounteren; return 0;
    case CSR_MENVCFG: *v = h->menvcfg; return 0;
    case CSR_MCOUNTINHIBIT: *v = h->mcountinhibit; return 0;
    case CSR_MSCRATCH: *v = h->mscratch; return 0;
    case CSR_MEPC: *v = h->mepc; return 0;
    case CSR_MCAUSE: *v = h->mcause; return 0;
    case CSR_MTVAL: *v = h->mtval; return 0;
    case CSR_MIP: *v = mip_read(h); return 0;
    }
    if ((csr > CSR_INSTRET && csr <= CSR_HPMCOUNTER31) ||
        (csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
        (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31)) {
        *v = 0; /* no performance events are counted */
        return 0;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15 && !(csr & 1)) {
        *v = h->pmpcfg[csr - CSR_PMPCFG0];
        return 0;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
        *v = h->pmpaddr[csr - CSR_PMPADDR0];
        return 0;
    }
    return -1;
}

static int csr_write(hart_t *h, uint64_t csr, uint64_t v, int retiring)
{
    switch (csr) {
    case CSR_FFLAGS: h->fflags = v & 0x1f; fs_dirty(h); return 0;
    case CSR_FRM: h->frm = v & 7; fs_dirty(h); return 0;
    case CSR_FCSR: h->fflags = v & 0x1f; h->frm = (v >> 5) & 7; fs_dirty(h); return 0;
    case CSR_MCYCLE: counter_write(h, CTR_CY, v, retiring); return 0;
    case CSR_MINSTRET: counter_write(h, CTR_IR, v, retiring); return 0;
    case CSR_SSTATUS: mstatus_write(h, (h->mstatus & ~SSTATUS_WMASK) | (v & SSTATUS_WMASK)); return 0;
    case CSR_SIE: masked_write(&h->mie, h->mideleg & S_INTERRUPTS, v); return 0;
    case CSR_STVEC: tvec_write(&h->stvec, v); return 0;
    case CSR_SCOUNTEREN: h->scounteren = v & 0xffffffff; return 0;
    case CSR_SENVCFG: h->senvcfg = v & ENVCFG_FIOM; return 0;
    case CSR_SSCRATCH: h->sscratch = v; return 0;
    case CSR_SEPC: h->sepc = v & ~1ULL; return 0;
    case CSR_SCAUSE: h->scause = v; return 0;
    case CSR_STVAL: h->stval = v; return 0;
    case CSR_SIP: masked_write(&h->mip, h->mideleg & MIP_SSIP, v); return 0;
    case CSR_SATP: satp_write(h, v); return 0;
    case CSR_MSTATUS: mstatus_write(h, v); return 0;
    case CSR_MISA: return 0; /* WARL: the extensions cannot be switched off */
    case CSR_MEDELEG: h->medeleg = v & MEDELEG_WMASK; return 0;
    case CSR_MIDELEG: h->mideleg = v & S_INTERRUPTS; return 0;
    case CSR_MIE: h->mie = v & MIE_WMASK; return 0;
    case CSR_MTVEC: tvec_write(&h->mtvec, v); return 0;
    case CSR_MCOUNTEREN: h->mcounteren = v & 0xffffffff; return 0;
    case CSR_MENVCFG: h->menvcfg = v & ENVCFG_FIOM; return 0;
    case CSR_MCOUNTINHIBIT: countinhibit_write(h, v); return 0;
    case CSR_MSCRATCH: h->mscratch = v; return 0;
    case CSR_MEPC: h->mepc = v & ~1ULL; return 0;
    case CSR_MCAUSE: h->mcause = v; return 0;
    case CSR_MTVAL: h->mtval = v; return 0;
    /* MSIP, MTIP and MEIP belong to the CLINT and the PLIC */
    case CSR_MIP: masked_write(&h->mip, S_INTERRUPTS, v); return 0;
    }
    if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
        (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31))
        return 0;
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15 && !(csr & 1)) {
        pmpcfg_write(h, csr - CSR_PMPCFG0, v);
        return 0;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
        pmpaddr_write(h, csr - CSR_PMPADDR0, v);
        return 0;
    }
    return -1;
}

/* The access checks that come before the CSR's own behaviour. */
static int csr_allowed(hart_t *h, uint64_t csr, int write)
{
    if (((csr >> 8) & 3) > h->priv)
        return 0;
    if (write && (csr >> 10) == 3)
        return 0; /* read-only by number */
    if (csr >= CSR_FFLAGS && csr <= CSR_FCSR)
        return (h->mstatus & MSTATUS_FS) != 0;
    if (csr >= CSR_CYCLE && csr <= CSR_HPMCOUNTER31)
        return counter_enabled(h, csr - CSR_CYCLE);
    if (csr == CSR_SATP)
        return !(h->priv == PRV_S && (h->mstatus & MSTATUS_TVM));
    return 1;
}

uint64_t bt_csr(hart_t *h, uint64_t csr, uint64_t kind, uint64_t operand, uint64_t flags)
{
    int write = (flags & 2) != 0;
    uint64_t old;
    if (!csr_allowed(h, csr, write) || csr_read(h, csr, &old)) {
        illegal(h);
        return 0;
    }
    if (write) {
        uint64_t v = kind == 0 ? operand : kind == 1 ? old | operand : old & ~operand;
        csr_write(h, csr, v, 1);
    }
    return old;
}

int bt_csr_peek(hart_t *h, uint64_t csr, uint64_t *out)
{
    return csr_read(h, csr, out);
}

int bt_csr_poke(hart_t *h, uint64_t csr, uint64_t value)
{
    return csr_write(h, csr, value, 0);
}

/* --- privileged instructions --- */

uint64_t bt_mret(hart_t *h)
{
    if (h->priv != PRV_M) {
        illegal(h);
        return 0;
    }
    uint64_t s = h->mstatus, mpp = (s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
    s = (s & ~(uint64_t)(MSTATUS_MIE | MSTATUS_MPP)) | MSTATUS_MPIE;
    if (h->mstatus & MSTATUS_MPIE)
        s |= MSTATUS_MIE;
    if (mpp != PRV_M)
        s &= ~(uint64_t)MSTATUS_MPRV;
    h->mstatus = s;
    h->priv = mpp;
    bt_mmu_sync(h);
    return h->mepc;
}

uint64_t bt_sret(hart_t *h)
{
    if (h->priv == PRV_U || (h->priv == PRV_S && (h->mstatus & MSTATUS_TSR))) {
        illegal(h);
        return 0;
    }
    uint64_t s = h->mstatus, spp = (s & MSTATUS_SPP) >> MSTATUS_SPP_SHIFT;
    s = (s & ~(uint64_t)(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | MSTATUS_SPIE;
    if (h->mstatus & MSTATUS_SPIE)
        s |= MSTATUS_SIE;
    h->mstatus = s;
    h->priv = spp;
    bt_mmu_sync(h);
    return h->sepc;
}

uint64_t bt_wfi(hart_t *h)
{
    /* As QEMU: illegal in U-mode, and in S-mode under TW; otherwise a nop
     * (the engine checks interrupts before the next instruction anyway). */
    if (h->priv == PRV_U || (h->priv == PRV_S && (h->mstatus & MSTATUS_TW)))
        illegal(h);
    return 0;
}

uint64_t bt_sfence_vma(hart_t *h, uint64_t vaddr, uint64_t asid, uint64_t flags)
{
    if (h->priv == PRV_U || (h->priv == PRV_S && (h->mstatus & MSTATUS_TVM))) {
        illegal(h);
        return 0;
    }
    /* flags bit 0: rs1 != x0, one address (every piece of its superpage);
     * bit 1: rs2 != x0, that ASID's own mappings (global ones stay). */
    bt_tlb_flush_some(h, flags & 1 ? vaddr >> 12 : TLB_ALL_PAGES,
                      flags & 2 ? asid & TLB_TAG_ASID_MASK : TLB_ALL_SPACES);
    return 0;
}

uint64_t bt_fence_i(hart_t *h)
{
    h->code_epoch++; /* every tier holding code sees it and drops that code */
    return 0;
}
