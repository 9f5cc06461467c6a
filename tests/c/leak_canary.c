/*
 * A deliberate leak, for the memory-checker build only (ZARRLIB_VALGRIND): it opens an in-memory
 * store and an array, writes a chunk, then drops the handles without freeing them. Registered
 * with WILL_FAIL, so the valgrind stage fails unless memcheck reports the engine's own blocks as
 * definitely lost: proof that the checker sees the engine's allocations (mimalloc would hide
 * them; ZARRLIB_ALLOCATOR=system shows them) and that the stage fails on a leak.
 */
#include "test_util.h"

int main(void) {
  zarrlib_store *store = NULL;
  CHECK_OK(zarrlib_store_open("memory://", NULL, &store));
  CHECK_OK(zarrlib_array_create(store, "a", TU_ONE_CHUNK_16X16_U32(TU_ZSTD_CODECS), false));
  zarrlib_array *array = NULL;
  CHECK_OK(zarrlib_array_open(store, "a", &array));
  uint32_t chunk[16 * 16];
  for (size_t i = 0; i < 16 * 16; i++) chunk[i] = (uint32_t)i;
  uint64_t coords[2] = {0, 0};
  CHECK_OK(zarrlib_array_write_chunk(array, coords, 2, chunk, sizeof chunk));
  /* The last references to both handles are lost here. */
  array = NULL;
  store = NULL;
  return EXIT_SUCCESS;
}
