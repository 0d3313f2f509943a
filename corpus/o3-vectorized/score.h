#ifndef SCORE_H
#define SCORE_H
/* Damage of one volley: sum over the units of base * multiplier. */
int volley_damage(const int *base, const int *multiplier, int units);
#endif
