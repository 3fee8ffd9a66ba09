/* Pre-decoding in C from the ISA description's tables (see predecode.h). */
#include <string.h>
#include "predecode.h"

static const fi_dec_spec_t *match_spec(const fi_decoder_t *d, uint32_t word)
{
    uint32_t bucket = (word & 0x7F) | ((word >> 5) & 0x380);
    for (uint32_t i = d->bucket_start[bucket]; i < d->bucket_start[bucket + 1]; i++) {
        const fi_dec_spec_t *s = &d->specs[d->bucket_specs[i]];
        if ((word & s->mask) == s->match)
            return s;
    }
    return 0;
}

static int64_t extract(const fi_dec_field_t *f, uint32_t word)
{
    uint64_t value = 0;
    for (int i = 0; i < f->nsegs; i++) {
        const uint8_t *seg = f->segs[i];
        uint64_t bits = (word >> seg[1]) & ((1ULL << (seg[0] - seg[1] + 1)) - 1);
        value |= bits << seg[2];
    }
    if (f->is_signed && (value >> (f->width - 1)) & 1)
        value -= 1ULL << f->width;
    return (int64_t)value;
}

/* The fields of word into e's slots; 0 if one does not fit or the
 * encoding is reserved (Python then decides). */
static int fill_fields(const fi_dec_spec_t *s, uint32_t word, fi_entry_t *e)
{
    for (int i = 0; i < s->nfields; i++) {
        const fi_dec_field_t *f = &s->fields[i];
        int64_t v = extract(f, word);
        if (i == s->valid_field && (v < 0 || v >= 64 || !((s->valid_values >> v) & 1)))
            return 0;
        if (f->is_wide) {
            if (v < INT32_MIN || v > INT32_MAX)
                return 0;
            e->wide[f->slot] = (int32_t)v;
        } else {
            if (v < 0 || v > 255)
                return 0;
            e->small[f->slot] = (uint8_t)v;
        }
    }
    return 1;
}

int fi_predecode(fi_ctx_t *c, hart_t *h, uint64_t pc)
{
    const fi_decoder_t *d = c->decoder;
    uint64_t off;
    if (!d || fi_pc_offset(h, pc, &off))
        return 0;
    uint64_t page_end = (off | 4095) + 1;
    if (page_end > h->ram_size)
        page_end = h->ram_size;   /* (a last page RAM fills in part) */
    int n = 0;
    while (n < FI_DEC_RUN && off + 2 <= page_end) {
        const uint8_t *p = h->ram + off;
        uint32_t raw = p[0] | (uint32_t)p[1] << 8, word = raw, length = 2;
        if ((raw & 3) == 3) {
            if (off + 4 > page_end)
                break;   /* crosses a page: each half may map elsewhere */
            raw |= (uint32_t)(p[2] | p[3] << 8) << 16;
            word = raw, length = 4;
        } else if (!(word = d->expand[raw])) {
            break;
        }
        const fi_dec_spec_t *s = match_spec(d, word);
        fi_entry_t fields = {0};
        if (!s || !s->fn || !fill_fields(s, word, &fields))
            break;
        fi_entry_t *e = fi_entry(c, off);
        if (!e)
            break;
        e->raw = raw, e->length = (uint8_t)length;
        memcpy(e->small, fields.small, sizeof e->small);
        memcpy(e->wide, fields.wide, sizeof e->wide);
        __atomic_store_n(&e->fn, s->fn, __ATOMIC_RELEASE);   /* last: a filled fn means a whole entry */
        n++;
        off += length;
        if (s->ends)
            break;
    }
    c->stat_decoded += n;
    return n;
}
