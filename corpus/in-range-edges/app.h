#ifndef APP_H
#define APP_H
long abs_scale(int x);
long pc_base(void);
#endif
