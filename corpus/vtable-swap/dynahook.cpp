/* dynahook for x86-64. The correct stub keeps `this` and the other argument
   registers across the converter call and calls it with rsp 16-byte aligned.
   -DHOOK_THIS_ON_STACK writes the seed's i386 stub translated word for word: it
   reads `this` from the stack, where x86-64 never passes it. */
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include "dynahook.h"

enum { STUB_SPACING = 64 };

#ifndef HOOK_THIS_ON_STACK
/* Offsets of the fields dynahook fills in. */
enum { CONVERTER_AT = 14, METHOD_OFFSET_AT = 41 };
extern const unsigned char dynahook_stub_template[] = {
    0x57,                               /* push rdi            */
    0x56,                               /* push rsi            */
    0x52,                               /* push rdx            */
    0x51,                               /* push rcx            */
    0x41, 0x50,                         /* push r8             */
    0x41, 0x51,                         /* push r9             */
    0x48, 0x83, 0xec, 0x08,             /* sub rsp, 8: rsp % 16 == 0 at the call */
    0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs rax, converter */
    0xff, 0xd0,                         /* call rax            */
    0x48, 0x83, 0xc4, 0x08,             /* add rsp, 8          */
    0x41, 0x59,                         /* pop r9              */
    0x41, 0x58,                         /* pop r8              */
    0x59,                               /* pop rcx             */
    0x5a,                               /* pop rdx             */
    0x5e,                               /* pop rsi             */
    0x5f,                               /* pop rdi             */
    0x48, 0x8b, 0x07,                   /* mov rax, [rdi]: the new vtable */
    0xff, 0xa0, 0, 0, 0, 0,             /* jmp [rax + method_offset] */
};
#else
enum { CONVERTER_AT = 9, METHOD_OFFSET_AT = 30 };
extern const unsigned char dynahook_stub_template[] = {
    0x55,                               /* push rbp            */
    0x48, 0x89, 0xe5,                   /* mov rbp, rsp        */
    0xff, 0x75, 0x10,                   /* push [rbp+16]: "this", as i386 passes it */
    0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs rax, converter */
    0xff, 0xd0,                         /* call rax            */
    0x48, 0x8b, 0x45, 0x10,             /* mov rax, [rbp+16]   */
    0x48, 0x8b, 0x00,                   /* mov rax, [rax]      */
    0x48, 0x05, 0, 0, 0, 0,             /* add rax, method_offset */
    0x48, 0x8b, 0x00,                   /* mov rax, [rax]      */
    0xc9,                               /* leave               */
    0xff, 0xe0,                         /* jmp rax             */
};
#endif
extern const unsigned dynahook_stub_size = sizeof dynahook_stub_template;

int dynahook(void **p_old_vtbl, int method_count, converter_t converter)
{
    long page_size = sysconf(_SC_PAGESIZE);
    size_t stubs_size = (size_t)method_count * STUB_SPACING;
    unsigned char *stubs = static_cast<unsigned char *>(
        mmap(nullptr, stubs_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (stubs == MAP_FAILED)
        return -1;
    for (int i = 0; i < method_count; i++) {
        unsigned char *stub = stubs + i * STUB_SPACING;
        std::int32_t offset = i * static_cast<std::int32_t>(sizeof(void *));
        std::memcpy(stub, dynahook_stub_template, sizeof dynahook_stub_template);
        std::memcpy(stub + CONVERTER_AT, &converter, sizeof converter);
        std::memcpy(stub + METHOD_OFFSET_AT, &offset, sizeof offset);
    }
    if (mprotect(stubs, stubs_size, PROT_READ | PROT_EXEC) != 0)
        return -1;
    /* The vtable is in .data.rel.ro: read-only once relocated. */
    std::uintptr_t first = reinterpret_cast<std::uintptr_t>(p_old_vtbl) & ~static_cast<std::uintptr_t>(page_size - 1);
    std::uintptr_t end = reinterpret_cast<std::uintptr_t>(p_old_vtbl + method_count);
    std::size_t length = (end - first + page_size - 1) & ~static_cast<std::uintptr_t>(page_size - 1);
    if (mprotect(reinterpret_cast<void *>(first), length, PROT_READ | PROT_WRITE) != 0)
        return -1;
    for (int i = 0; i < method_count; i++)
        p_old_vtbl[i] = stubs + i * STUB_SPACING;
    mprotect(reinterpret_cast<void *>(first), length, PROT_READ);
    return 0;
}
