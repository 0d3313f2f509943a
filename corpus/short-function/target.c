/* Two tiny accessors, emitted in this order. The build compiles this file
   twice: once packed (-falign-functions=1, get_bonus starts right after
   get_level) and once with the default 16-byte alignment (padding follows). */
int player_level = 3;
int bonus_points = 7;

__attribute__((noipa)) int get_level(void)
{
    return player_level;
}

__attribute__((noipa)) int get_bonus(void)
{
    return bonus_points;
}
