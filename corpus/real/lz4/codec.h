/* The block codec of the archiver: the hot-fix target. */
#ifndef CODEC_H
#define CODEC_H

/* Compress src_len bytes of src into dst (dst_cap bytes); returns the compressed
   size, or 0 on failure. */
int pack_block(const char *src, int src_len, char *dst, int dst_cap);

#endif
