/* A target that is a GNU indirect function: the symbol's value is the resolver; callers
   (and dlsym) get the implementation it selects. */
#include <stdio.h>

__attribute__((noinline)) static int target_generic(int x) { volatile int v = x; return v * 3 + 1; }
__attribute__((noinline)) static int target_fast(int x) { volatile int v = x; return v * 3 + 1; }

static int (*resolve_target(void))(int) {
    /* What a real resolver decides from CPU features; here always the generic one. */
    return target_generic;
    (void)target_fast;
}

int target(int x) __attribute__((ifunc("resolve_target")));

int main(void) {
    int sum = 0;
    for (int i = 0; i < 3; i++) sum += target(i);
    printf("sum %d\n", sum);
    return 0;
}
