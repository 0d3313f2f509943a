// The component server (seed 003's test.cpp): two version-1 objects called
// through their vtables, N times. On SIGUSR1 its handler loads ./patch.so (version
// 2) and hooks version 1's vtable with dynahook(vtbl, METHOD_COUNT, converter):
// each old object is converted on its first call, then runs version 2 forever.
// -DMETHOD_COUNT=3 counts one method too many; -DIMP1_FINAL makes Imp1 final, so
// calls on an Imp1* are direct calls that never read the vtable; -DSPECULATIVE_CALL
// calls hello through a speculatively devirtualised site. Both also call hello on o2
// through the interface (greet), where the compiler cannot know the type. -DWITH_MULTI
// also calls hello on a Multi (Imp1 its second base) through the interface: a thunk.
#include <csignal>
#include <cstdio>
#include <dlfcn.h>
#include <unistd.h>

#include "dynahook.h"
#include "hotfix.h"
#include "imp1.h"
#ifdef WITH_MULTI
#include "multi.h"
#endif

#ifndef METHOD_COUNT
#define METHOD_COUNT 2
#endif

static Imp1 *o1;
static Imp1 *o2;

static void on_sigusr1(int)
{
    std::puts("do fix");
    void *patch = dlopen("./patch.so", RTLD_NOW);
    if (patch == nullptr) {
        std::printf("dlopen failed: %s\n", dlerror());
        return;
    }
    converter_t converter = reinterpret_cast<converter_t>(dlsym(patch, "converter"));
    if (converter == nullptr) {
        std::printf("dlsym failed: %s\n", dlerror());
        return;
    }
    std::printf("fix result %d\n", dynahook(*reinterpret_cast<void ***>(o1), METHOD_COUNT, converter));
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    std::signal(SIGUSR1, on_sigusr1);
    o1 = static_cast<Imp1 *>(create_v1(1));
    o2 = static_cast<Imp1 *>(create_v1(2));
#ifdef WITH_MULTI
    // Called as a Multi (primary vtable: Multi::hello) and as the Component its Imp1 part is
    // (the pointer adjusted past Logger; secondary vtable: the thunk).
    Multi *multi = create_multi(3);
#endif
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            std::raise(SIGUSR1);
#ifdef SPECULATIVE_CALL
        hello_via_imp1(o1);
#else
        o1->hello();
#endif
        o2->foo();
#if defined(IMP1_FINAL) || defined(SPECULATIVE_CALL)
        greet(o2);
#endif
#ifdef WITH_MULTI
        multi->hello();
        greet(multi);
#endif
        usleep(10000);
    }
    return 0;
}
