/* Pre-decoding in C: on a miss, the fast tier fills the entries of the
 * straight-line run at the pc itself, from tables derived from the ISA
 * description (bt_vmm/engines/fast/decodetab.py) instead of returning to
 * Python.  A word the tables leave out (a specialised handler, a field that
 * does not fit its slot, a reserved-encoding check they cannot express, an
 * illegal word) ends the run there; Python decodes it when the loop gets
 * to it.  Parsed by cffi too. */
#ifndef BT_PREDECODE_H
#define BT_PREDECODE_H

#include "fastinterp.h"

#define FI_DEC_FIELDS 5      /* operand fields of a spec, at most */
#define FI_DEC_SEGMENTS 4    /* bit ranges of a field, at most */
#define FI_DEC_BUCKETS 1024  /* candidates by opcode | funct3 << 7, as Python's decoder */
#define FI_DEC_NONE 255
#define FI_DEC_RUN 64        /* instructions pre-decoded per miss, at most */

typedef struct {
    uint8_t nsegs, is_signed, width, is_wide, slot;
    uint8_t segs[FI_DEC_SEGMENTS][3];   /* word bits [0]..[1] hold value bits [2].. */
} fi_dec_field_t;

typedef struct {
    uint32_t mask, match;
    uint64_t fn;           /* the generic handler; 0: Python decodes the word */
    uint8_t ends;          /* ends a pre-decoded run (ends_block) */
    uint8_t nfields;
    uint8_t valid_field;   /* the field valid_values checks, or FI_DEC_NONE */
    uint64_t valid_values; /* bit v: the field's value v is a valid encoding */
    fi_dec_field_t fields[FI_DEC_FIELDS];   /* in the order of the spec's operands, each naming its slot */
} fi_dec_spec_t;

typedef struct fi_decoder {
    fi_dec_spec_t *specs;
    uint16_t *bucket_start;   /* FI_DEC_BUCKETS + 1 offsets into bucket_specs */
    uint16_t *bucket_specs;   /* spec indices, most specific first */
    uint32_t *expand;         /* 65536: a 16-bit word's 32-bit expansion (0: Python) */
} fi_decoder_t;

/* Pre-decode the run at pc: the instructions filled, 0 if the first one
 * needs Python. */
int fi_predecode(fi_ctx_t *c, hart_t *h, uint64_t pc);

#endif
