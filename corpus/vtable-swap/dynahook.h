/* Seed 003's dynahook(p_old_vtbl, method_count, converter): point the first
   method_count slots of an old class's vtable at generated hook stubs; a stub
   converts the object (converter(this)), then jumps to the same method in the
   object's new vtable. */
#ifndef VTABLE_SWAP_DYNAHOOK_H
#define VTABLE_SWAP_DYNAHOOK_H

#include "component.h"

/* The bytes of one stub, named so build.sh can check which form a binary writes. */
extern const unsigned char dynahook_stub_template[];
extern const unsigned dynahook_stub_size;

/* Returns 0 on success. */
int dynahook(void **p_old_vtbl, int method_count, converter_t converter);

#endif
