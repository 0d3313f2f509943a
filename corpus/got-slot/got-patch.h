#ifndef GOT_SLOT_GOT_PATCH_H
#define GOT_SLOT_GOT_PATCH_H

/* This executable's GOT slot (R_X86_64_JUMP_SLOT or R_X86_64_GLOB_DAT) for `name`, or NULL. */
void **got_slot(const char *name);

/* Store new_func in that slot (mprotect'ing its RELRO page unless built with
   -DGOT_PATCH_NO_MPROTECT). Returns 0 on success. */
int got_patch(const char *name, void *new_func);

/* SIGUSR1: dlopen ./patch.so, got_patch("compute_damage", its compute_damage). */
void got_patch_install_handler(void);

#endif
