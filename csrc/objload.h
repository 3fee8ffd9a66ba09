/* Loading LLVM's object code (ELF64 x86-64 relocatable) without LLVM.
 * Parsed by cffi too: declarations only. */
#ifndef BT_OBJLOAD_H
#define BT_OBJLOAD_H

#include <stdint.h>

typedef struct bt_object bt_object_t;

/* Load an object: its code executable, its data in place.  Undefined
 * symbols resolve to names[i] -> addrs[i] (i < n), else through the
 * process's libraries.  NULL with a message in err on any problem (a
 * malformed object, an unsupported relocation). */
bt_object_t *bt_obj_load(const uint8_t *data, uint64_t size, const char *const *names, const uint64_t *addrs,
                         uint64_t n, char *err, uint64_t errlen);
/* Address of a global symbol the object defines; 0 if none. */
uint64_t bt_obj_symbol(bt_object_t *o, const char *name);
/* Bytes of machine code (its text sections) the object holds. */
uint64_t bt_obj_code_size(bt_object_t *o);
void bt_obj_free(bt_object_t *o);

#endif
