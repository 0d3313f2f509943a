#include <cstdio>

#include "multi.h"

void Logger::log()
{
    std::printf("log level %d\n", level);
}

void Multi::hello()
{
    std::printf("obj %d multi hello a=%d\n", m_data->id, m_data->a);
}

Multi *create_multi(int id)
{
    return new Multi(id);
}
