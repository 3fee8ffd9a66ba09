/* Guest memory: translation (V2P), the physical map (P2M) and accesses. */
#include <string.h>
#include "bt.h"

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

int bt_translate(hart_t *h, uint64_t vaddr, uint64_t acc, uint64_t *paddr)
{
    (void)acc;
    *paddr = vaddr;
    return 0;
}

void bt_tlb_flush(hart_t *h)
{
    memset(h->tlb_load, 0xff, sizeof h->tlb_load);
    memset(h->tlb_store, 0xff, sizeof h->tlb_store);
    memset(h->tlb_fetch, 0xff, sizeof h->tlb_fetch);
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
                    h->exit_request = 1, h->exit_reason = EXIT_HALT;
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
            h->exit_request = 1;
            h->exit_reason = EXIT_MMIO_ERROR;
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
    if (h->reservation != ~0ULL && (vaddr & ~7ULL) <= h->reservation + 7 &&
        vaddr + size > (h->reservation & ~7ULL))
        h->reservation = ~0ULL; /* a store to the reserved bytes breaks LR/SC */
    return access(h, vaddr, size, ACC_STORE, &value);
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

uint64_t bt_lr(hart_t *h, uint64_t addr, uint64_t size)
{
    uint64_t v;
    if (addr & (size - 1)) {
        bt_raise(h, EXC_LOAD_MISALIGNED, addr);
        return 0;
    }
    if (access(h, addr, size, ACC_LOAD, &v))
        return 0;
    h->reservation = addr;
    return v;
}

uint64_t bt_sc(hart_t *h, uint64_t addr, uint64_t value, uint64_t size)
{
    uint64_t paddr;
    if (addr & (size - 1)) {
        bt_raise(h, EXC_STORE_MISALIGNED, addr);
        return 1;
    }
    if (h->reservation != addr) {
        h->reservation = ~0ULL;
        return 1;
    }
    h->reservation = ~0ULL;
    if (bt_translate(h, addr, ACC_STORE, &paddr))
        return 1;
    if (access(h, addr, size, ACC_STORE, &value))
        return 1;
    return 0;
}
