/* A shop that embeds Lua 5.5: the pricing rules are a Lua script; every round the
   host calls its checkout(round) and prints what it returns. The script calls back
   into the host's discount(). On SIGUSR1 the seed's handler (corpus/common) loads
   ./patch.so and patches host_discount. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "upstream/lauxlib.h"
#include "upstream/lualib.h"

#include "host.h"
#include "hotfix.h"

static const char script[] =
    "local shelf = { apple = 1.20, bread = 3.50, cheese = 12.00, wine = 20.00 }\n"
    "local baskets = {\n"
    "  { 'apple', 'apple', 'bread' },\n"
    "  { 'cheese', 'wine' },\n"
    "  { 'bread', 'cheese', 'apple', 'wine', 'wine' },\n"
    "}\n"
    "function checkout(round)\n"
    "  local basket = baskets[round % #baskets + 1]\n"
    "  local total, names = 0, {}\n"
    "  for _, name in ipairs(basket) do\n"
    "    local percent = (name == 'wine') and 25 or 10\n"
    "    total = total + discount(shelf[name], percent)\n"
    "    names[#names + 1] = name\n"
    "  end\n"
    "  table.sort(names)\n"
    "  return string.format('round %d: %s = %.2f', round, table.concat(names, ','), total)\n"
    "end\n";

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_register(L, "discount", host_discount);
    if (luaL_dostring(L, script) != LUA_OK) {
        printf("script error: %s\n", lua_tostring(L, -1));
        return 1;
    }
    printf("%s\n", LUA_RELEASE);
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        lua_getglobal(L, "checkout");
        lua_pushinteger(L, i);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK)
            printf("round %d: error: %s\n", i, lua_tostring(L, -1));
        else
            printf("%s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        lua_gc(L, LUA_GCCOLLECT);
        usleep(10000);
    }
    lua_close(L);
    return 0;
}
