/* The host function with the bug: it returns the amount taken off instead of
   the discounted price. Lua's VM calls it through its function pointer. */
#include "upstream/lauxlib.h"

#include "host.h"

__attribute__((noipa)) int host_discount(lua_State *L)
{
    lua_Number price = luaL_checknumber(L, 1);
    lua_Number percent = luaL_checknumber(L, 2);
    lua_pushnumber(L, price * percent / 100);
    return 1;
}
