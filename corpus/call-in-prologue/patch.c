/* The fix: events are combined the other way round. */
#include <stdio.h>

#include "hotfix.h"

int wait_event(void);
int handle_events(void);

int fix_handle_events(void)
{
    int first = wait_event();
    int second = wait_event();
    puts("after fix: handle_events");
    return second * 100 + first;
}

struct fix_entry fix_table = { (void *)fix_handle_events, (void *)handle_events };
