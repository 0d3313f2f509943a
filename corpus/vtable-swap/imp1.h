/* Version 1 of the component (seed 003's nsImp1), built into main. Data behind
   a pointer, so a later version can convert objects in place. */
#ifndef VTABLE_SWAP_IMP1_H
#define VTABLE_SWAP_IMP1_H

#include "component.h"

#ifdef IMP1_FINAL
#define IMP1_FINAL_KEYWORD final
#else
#define IMP1_FINAL_KEYWORD
#endif

class Imp1 IMP1_FINAL_KEYWORD : public Component {
public:
    explicit Imp1(int id);
    void hello() override;
    void foo() override;

    struct data_t {
        int id;
        int a;
    };
    data_t *m_data;
};

/* A derived class that inherits hello(): its own vtable holds Imp1::hello too. */
#ifndef IMP1_FINAL
class Imp1Loud : public Imp1 {
public:
    explicit Imp1Loud(int id) : Imp1(id) {}
    void foo() override;
};
#endif

Component *create_v1(int id);
Component *create_v1_loud(int id);

/* A call on an Imp1* compiled next to Imp1::hello's body (speculatively devirtualised). */
void hello_via_imp1(Imp1 *object);

/* Calls through the interface, in a unit that cannot know the dynamic type. */
void greet(Component *object);

#endif
