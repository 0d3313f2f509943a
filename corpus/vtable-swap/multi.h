/* Multiple inheritance: Imp1 is the second base, so Multi's override of hello() sits in
   Imp1-in-Multi's secondary vtable as a this-adjusting thunk (_ZThn16_N5Multi5helloEv).
   Its own header, so imp1.cpp's unit does not see a second override of hello() (which would
   stop g++ from devirtualising hello_via_imp1 speculatively). */
#ifndef VTABLE_SWAP_MULTI_H
#define VTABLE_SWAP_MULTI_H

#include "imp1.h"

struct Logger {
    virtual void log();
    int level = 0;
};

class Multi : public Logger, public Imp1 {
public:
    explicit Multi(int id) : Imp1(id) {}
    void hello() override;
};

/* A new Multi (opaque to callers: they cannot devirtualise). */
Multi *create_multi(int id);

#endif
