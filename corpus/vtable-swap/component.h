/* The component interface (seed 003's nsIBase): callers use objects only through
   it, so every call on an object goes through its class's virtual table. */
#ifndef VTABLE_SWAP_COMPONENT_H
#define VTABLE_SWAP_COMPONENT_H

struct Component {
    virtual void hello() = 0;
    virtual void foo() = 0;
};

/* Converts an object of the old version in place (new vtable pointer, new data). */
typedef void (*converter_t)(Component *object);

#endif
