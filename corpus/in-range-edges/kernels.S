/* Hand-written kernels in the style of perlasm/crypto .S files, with two constructs inside
   their first 12 bytes that are not entries into the overwritten bytes:
   - abs_scale: a forward `jns` at +6 to +10, both inside the bytes (branch over `neg`);
   - pc_base: `call 1f; 1: pop rax`, the get-PC idiom: the call's target is its own return
     address, so no frame is ever parked there. */
    .text
    .globl  abs_scale
    .type   abs_scale, @function
abs_scale:                      /* long abs_scale(int x): |x| * 3 + 1 */
    .cfi_startproc
    endbr64                     /* +0  */
    test    %edi, %edi          /* +4  */
    jns     1f                  /* +6, to +10 */
    neg     %edi                /* +8  */
1:  lea     (%rdi,%rdi,2), %eax /* +10 */
    add     $1, %eax
    cltq
    ret
    .cfi_endproc
    .size   abs_scale, .-abs_scale

    .globl  pc_base
    .type   pc_base, @function
pc_base:                        /* long pc_base(void): pc_base's own address, position-independently */
    .cfi_startproc
    endbr64                     /* +0  */
    call    1f                  /* +4, to +9 */
1:  .cfi_adjust_cfa_offset 8
    pop     %rax                /* +9  */
    .cfi_adjust_cfa_offset -8
    sub     $9, %rax            /* +10 */
    nop
    nop
    nop
    ret
    .cfi_endproc
    .size   pc_base, .-pc_base
    .section .note.GNU-stack,"",@progbits
    .section .note.gnu.property,"a"
    .align 8
    .long 4, 16, 5
    .string "GNU"
    .long 0xc0000002, 4, 3
    .align 8
