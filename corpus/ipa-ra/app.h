#ifndef APP_H
#define APP_H
struct machine {
    int state;
    int steps;
    int history[8];
};
int next_state(int state, int input);
void run_machine(struct machine *m, const int *inputs, int n);
#endif
