/* Loading the machine code LLVM compiled (ELF64 x86-64 relocatable objects,
 * the form the disk cache keeps) without LLVM: a warm run never loads the
 * LLVM library.  Sections are laid out in one mapping (code, read-only
 * data, writable data, each on pages of its own), relocations applied,
 * symbols resolved by a table of the core's functions, then libc's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "objload.h"

#define PAGE 4096ULL

struct bt_object {
    uint8_t *base;       /* the mapping */
    uint64_t size;
    uint8_t *image;      /* a copy of the object: its symbol and string tables */
    uint64_t image_size;
    const Elf64_Sym *syms;
    uint64_t nsyms;
    const char *strtab;
    uint64_t strtab_size;
    uint64_t *section_addr; /* per section: where it was placed (0: not loaded) */
    uint64_t *section_size;
    uint64_t nsec;
    uint64_t code_size;  /* bytes of code (the first area) */
};

static int fail(char *err, uint64_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return 1;
}

static int in_image(const bt_object_t *o, uint64_t off, uint64_t len)
{
    return off <= o->image_size && len <= o->image_size - off;
}

/* Which area a loaded section goes to: 0 code, 1 read-only data, 2 writable data. */
static int area_of(const Elf64_Shdr *s)
{
    if (s->sh_flags & SHF_EXECINSTR)
        return 0;
    return (s->sh_flags & SHF_WRITE) || s->sh_type == SHT_NOBITS ? 2 : 1;
}

static int loaded(const Elf64_Shdr *s, const char *name)
{
    /* Unwind tables are left out: nothing unwinds through generated code. */
    return (s->sh_flags & SHF_ALLOC) && (s->sh_type == SHT_PROGBITS || s->sh_type == SHT_NOBITS)
        && strcmp(name, ".eh_frame") != 0;
}

static uint64_t resolve(const char *name, const char *const *names, const uint64_t *addrs, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return addrs[i];
    return (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, name);   /* libc, libm (memcpy, fma...) */
}

static int symbol_value(bt_object_t *o, uint64_t index, const char *const *names, const uint64_t *addrs, uint64_t n,
                        uint64_t *value, char *err, uint64_t errlen)
{
    if (index >= o->nsyms)
        return fail(err, errlen, "symbol %llu out of range", (unsigned long long)index);
    const Elf64_Sym *s = &o->syms[index];
    if (s->st_shndx == SHN_UNDEF) {
        if (s->st_name >= o->strtab_size)
            return fail(err, errlen, "bad symbol name");
        const char *name = o->strtab + s->st_name;
        if (!memchr(name, 0, o->strtab_size - s->st_name))
            return fail(err, errlen, "bad symbol name");
        *value = resolve(name, names, addrs, n);
        return *value ? 0 : fail(err, errlen, "undefined symbol %s", name);
    }
    if (s->st_shndx == SHN_ABS) {
        *value = s->st_value;
        return 0;
    }
    if (s->st_shndx >= o->nsec || !o->section_addr[s->st_shndx])
        return fail(err, errlen, "symbol in a section not loaded");
    if (s->st_value > o->section_size[s->st_shndx])
        return fail(err, errlen, "symbol outside its section");
    *value = o->section_addr[s->st_shndx] + s->st_value;
    return 0;
}

static int relocate(bt_object_t *o, const Elf64_Shdr *sh, const Elf64_Shdr *rel,
                    const char *const *names, const uint64_t *addrs, uint64_t n, char *err, uint64_t errlen)
{
    const Elf64_Shdr *target = &sh[rel->sh_info];
    uint64_t where = o->section_addr[rel->sh_info];
    uint64_t count = rel->sh_size / sizeof(Elf64_Rela);
    if (rel->sh_entsize != sizeof(Elf64_Rela) || !in_image(o, rel->sh_offset, rel->sh_size))
        return fail(err, errlen, "bad relocation section");
    const Elf64_Rela *r = (const Elf64_Rela *)(o->image + rel->sh_offset);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t type = ELF64_R_TYPE(r[i].r_info), s;
        uint64_t width = type == R_X86_64_64 || type == R_X86_64_PC64 ? 8 : 4;
        if (r[i].r_offset > target->sh_size || width > target->sh_size - r[i].r_offset)
            return fail(err, errlen, "relocation outside its section");
        if (symbol_value(o, ELF64_R_SYM(r[i].r_info), names, addrs, n, &s, err, errlen))
            return 1;
        uint64_t p = where + r[i].r_offset;
        uint64_t v = s + (uint64_t)r[i].r_addend;
        int64_t pcrel = (int64_t)(v - p);
        switch (type) {
        case R_X86_64_64:
            memcpy((void *)(uintptr_t)p, &v, 8);
            break;
        case R_X86_64_PC64:
            memcpy((void *)(uintptr_t)p, &pcrel, 8);
            break;
        case R_X86_64_PC32:
        case R_X86_64_PLT32: {
            if (pcrel != (int32_t)pcrel)
                return fail(err, errlen, "pc-relative relocation out of range");
            int32_t v32 = (int32_t)pcrel;
            memcpy((void *)(uintptr_t)p, &v32, 4);
            break;
        }
        case R_X86_64_32:
        case R_X86_64_32S: {
            if (type == R_X86_64_32 ? v != (uint32_t)v : (int64_t)v != (int32_t)v)
                return fail(err, errlen, "32-bit relocation out of range");
            uint32_t v32 = (uint32_t)v;
            memcpy((void *)(uintptr_t)p, &v32, 4);
            break;
        }
        default:
            return fail(err, errlen, "unsupported relocation type %llu", (unsigned long long)type);
        }
    }
    return 0;
}

/* Place the loaded sections: each area starts on a page, sections aligned within. */
static int lay_out(bt_object_t *o, const Elf64_Shdr *sh, uint64_t nsec, const char *shstr, uint64_t shstr_size,
                   uint64_t area_start[3], uint64_t *total, char *err, uint64_t errlen)
{
    uint64_t end[3] = {0, 0, 0};
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t i = 0; i < nsec; i++) {
            if (sh[i].sh_name >= shstr_size)
                return fail(err, errlen, "bad section name");
            if (!loaded(&sh[i], shstr + sh[i].sh_name))
                continue;
            int a = area_of(&sh[i]);
            uint64_t align = sh[i].sh_addralign ? sh[i].sh_addralign : 1;
            if (align & (align - 1) || align > PAGE || sh[i].sh_size > (1ULL << 30))
                return fail(err, errlen, "bad section size or alignment");
            if (sh[i].sh_type != SHT_NOBITS && !in_image(o, sh[i].sh_offset, sh[i].sh_size))
                return fail(err, errlen, "section outside the object");
            uint64_t at = (end[a] + align - 1) & ~(align - 1);
            end[a] = at + sh[i].sh_size;
            if (pass == 1) {
                o->section_addr[i] = (uint64_t)(uintptr_t)o->base + area_start[a] + at;
                o->section_size[i] = sh[i].sh_size;
            }
        }
        if (pass == 0) {
            o->code_size = end[0];
            area_start[0] = 0;
            area_start[1] = (end[0] + PAGE - 1) & ~(PAGE - 1);
            area_start[2] = area_start[1] + ((end[1] + PAGE - 1) & ~(PAGE - 1));
            *total = area_start[2] + ((end[2] + PAGE - 1) & ~(PAGE - 1));
            if (!*total)
                return fail(err, errlen, "nothing to load");
            o->base = mmap(0, *total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (o->base == MAP_FAILED) {
                o->base = 0;
                return fail(err, errlen, "out of memory");
            }
            o->size = *total;
            end[0] = end[1] = end[2] = 0;
        }
    }
    return 0;
}

static int load(bt_object_t *o, const char *const *names, const uint64_t *addrs, uint64_t n,
                char *err, uint64_t errlen)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)o->image;
    if (o->image_size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64
        || eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_type != ET_REL || eh->e_machine != EM_X86_64
        || eh->e_shentsize != sizeof(Elf64_Shdr))
        return fail(err, errlen, "not an x86-64 relocatable ELF object");
    uint64_t nsec = eh->e_shnum;
    if (!nsec || !in_image(o, eh->e_shoff, nsec * sizeof(Elf64_Shdr)) || eh->e_shstrndx >= nsec)
        return fail(err, errlen, "bad section headers");
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(o->image + eh->e_shoff);
    const Elf64_Shdr *ss = &sh[eh->e_shstrndx];
    if (!in_image(o, ss->sh_offset, ss->sh_size) || !ss->sh_size || o->image[ss->sh_offset + ss->sh_size - 1])
        return fail(err, errlen, "bad section names");
    const char *shstr = (const char *)o->image + ss->sh_offset;
    o->section_addr = calloc(nsec, sizeof *o->section_addr);
    o->section_size = calloc(nsec, sizeof *o->section_size);
    o->nsec = nsec;
    if (!o->section_addr || !o->section_size)
        return fail(err, errlen, "out of memory");
    for (uint64_t i = 0; i < nsec; i++) {
        if (sh[i].sh_type != SHT_SYMTAB)
            continue;
        if (sh[i].sh_entsize != sizeof(Elf64_Sym) || !in_image(o, sh[i].sh_offset, sh[i].sh_size)
            || sh[i].sh_link >= nsec || !in_image(o, sh[sh[i].sh_link].sh_offset, sh[sh[i].sh_link].sh_size))
            return fail(err, errlen, "bad symbol table");
        o->syms = (const Elf64_Sym *)(o->image + sh[i].sh_offset);
        o->nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
        o->strtab = (const char *)o->image + sh[sh[i].sh_link].sh_offset;
        o->strtab_size = sh[sh[i].sh_link].sh_size;
    }
    if (!o->syms || !o->strtab_size || o->strtab[o->strtab_size - 1])
        return fail(err, errlen, "no symbol table");
    uint64_t area[3], total;
    if (lay_out(o, sh, nsec, shstr, ss->sh_size, area, &total, err, errlen))
        return 1;
    for (uint64_t i = 0; i < nsec; i++)
        if (o->section_addr[i] && sh[i].sh_type == SHT_PROGBITS)
            memcpy((void *)(uintptr_t)o->section_addr[i], o->image + sh[i].sh_offset, sh[i].sh_size);
    for (uint64_t i = 0; i < nsec; i++)
        if (sh[i].sh_type == SHT_RELA && sh[i].sh_info < nsec && o->section_addr[sh[i].sh_info]
            && relocate(o, sh, &sh[i], names, addrs, n, err, errlen))
            return 1;
    if (mprotect(o->base, area[1], PROT_READ | PROT_EXEC)
        || mprotect(o->base + area[1], area[2] - area[1], PROT_READ))
        return fail(err, errlen, "cannot make the code executable");
    return 0;
}

bt_object_t *bt_obj_load(const uint8_t *data, uint64_t size, const char *const *names, const uint64_t *addrs,
                         uint64_t n, char *err, uint64_t errlen)
{
    bt_object_t *o = calloc(1, sizeof *o);
    if (!o) {
        fail(err, errlen, "out of memory");
        return 0;
    }
    o->image = malloc(size ? size : 1);
    o->image_size = size;
    if (!o->image) {
        fail(err, errlen, "out of memory");
        free(o);
        return 0;
    }
    memcpy(o->image, data, size);
    if (load(o, names, addrs, n, err, errlen)) {
        bt_obj_free(o);
        return 0;
    }
    return o;
}

uint64_t bt_obj_symbol(bt_object_t *o, const char *name)
{
    for (uint64_t i = 0; i < o->nsyms; i++) {
        const Elf64_Sym *s = &o->syms[i];
        if (s->st_shndx == SHN_UNDEF || s->st_shndx >= o->nsec || ELF64_ST_BIND(s->st_info) == STB_LOCAL
            || s->st_name >= o->strtab_size || strcmp(o->strtab + s->st_name, name) != 0)
            continue;
        if (!o->section_addr[s->st_shndx] || s->st_value >= o->section_size[s->st_shndx])
            return 0;   /* (a function or datum lies inside its section) */
        return o->section_addr[s->st_shndx] + s->st_value;
    }
    return 0;
}

uint64_t bt_obj_code_size(bt_object_t *o)
{
    return o->code_size;
}

void bt_obj_free(bt_object_t *o)
{
    if (!o)
        return;
    if (o->base)
        munmap(o->base, o->size);
    free(o->section_addr);
    free(o->section_size);
    free(o->image);
    free(o);
}
