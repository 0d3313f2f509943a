/* lerp with the bug: it runs from b to a (the weights are swapped). tinyexpr calls
   it through the function pointer bound in main's te_variable table. */
#include "curves.h"

__attribute__((noipa)) double lerp(double a, double b, double t)
{
    return a + (b - a) * (1 - t);
}
