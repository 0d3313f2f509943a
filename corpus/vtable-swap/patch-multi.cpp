// patch-multi.so: a fixed Multi::hello for a patcher that swaps it. MultiFixed has Multi's
// bases, so g++ emits the matching this-adjusting thunk (_ZThn16_N10MultiFixed5helloEv) for
// Imp1-in-MultiFixed's vtable. Its own patch: it needs Logger's typeinfo, which only
// main-multi defines.
#include <cstdio>

#include "multi.h"

class MultiFixed : public Logger, public Imp1 {
public:
    void hello() override;
};

void MultiFixed::hello()
{
    std::printf("obj %d multi fixed hello a=%d\n", m_data->id, m_data->a);
}
