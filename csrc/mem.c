/* Guest memory: translation (V2P), the physical map (P2M) and accesses. */
#include <string.h>
#include "priv.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096ULL
#define PAGE_MASK 4095ULL
#define PPN_MASK ((1ULL << 44) - 1)

/* Python callbacks (extern "Python+C", csrc/build_ffi.py): a device access,
 * and the --trace mmu report of a page walk (fault_cause 0: success). */
int bt_mmio(hart_t *h, uint64_t paddr, uint64_t size, uint64_t is_write, uint64_t *value);
void bt_trace_walk(hart_t *h, uint64_t vaddr, uint64_t acc, uint64_t paddr, uint64_t fault_cause);

uint8_t *bt_ram_ptr(hart_t *h, uint64_t paddr, uint64_t n)
{
    /* Written so that no sum can wrap: paddr - base is only formed once
     * paddr >= base is known. */
    if (paddr < h->ram_base || n > h->ram_size)
        return 0;
    uint64_t off = paddr - h->ram_base;
    if (off > h->ram_size - n || paddr < h->ram_low_guard)
        return 0;
    return h->ram + off;
}

static uint64_t fault_cause(uint64_t acc, int page_fault)
{
    static const uint64_t access[] = {EXC_LOAD_ACCESS, EXC_STORE_ACCESS, EXC_INSN_ACCESS};
    static const uint64_t page[] = {EXC_LOAD_PAGE_FAULT, EXC_STORE_PAGE_FAULT, EXC_INSN_PAGE_FAULT};
    return page_fault ? page[acc] : access[acc];
}

/* --- the V2M TLB --- */

static tlb_entry_t *tlb_for(hart_t *h, uint64_t acc)
{
    return acc == ACC_STORE ? h->tlb_store : acc == ACC_FETCH ? h->tlb_fetch : h->tlb_load;
}

static uint8_t *tlb_lookup(hart_t *h, uint64_t vaddr, uint64_t acc)
{
    uint64_t vpn = vaddr >> PAGE_SHIFT;
    tlb_entry_t *e = &tlb_for(h, acc)[vpn % TLB_SIZE];
    if ((e->page & ~TLB_WATCHED) != (vaddr & ~PAGE_MASK)) {
        h->stat_tlb_misses++;
        return 0;
    }
    h->stat_tlb_hits++;
    return (uint8_t *)(uintptr_t)(vaddr + e->addend);
}

/* Cache a translation, but only of a whole RAM page, and never the page of
 * tohost for stores: a hit must be a plain host access with nothing to check.
 * ``tag``: the entry's tlb_tag (ASID, G, leaf level). */
static void tlb_fill(hart_t *h, uint64_t vaddr, uint64_t paddr, uint64_t acc, uint32_t tag)
{
    uint64_t ppage = paddr & ~PAGE_MASK;
    uint8_t *host = bt_ram_ptr(h, ppage, PAGE_SIZE);
    if (!host)
        return;
    if (acc == ACC_STORE && h->tohost_addr && ppage <= h->tohost_addr + 7 &&
        h->tohost_addr < ppage + PAGE_SIZE)
        return;
    uint64_t vpn = vaddr >> PAGE_SHIFT;
    tlb_entry_t *e = &tlb_for(h, acc)[vpn % TLB_SIZE];
    e->page = vpn << PAGE_SHIFT;
    if (acc == ACC_STORE && h->watch && h->watch[(ppage - h->ram_base) >> PAGE_SHIFT])
        e->page |= TLB_WATCHED;
    e->addend = (uint64_t)(uintptr_t)host - (vpn << PAGE_SHIFT);
    h->tlb_tag[acc][vpn % TLB_SIZE] = tag;
}

void bt_tlb_flush(hart_t *h)
{
    h->tlb_epoch++;
    memset(h->tlb_load, 0xff, sizeof h->tlb_load);
    memset(h->tlb_store, 0xff, sizeof h->tlb_store);
    memset(h->tlb_fetch, 0xff, sizeof h->tlb_fetch);
}

/* Does the entry (tag) translate page vpn (TLB_ALL_PAGES: any) of address
 * space asid (TLB_ALL_SPACES: any, global mappings included; otherwise only
 * that ASID's own mappings, never a global one)?  A piece of a superpage
 * answers for every page of the superpage. */
static int tlb_matches(uint64_t entry_vpn, uint32_t tag, uint64_t vpn, uint64_t asid)
{
    if (asid != TLB_ALL_SPACES && ((tag & TLB_TAG_GLOBAL) || (tag & TLB_TAG_ASID_MASK) != asid))
        return 0;
    return vpn == TLB_ALL_PAGES || ((entry_vpn ^ vpn) >> (9 * (tag >> TLB_TAG_LEVEL_SHIFT))) == 0;
}

void bt_tlb_flush_some(hart_t *h, uint64_t vpn, uint64_t asid)
{
    if (vpn == TLB_ALL_PAGES && asid == TLB_ALL_SPACES) {
        bt_tlb_flush(h);
        return;
    }
    h->tlb_epoch++;
    for (uint64_t acc = ACC_LOAD; acc <= ACC_FETCH; acc++) {
        tlb_entry_t *t = tlb_for(h, acc);
        for (int i = 0; i < TLB_SIZE; i++)
            if (t[i].page != ~0ULL && tlb_matches(t[i].page >> PAGE_SHIFT, h->tlb_tag[acc][i], vpn, asid))
                t[i].page = ~0ULL;
    }
}

/* --- translation (V2P): Sv39 and Sv48 page walks --- */

/* The privilege an access is checked and translated with: loads and stores
 * in M-mode use MPP when MPRV is set. */
static uint64_t effective_priv(hart_t *h, uint64_t acc)
{
    if (h->priv == PRV_M && acc != ACC_FETCH && (h->mstatus & MSTATUS_MPRV))
        return (h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
    return h->priv;
}

static int leaf_permits(hart_t *h, uint64_t pte, uint64_t acc, uint64_t priv)
{
    if (priv == PRV_U && !(pte & PTE_U))
        return 0;
    if (priv == PRV_S && (pte & PTE_U) && (acc == ACC_FETCH || !(h->mstatus & MSTATUS_SUM)))
        return 0;
    if (acc == ACC_FETCH)
        return (pte & PTE_X) != 0;
    if (acc == ACC_STORE)
        return (pte & PTE_W) != 0;
    return (pte & PTE_R) || ((h->mstatus & MSTATUS_MXR) && (pte & PTE_X));
}

/* Walk the guest page table; 0 with *paddr and *tag (the TLB tag of the
 * mapping) set, or the fault cause. */
static uint64_t walk(hart_t *h, uint64_t vaddr, uint64_t acc, uint64_t priv, uint64_t *paddr, uint32_t *tag)
{
    uint32_t global = 0; /* G in a pointer PTE makes everything below it global */
    int levels = (h->satp >> 60) == SATP_MODE_SV48 ? 4 : 3;
    int va_bits = PAGE_SHIFT + 9 * levels;
    if ((uint64_t)((int64_t)(vaddr << (64 - va_bits)) >> (64 - va_bits)) != vaddr)
        return fault_cause(acc, 1); /* not sign-extended: non-canonical */
    uint64_t table = (h->satp & PPN_MASK) << PAGE_SHIFT;
    for (int level = levels - 1; level >= 0; level--) {
        int shift = PAGE_SHIFT + 9 * level;
        uint8_t *p = bt_ram_ptr(h, table + ((vaddr >> shift) & 511) * 8, 8);
        if (!p)
            return fault_cause(acc, 0);
        uint64_t pte;
        memcpy(&pte, p, 8);
        /* Svpbmt/Svnapot are absent, so bits 63:54 are reserved. */
        if (!(pte & PTE_V) || (pte & PTE_W && !(pte & PTE_R)) || (pte >> 54))
            return fault_cause(acc, 1);
        uint64_t ppn = (pte >> 10) & PPN_MASK;
        if (pte & PTE_G)
            global = TLB_TAG_GLOBAL;
        if (!(pte & (PTE_R | PTE_X))) {
            /* Pointer to the next level: A, D, U are reserved here (as QEMU). */
            if (level == 0 || (pte & (PTE_A | PTE_D | PTE_U)))
                return fault_cause(acc, 1);
            table = ppn << PAGE_SHIFT;
            continue;
        }
        uint64_t low = (1ULL << (9 * level)) - 1; /* PPN bits a superpage takes from vaddr */
        if ((ppn & low) || !leaf_permits(h, pte, acc, priv))
            return fault_cause(acc, 1);
        /* QEMU sets A and D in hardware rather than faulting (no Svade). */
        uint64_t ad = PTE_A | (acc == ACC_STORE ? PTE_D : 0);
        if ((pte & ad) != ad) {
            pte |= ad;
            memcpy(p, &pte, 8);
        }
        *paddr = ((ppn & ~low) << PAGE_SHIFT) | (vaddr & ((1ULL << shift) - 1));
        *tag = global | (uint32_t)level << TLB_TAG_LEVEL_SHIFT |
               ((h->satp >> SATP_ASID_SHIFT) & TLB_TAG_ASID_MASK);
        return 0;
    }
    return fault_cause(acc, 1); /* not reached: level 0 always ends the walk */
}

int bt_translate(hart_t *h, uint64_t vaddr, uint64_t acc, uint64_t *paddr)
{
    uint64_t priv = effective_priv(h, acc);
    uint32_t tag = TLB_TAG_GLOBAL; /* the identity: no page table, no address space */
    if (h->machine_kind == MACHINE_USER || priv == PRV_M || (h->satp >> 60) == SATP_MODE_BARE) {
        *paddr = vaddr;
    } else {
        uint64_t cause = walk(h, vaddr, acc, priv, paddr, &tag);
        if (h->trace_mmu)
            bt_trace_walk(h, vaddr, acc, cause ? 0 : *paddr, cause);
        if (cause) {
            bt_raise(h, cause, vaddr);
            return -1;
        }
    }
    tlb_fill(h, vaddr, *paddr, acc, tag);
    return 0;
}

static uint64_t read_le(const uint8_t *p, uint64_t size)
{
    uint64_t v = 0;
    memcpy(&v, p, size); /* x86-64 and RISC-V are both little-endian */
    return v;
}

/* Physical access of one naturally contained unit: RAM or a device. */
static int phys_access(hart_t *h, uint64_t paddr, uint64_t size, uint64_t acc, uint64_t *value)
{
    uint8_t *p = bt_ram_ptr(h, paddr, size);
    if (p) {
        if (acc == ACC_STORE) {
            memcpy(p, value, size);
            if (h->tohost_addr && paddr <= h->tohost_addr + 7 && paddr + size > h->tohost_addr) {
                h->tohost_value = read_le(bt_ram_ptr(h, h->tohost_addr, 8), 8);
                if (h->tohost_value)
                    bt_stop(h, EXIT_HALT);
            }
        } else {
            *value = read_le(p, size);
        }
        return 0;
    }
    if (acc != ACC_FETCH && h->machine_kind == MACHINE_SYSTEM) {
        h->stat_mmio++;
        int r = bt_mmio(h, paddr, size, acc == ACC_STORE, value);
        if (r == 0)
            return 0;
        if (r == 2) { /* the device model itself failed: stop the run */
            bt_stop(h, EXIT_MMIO_ERROR);
            return -1;
        }
    }
    return -1;
}

/* An access that may be misaligned or cross a page: split into bytes when
 * it does not fit one aligned unit (QEMU's virt board allows misaligned
 * scalar accesses, so we do too). */
static int access(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t acc, uint64_t *value)
{
    uint64_t paddr;
    if ((vaddr & (size - 1)) == 0) {
        uint8_t *host = tlb_lookup(h, vaddr, acc);
        if (host) {
            if (acc == ACC_STORE)
                memcpy(host, value, size);
            else
                *value = read_le(host, size);
            return 0;
        }
        if (bt_translate(h, vaddr, acc, &paddr))
            return -1;
        if (phys_access(h, paddr, size, acc, value)) {
            if (!h->exc_pending && h->exit_reason != EXIT_MMIO_ERROR)
                bt_raise(h, fault_cause(acc, 0), vaddr);
            return -1;
        }
        return 0;
    }
    /* Translate every byte before touching any, so a fault leaves memory unchanged. */
    uint64_t pa[8];
    for (uint64_t i = 0; i < size; i++)
        if (bt_translate(h, vaddr + i, acc, &pa[i]))
            return -1;
    for (uint64_t i = 0; i < size; i++)
        if (!bt_ram_ptr(h, pa[i], 1)) {
            bt_raise(h, fault_cause(acc, 0), vaddr);
            return -1;
        }
    uint64_t v = acc == ACC_STORE ? *value : 0;
    for (uint64_t i = 0; i < size; i++) {
        uint64_t byte = (v >> (8 * i)) & 0xff;
        phys_access(h, pa[i], 1, acc, &byte);
        if (acc != ACC_STORE)
            v |= byte << (8 * i);
    }
    *value = v;
    return 0;
}

int bt_load(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t *out)
{
    return access(h, vaddr, size, ACC_LOAD, out);
}

int bt_load_for_store(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t *out)
{
    /* AMOs: misaligned is a store/AMO fault; permissions are those of a store. */
    uint64_t paddr;
    if (vaddr & (size - 1)) {
        bt_raise(h, EXC_STORE_MISALIGNED, vaddr);
        return -1;
    }
    if (bt_translate(h, vaddr, ACC_STORE, &paddr))
        return -1;
    if (phys_access(h, paddr, size, ACC_LOAD, out)) {
        bt_raise(h, EXC_STORE_ACCESS, vaddr);
        return -1;
    }
    return 0;
}

int bt_store(hart_t *h, uint64_t vaddr, uint64_t size, uint64_t value)
{
    return access(h, vaddr, size, ACC_STORE, &value);
}

void bt_watch(hart_t *h, uint64_t page, uint64_t bits)
{
    if (!h->watch[page]) {   /* stores to it from generated code must miss now */
        uint64_t host = (uint64_t)(uintptr_t)h->ram + (page << PAGE_SHIFT);
        for (int i = 0; i < TLB_SIZE; i++) {
            tlb_entry_t *e = &h->tlb_store[i];
            if (e->page != ~0ULL && (e->page & ~TLB_WATCHED) + e->addend == host)
                e->page = ~0ULL;
        }
    }
    h->watch[page] |= (uint8_t)bits;
    if (h->store_floor && h->ram_base + (page << PAGE_SHIFT) + PAGE_SIZE > h->store_floor)
        h->store_floor = 0;
}

int bt_fetch(hart_t *h, uint64_t vaddr, uint64_t *out)
{
    uint64_t lo, hi;
    if (access(h, vaddr, 2, ACC_FETCH, &lo))
        return -1;
    if ((lo & 3) != 3) {
        *out = lo;
        return 0;
    }
    if (access(h, vaddr + 2, 2, ACC_FETCH, &hi))
        return -1;
    *out = lo | (hi << 16);
    return 0;
}

/* LR/SC.  The reservation is the address LR read and the value it read
 * there: SC succeeds when it stores to that address and memory still holds
 * that value (a store in between that changed it, from this hart or any
 * other agent, makes it fail; one that left the value as it was need not,
 * the spec leaves SC free to succeed or fail then).  So no other store has
 * anything to check: translated stores go straight to memory. */
uint64_t bt_lr(hart_t *h, uint64_t addr, uint64_t size)
{
    uint64_t v;
    if (addr & (size - 1)) {
        bt_raise(h, EXC_LOAD_MISALIGNED, addr);
        return 0;
    }
    if (access(h, addr, size, ACC_LOAD, &v))
        return 0;
    h->reservation = addr, h->reserved_value = v, h->reserved_size = size;
    return v;
}

uint64_t bt_sc(hart_t *h, uint64_t addr, uint64_t value, uint64_t size)
{
    if (addr & (size - 1)) {
        bt_raise(h, EXC_STORE_MISALIGNED, addr);
        return 1;
    }
    uint64_t reserved = h->reservation, now;
    h->reservation = ~0ULL;
    if (reserved != addr)
        return 1;
    /* (read with the store's permissions: a fault is the store's) */
    if (bt_load_for_store(h, addr, h->reserved_size, &now) || now != h->reserved_value)
        return 1;
    if (access(h, addr, size, ACC_STORE, &value))
        return 1;
    uint64_t paddr = addr;
    if (h->machine_kind == MACHINE_SYSTEM && bt_translate(h, addr, ACC_STORE, &paddr))
        h->exc_pending = 0; /* cannot happen: the store just succeeded */
    else
        bt_wrote(h, paddr, size);
    return 0;
}

void bt_wrote(hart_t *h, uint64_t paddr, uint64_t size)
{
    if (!size || !h->watch || paddr < h->ram_base || paddr - h->ram_base >= h->ram_size)
        return;
    uint64_t off = paddr - h->ram_base;
    uint64_t last = size > h->ram_size - off ? h->ram_size - 1 : off + size - 1;
    for (uint64_t page = off >> 12; page <= last >> 12; page++)
        if (h->watch[page]) {
            h->code_epoch++;
            return;
        }
}
