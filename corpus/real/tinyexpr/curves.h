/* The functions the dashboard's expressions may call: the hot-fix target. */
#ifndef CURVES_H
#define CURVES_H

/* lerp(a, b, t): a at t = 0, b at t = 1. */
double lerp(double a, double b, double t);

#endif
