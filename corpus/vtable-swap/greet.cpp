#include "component.h"

void greet(Component *object)
{
    object->hello();
}
