/* The host functions the embedded Lua scripts call. */
#ifndef HOST_H
#define HOST_H

#include "upstream/lua.h"

/* Lua: discount(price, percent) -> the price after taking percent off. */
int host_discount(lua_State *L);

#endif
