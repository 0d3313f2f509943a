/* The field's in-process patcher (see corpus/README.md): dlopen the patch,
   make the page(s) under the old function's first bytes writable, write a
   12-byte jump over its prologue, restore R-X. Scenarios compile this file
   with different -D options to reproduce the patcher mistakes they show. */
#ifndef CORPUS_HOTFIX_H
#define CORPUS_HOTFIX_H

/* Exported by patch.so: where the fixed function is and which one it replaces. */
struct fix_entry {
    void *new_func;
    void *old_func;
};

/* movabs rax, imm64 (10 bytes) + jmp rax (2 bytes). */
#define TRAMPOLINE_SIZE 12

/* Iteration count (argv[1], default 6) and the iteration at which the program
   raises SIGUSR1 itself (argv[2], default: never), so native runs need no timing. */
int scenario_iterations(int argc, char **argv);
int scenario_raise_at(int argc, char **argv);

/* Line-buffered stdout: output survives a crash when stdout is a pipe. */
void scenario_init_stdout(void);

/* dlopen("./patch.so", RTLD_NOW); prints dlerror() and returns 0 on failure. */
void *hotfix_load(const char *path);

/* Overwrite old_func's first TRAMPOLINE_SIZE bytes with a jump to new_func.
   Pages made writable: HOTFIX_PROTECT_PAGES (default 2, as the seed articles do).
   With -DHOTFIX_CALL_TRAMPOLINE the last two bytes are `call rax` (ff d0)
   instead of `jmp rax` (ff e0); with -DHOTFIX_BYTE_LOOP the bytes are stored one at a
   time (a torn write for a thread running the function meanwhile). Returns 0 on success. */
int hotfix_apply(void *old_func, void *new_func);

/* Install the seed's SIGUSR1 handler (fix-table-handler.c): load ./patch.so,
   read its exported fix_table, hotfix_apply(old, new), print "fix result N". */
void hotfix_install_handler(void);

#endif
