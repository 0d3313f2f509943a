/* The codec with the bug: it tells LZ4 the output may be as large as the input,
   but incompressible data grows (LZ4_compressBound), so those blocks fail. */
#include "upstream/lz4.h"

#include "codec.h"

__attribute__((noipa)) int pack_block(const char *src, int src_len, char *dst, int dst_cap)
{
    int limit = src_len < dst_cap ? src_len : dst_cap;
    return LZ4_compress_default(src, dst, src_len, limit);
}
