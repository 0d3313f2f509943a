#include "hotfix.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef HOTFIX_PROTECT_PAGES
#define HOTFIX_PROTECT_PAGES 2
#endif

#ifdef HOTFIX_CALL_TRAMPOLINE
#define TRAMPOLINE_BRANCH_MODRM 0xd0 /* call rax: pushes a return address */
#else
#define TRAMPOLINE_BRANCH_MODRM 0xe0 /* jmp rax: the stack stays as the caller left it */
#endif

/* The trampoline's last two bytes, named so build.sh can check which form a
   binary writes. */
const unsigned char hotfix_trampoline_branch[2] = { 0xff, TRAMPOLINE_BRANCH_MODRM };

int scenario_iterations(int argc, char **argv)
{
    return argc > 1 ? atoi(argv[1]) : 6;
}

int scenario_raise_at(int argc, char **argv)
{
    return argc > 2 ? atoi(argv[2]) : -1;
}

void scenario_init_stdout(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

void *hotfix_load(const char *path)
{
    void *patch = dlopen(path, RTLD_NOW);
    if (patch == NULL)
        printf("dlopen failed: %s\n", dlerror());
    return patch;
}

int hotfix_apply(void *old_func, void *new_func)
{
    long page_size = sysconf(_SC_PAGESIZE);
    uintptr_t first_page = (uintptr_t)old_func & ~(uintptr_t)(page_size - 1);
    size_t protect_len = (size_t)page_size * HOTFIX_PROTECT_PAGES;
    unsigned char trampoline[TRAMPOLINE_SIZE];

    trampoline[0] = 0x48; /* REX.W */
    trampoline[1] = 0xb8; /* mov rax, imm64 */
    memcpy(&trampoline[2], &new_func, sizeof new_func);
    memcpy(&trampoline[10], hotfix_trampoline_branch, sizeof hotfix_trampoline_branch);

    if (mprotect((void *)first_page, protect_len, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
        perror("mprotect rwx");
        return -1;
    }
#ifdef HOTFIX_BYTE_LOOP
    /* One byte at a time, as a naive patcher copies: another thread can fetch half a jump. */
    for (size_t i = 0; i < sizeof trampoline; i++)
        ((volatile unsigned char *)old_func)[i] = trampoline[i];
#else
    memcpy(old_func, trampoline, sizeof trampoline);
#endif
    if (mprotect((void *)first_page, protect_len, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect rx");
        return -1;
    }
    return 0;
}
