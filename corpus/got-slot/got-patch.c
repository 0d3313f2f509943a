/* The executable's own GOT patcher (seed 001's "modify the GOT" method): on
   SIGUSR1 dlopen ./patch.so, find this executable's GOT slot (JUMP_SLOT or
   GLOB_DAT) for
   compute_damage from its own dynamic section (__ehdr_start gives the load
   address, _DYNAMIC the relocations) and store the new address there.
   -DGOT_PATCH_NO_MPROTECT forgets that with -z relro -z now the GOT is
   read-only after start-up. */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "got-patch.h"

extern const ElfW(Ehdr) __ehdr_start;
extern ElfW(Dyn) _DYNAMIC[];

void **got_slot(const char *name)
{
    uintptr_t base = (uintptr_t)&__ehdr_start;
    const ElfW(Rela) *tables[2] = { NULL, NULL }; /* .rela.plt, .rela.dyn */
    size_t sizes[2] = { 0, 0 };
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    for (const ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
        /* ld.so rewrites these to run-time addresses; accept both forms. */
        uintptr_t p = d->d_un.d_ptr < base ? base + d->d_un.d_ptr : d->d_un.d_ptr;
        switch (d->d_tag) {
        case DT_JMPREL: tables[0] = (const ElfW(Rela) *)p; break;
        case DT_PLTRELSZ: sizes[0] = d->d_un.d_val; break;
        case DT_RELA: tables[1] = (const ElfW(Rela) *)p; break;
        case DT_RELASZ: sizes[1] = d->d_un.d_val; break;
        case DT_SYMTAB: symtab = (const ElfW(Sym) *)p; break;
        case DT_STRTAB: strtab = (const char *)p; break;
        }
    }
    if (symtab == NULL || strtab == NULL)
        return NULL;
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; tables[t] != NULL && i < sizes[t] / sizeof *tables[t]; i++) {
            const ElfW(Rela) *r = &tables[t][i];
            unsigned type = ELF64_R_TYPE(r->r_info);
            if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
                continue;
            if (strcmp(strtab + symtab[ELF64_R_SYM(r->r_info)].st_name, name) == 0)
                return (void **)(base + r->r_offset);
        }
    }
    return NULL;
}

int got_patch(const char *name, void *new_func)
{
    void **slot = got_slot(name);
    if (slot == NULL)
        return -1;
#ifndef GOT_PATCH_NO_MPROTECT
    long page_size = sysconf(_SC_PAGESIZE);
    void *page = (void *)((uintptr_t)slot & ~(uintptr_t)(page_size - 1));
    if (mprotect(page, (size_t)page_size, PROT_READ | PROT_WRITE) != 0) {
        perror("mprotect");
        return -1;
    }
#endif
    *slot = new_func;
#ifndef GOT_PATCH_NO_MPROTECT
    mprotect(page, (size_t)page_size, PROT_READ);
#endif
    return 0;
}

static void on_sigusr1(int signo)
{
    (void)signo;
    puts("do fix");
    void *patch = dlopen("./patch.so", RTLD_NOW);
    if (patch == NULL) {
        printf("dlopen failed: %s\n", dlerror());
        return;
    }
    void *fresh = dlsym(patch, "compute_damage");
    if (fresh == NULL) {
        printf("dlsym failed: %s\n", dlerror());
        return;
    }
    printf("fix result %d\n", got_patch("compute_damage", fresh));
}

void got_patch_install_handler(void)
{
    signal(SIGUSR1, on_sigusr1);
}
