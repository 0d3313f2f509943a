#include <cstdio>

#include "imp1.h"

Imp1::Imp1(int id) : m_data(new data_t{id, 2008}) {}

void Imp1::hello()
{
    std::printf("obj %d version 1 hello a=%d\n", m_data->id, m_data->a);
}

void Imp1::foo()
{
    std::printf("obj %d version 1 foo a=%d\n", m_data->id, m_data->a);
}

#ifndef IMP1_FINAL
void Imp1Loud::foo()
{
    std::printf("obj %d version 1 FOO a=%d\n", m_data->id, m_data->a);
}
#endif

// Sees Imp1::hello's body: g++ -O2 devirtualises speculatively (compares the
// slot with Imp1::hello, runs the inlined body when equal, else calls the slot).
void hello_via_imp1(Imp1 *object)
{
    object->hello();
}

Component *create_v1(int id)
{
    return new Imp1(id);
}

Component *create_v1_loud(int id)
{
#ifdef IMP1_FINAL
    return new Imp1(id);
#else
    return new Imp1Loud(id);
#endif
}
