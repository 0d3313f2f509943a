/* The hot fix: return the price after the discount. host_discount is an undefined
   reference here, bound at dlopen time to the running copy in main (-rdynamic);
   the Lua API calls bind to main's copy of Lua. */
#include "upstream/lauxlib.h"

#include "host.h"
#include "hotfix.h"

int host_discount_fixed(lua_State *L)
{
    lua_Number price = luaL_checknumber(L, 1);
    lua_Number percent = luaL_checknumber(L, 2);
    lua_pushnumber(L, price * (100 - percent) / 100);
    return 1;
}

struct fix_entry fix_table = { (void *)host_discount_fixed, (void *)host_discount };
