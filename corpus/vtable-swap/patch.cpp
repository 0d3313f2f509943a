// patch.so: version 2 of the component (seed 003's nsImp2) with its converter,
// and Imp1Fixed, a fixed hello() for version-1 objects (same layout as Imp1) for
// a patcher that only swaps the method.
#include <cstdio>
#include <new>

#include "imp1.h"

class Imp2 : public Component {
public:
    struct data_t {
        int id;
        int a;
        int b;
    };
    explicit Imp2(data_t *data) : m_data(data) {}
    void hello() override;
    void foo() override;
    data_t *m_data;
};

void Imp2::hello()
{
    std::printf("obj %d version 2 hello a=%d b=%d\n", m_data->id, m_data->a, m_data->b);
}

void Imp2::foo()
{
    std::printf("obj %d version 2 foo a=%d b=%d\n", m_data->id, m_data->a, m_data->b);
}

static_assert(sizeof(Imp2) == sizeof(Imp1), "converted in place");

extern "C" void converter(Component *object)
{
    Imp1::data_t *old = static_cast<Imp1 *>(object)->m_data;
    std::printf("convert object %d from version 1 to 2\n", old->id);
    new (object) Imp2(new Imp2::data_t{old->id, old->a, 77});
}

class Imp1Fixed : public Component {
public:
    void hello() override;
    void foo() override;
    Imp1::data_t *m_data;
};

void Imp1Fixed::hello()
{
    std::printf("obj %d version 1.1 hello a=%d\n", m_data->id, m_data->a);
}

void Imp1Fixed::foo()
{
    std::printf("obj %d version 1.1 foo a=%d\n", m_data->id, m_data->a);
}

// Emit Imp1Fixed's vtable and methods: nothing constructs one, the patcher takes its methods.
extern "C" Component *make_imp1_fixed()
{
    return new Imp1Fixed();
}
