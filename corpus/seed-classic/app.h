#ifndef APP_H
#define APP_H
void need_fix_func(int times);
#endif
