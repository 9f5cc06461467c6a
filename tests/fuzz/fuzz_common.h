/*
 * Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c, built by tools/fuzz): reading the
 * fuzzer's input, the bug checks, and an in-memory callback store whose keys a harness may set
 * directly (chunk bytes, hostile key sets).
 *
 * What counts as a bug: ZARRLIB_ERR_PANIC (the engine panicked: an unwrap, an index out of
 * range, an arithmetic overflow in this build), ZARRLIB_ERR_INTERNAL (the engine's own "cannot
 * happen"), a status outside the header's list, a failed call that leaves no message, and
 * whatever AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer catch (memory errors,
 * leaks, hangs, allocations past the limits tools/fuzz gives). Every other status is the clear
 * error the engine owes hostile input.
 */
#ifndef ZARRLIB_FUZZ_COMMON_H
#define ZARRLIB_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* strdup, mkdtemp, nftw */
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarrlib.h"

/* The largest chunk a harness lets the engine decode or encode, and the largest buffer a
 * harness allocates for one call: hostile shapes must fail cleanly, not exhaust memory. */
#define FZ_MAX_CHUNK_BYTES (1u << 20)
#define FZ_MAX_BUFFER (1u << 20)

/* ---- the checks ----------------------------------------------------------------------- */

static inline void fz_bug(const char *call, int32_t status) {
  char message[4096] = "";
  zarrlib_last_error_message(message, sizeof message);
  fprintf(stderr, "BUG: %s returned %d (%s): %s\n", call, status, zarrlib_status_name(status),
          message);
  fflush(stderr);
  abort();
}

/* Check a status: a bug aborts (so libFuzzer saves the input), anything else is returned. */
static inline int32_t fz_check_status(const char *call, int32_t status) {
  if (status == ZARRLIB_OK) {
    if (zarrlib_last_error_length() != 0) fz_bug(call, status);
    return status;
  }
  if (status == ZARRLIB_ERR_PANIC || status == ZARRLIB_ERR_INTERNAL ||
      status < ZARRLIB_ERR_READ_ONLY || status > 0)
    fz_bug(call, status);
  if (zarrlib_last_error_length() == 0) fz_bug(call, status);
  return status;
}

#define FZ(call) fz_check_status(#call, (call))

/* The engine's settings for fuzzing: one pool thread (reproducible runs, a stack trace on the
 * thread that failed) and the chunk limit. Called from LLVMFuzzerInitialize. */
static inline void fz_configure(void) {
  if (zarrlib_config_set_thread_count(1) != ZARRLIB_OK ||
      zarrlib_config_set_concurrent_target(1) != ZARRLIB_OK ||
      zarrlib_config_set_max_chunk_bytes(FZ_MAX_CHUNK_BYTES) != ZARRLIB_OK) {
    fprintf(stderr, "fuzz: cannot configure the engine\n");
    abort();
  }
}

/* ---- reading the input ---------------------------------------------------------------- */

typedef struct {
  const uint8_t *data;
  size_t len;
} fz_input;

static inline uint8_t fz_u8(fz_input *in) {
  if (in->len == 0) return 0;
  uint8_t value = in->data[0];
  in->data++;
  in->len--;
  return value;
}

static inline uint64_t fz_u64(fz_input *in, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; i++) value |= (uint64_t)fz_u8(in) << (8 * i);
  return value;
}

/* A small count: mostly 0..15, sometimes anything of 16 bits. */
static inline uint64_t fz_small(fz_input *in) {
  uint8_t b = fz_u8(in);
  return (b & 0x80) ? fz_u64(in, 2) : (uint64_t)(b & 0x0f);
}

/* A value meant to be near the edges: small, near the top of 64 bits, or any. */
static inline uint64_t fz_edgy(fz_input *in) {
  uint8_t kind = fz_u8(in);
  switch (kind & 3) {
    case 0: return kind >> 2;
    case 1: return UINT64_MAX - (kind >> 2);
    case 2: return fz_u64(in, 2);
    default: return fz_u64(in, 8);
  }
}

/* The next NUL-terminated (or final) piece of the input, as a new C string (free it). The
 * separator is a zero byte, so the pieces themselves never hold one. */
static inline char *fz_cstring(fz_input *in) {
  const uint8_t *end = memchr(in->data, 0, in->len);
  size_t n = end ? (size_t)(end - in->data) : in->len;
  char *s = malloc(n + 1);
  if (s == NULL) abort();
  memcpy(s, in->data, n);
  s[n] = '\0';
  in->data += end ? n + 1 : n;
  in->len -= end ? n + 1 : n;
  return s;
}

/* The product of `n` values times `scale`, or SIZE_MAX when it passes `limit`. */
static inline size_t fz_product(const uint64_t *values, size_t n, size_t scale, size_t limit) {
  uint64_t total = scale;
  for (size_t i = 0; i < n; i++) {
    if (values[i] != 0 && total > limit / values[i]) return SIZE_MAX;
    total *= values[i];
  }
  return total > limit ? SIZE_MAX : (size_t)total;
}

/* ---- an in-memory callback store ---------------------------------------------------- */

typedef struct {
  char *key;
  uint8_t *data;
  size_t len;
} fz_entry;

typedef struct {
  pthread_mutex_t lock;
  fz_entry *entries;
  size_t count, capacity;
} fz_kv;

static inline fz_entry *fz_kv_find(fz_kv *kv, const char *key) {
  for (size_t i = 0; i < kv->count; i++)
    if (strcmp(kv->entries[i].key, key) == 0) return &kv->entries[i];
  return NULL;
}

static inline void fz_kv_remove_at(fz_kv *kv, size_t i) {
  free(kv->entries[i].key);
  free(kv->entries[i].data);
  kv->entries[i] = kv->entries[--kv->count];
}

/* Set `key` to `len` bytes at `data` (the harness side and the `set` callback alike). */
static inline void fz_kv_put(fz_kv *kv, const char *key, const void *data, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (copy == NULL) abort();
  if (len) memcpy(copy, data, len);
  pthread_mutex_lock(&kv->lock);
  fz_entry *entry = fz_kv_find(kv, key);
  if (entry == NULL) {
    if (kv->count == kv->capacity) {
      kv->capacity = kv->capacity ? 2 * kv->capacity : 16;
      kv->entries = realloc(kv->entries, kv->capacity * sizeof *kv->entries);
      if (kv->entries == NULL) abort();
    }
    entry = &kv->entries[kv->count++];
    entry->key = strdup(key);
    if (entry->key == NULL) abort();
    entry->data = NULL;
  }
  free(entry->data);
  entry->data = copy;
  entry->len = len;
  pthread_mutex_unlock(&kv->lock);
}

static inline int32_t fz_kv_get(void *user_data, const char *key, uint64_t offset, uint64_t length,
                         zarrlib_sink *sink) {
  fz_kv *kv = user_data;
  int32_t status;
  pthread_mutex_lock(&kv->lock);
  fz_entry *entry = fz_kv_find(kv, key);
  if (entry == NULL) {
    status = ZARRLIB_ERR_NOT_FOUND;
  } else if (offset > entry->len || (length != UINT64_MAX && length > entry->len - offset)) {
    zarrlib_callback_error("range past the end of the value");
    status = ZARRLIB_ERR_STORAGE;
  } else {
    size_t n = length == UINT64_MAX ? entry->len - (size_t)offset : (size_t)length;
    status = zarrlib_sink_write(sink, entry->data + offset, n);
  }
  pthread_mutex_unlock(&kv->lock);
  return status;
}

static inline int32_t fz_kv_size(void *user_data, const char *key, uint64_t *out_size) {
  fz_kv *kv = user_data;
  pthread_mutex_lock(&kv->lock);
  fz_entry *entry = fz_kv_find(kv, key);
  if (entry != NULL) *out_size = entry->len;
  pthread_mutex_unlock(&kv->lock);
  return entry ? ZARRLIB_OK : ZARRLIB_ERR_NOT_FOUND;
}

static inline int32_t fz_kv_set(void *user_data, const char *key, const uint8_t *data, size_t len) {
  fz_kv_put(user_data, key, data, len);
  return ZARRLIB_OK;
}

static inline int32_t fz_kv_erase(void *user_data, const char *key) {
  fz_kv *kv = user_data;
  pthread_mutex_lock(&kv->lock);
  for (size_t i = 0; i < kv->count; i++)
    if (strcmp(kv->entries[i].key, key) == 0) {
      fz_kv_remove_at(kv, i);
      break;
    }
  pthread_mutex_unlock(&kv->lock);
  return ZARRLIB_OK;
}

static inline int32_t fz_kv_erase_prefix(void *user_data, const char *prefix) {
  fz_kv *kv = user_data;
  size_t n = strlen(prefix);
  pthread_mutex_lock(&kv->lock);
  for (size_t i = kv->count; i-- > 0;)
    if (strncmp(kv->entries[i].key, prefix, n) == 0) fz_kv_remove_at(kv, i);
  pthread_mutex_unlock(&kv->lock);
  return ZARRLIB_OK;
}

static inline int32_t fz_kv_list(void *user_data, const char *prefix, bool one_level,
                          zarrlib_sink *sink) {
  fz_kv *kv = user_data;
  size_t n = strlen(prefix);
  int32_t status = ZARRLIB_OK;
  pthread_mutex_lock(&kv->lock);
  for (size_t i = 0; i < kv->count && status == ZARRLIB_OK; i++) {
    const char *key = kv->entries[i].key;
    if (strncmp(key, prefix, n) != 0) continue;
    const char *slash = one_level ? strchr(key + n, '/') : NULL;
    size_t len = slash ? (size_t)(slash - key) + 1 : strlen(key);
    status = zarrlib_sink_write(sink, key, len);
    if (status == ZARRLIB_OK) status = zarrlib_sink_write(sink, "", 1);
  }
  pthread_mutex_unlock(&kv->lock);
  return status;
}

static inline void fz_kv_destroy(void *user_data) {
  fz_kv *kv = user_data;
  while (kv->count) fz_kv_remove_at(kv, 0);
  free(kv->entries);
  pthread_mutex_destroy(&kv->lock);
  free(kv);
}

/* A new, empty callback store; `*kv_out` is its key-value map (freed with the store). */
static inline zarrlib_store *fz_kv_store(fz_kv **kv_out, const char *options_json) {
  fz_kv *kv = calloc(1, sizeof *kv);
  if (kv == NULL || pthread_mutex_init(&kv->lock, NULL) != 0) abort();
  zarrlib_store_callbacks callbacks = {
      .user_data = kv,
      .get = fz_kv_get,
      .size = fz_kv_size,
      .set = fz_kv_set,
      .erase = fz_kv_erase,
      .erase_prefix = fz_kv_erase_prefix,
      .list = fz_kv_list,
      .destroy = fz_kv_destroy,
  };
  zarrlib_store *store = NULL;
  if (FZ(zarrlib_store_from_callbacks(&callbacks, options_json, &store)) != ZARRLIB_OK) abort();
  *kv_out = kv;
  return store;
}

/* ---- driving an open array ------------------------------------------------------------ */

/* Read and rewrite small parts of an open array, whatever its metadata says: the shape and chunk
 * shape queries, a fill value, the first chunk, a region of at most `edge` elements per axis at
 * `origin` (clamped into the array), and the same through the variable-length calls. Sizes
 * are computed with overflow checks; anything past FZ_MAX_BUFFER is skipped. */
static inline void fz_exercise_array(zarrlib_array *array, uint64_t origin, uint64_t edge, bool write) {
  size_t ndim = 0, element_size = 0;
  if (FZ(zarrlib_array_ndim(array, &ndim)) != ZARRLIB_OK || ndim > 32) return;
  uint64_t shape[32], chunk[32], grid[32], start[32], extent[32], zero[32] = {0};
  if (FZ(zarrlib_array_shape(array, shape, ndim)) != ZARRLIB_OK) return;
  FZ(zarrlib_array_chunk_grid_shape(array, grid, ndim));
  bool regular = FZ(zarrlib_array_chunk_shape(array, chunk, ndim)) == ZARRLIB_OK;
  char *text = NULL;
  if (FZ(zarrlib_array_data_type(array, &text)) == ZARRLIB_OK) zarrlib_string_free(text);
  if (FZ(zarrlib_array_metadata(array, &text)) == ZARRLIB_OK) zarrlib_string_free(text);
  if (FZ(zarrlib_array_element_size(array, &element_size)) != ZARRLIB_OK) return;
  uint8_t fill[256];
  if (element_size <= sizeof fill)
    FZ(zarrlib_array_fill_value(array, fill, element_size ? element_size : 1));

  bool empty = false;
  for (size_t i = 0; i < ndim; i++) {
    empty |= shape[i] == 0;
    start[i] = shape[i] ? origin % shape[i] : 0;
    extent[i] = shape[i] - start[i] < edge ? shape[i] - start[i] : edge;
  }
  size_t region_bytes = fz_product(extent, ndim, element_size ? element_size : 1, FZ_MAX_BUFFER);
  size_t chunk_bytes =
      regular ? fz_product(chunk, ndim, element_size ? element_size : 1, FZ_MAX_BUFFER) : SIZE_MAX;

  if (element_size == 0) {
    zarrlib_vlen *vlen = NULL;
    if (!empty && FZ(zarrlib_array_read_chunk_vlen(array, zero, ndim, &vlen)) == ZARRLIB_OK)
      zarrlib_vlen_free(vlen);
    vlen = NULL;
    if (region_bytes != SIZE_MAX &&
        FZ(zarrlib_array_read_region_vlen(array, start, extent, ndim, &vlen)) == ZARRLIB_OK) {
      size_t elements = 0, bytes = 0;
      if (FZ(zarrlib_vlen_sizes(vlen, &elements, &bytes)) == ZARRLIB_OK && bytes <= FZ_MAX_BUFFER &&
          elements < FZ_MAX_BUFFER) {
        uint64_t *offsets = malloc((elements + 1) * sizeof *offsets);
        uint8_t *data = malloc(bytes ? bytes : 1);
        if (offsets == NULL || data == NULL) abort();
        if (FZ(zarrlib_vlen_copy(vlen, offsets, elements + 1, data, bytes)) == ZARRLIB_OK && write)
          FZ(zarrlib_array_write_region_vlen(array, start, extent, ndim, offsets, elements + 1,
                                             data, bytes));
        uint8_t *cells = malloc(elements * 4 + 1);
        if (cells == NULL) abort();
        FZ(zarrlib_vlen_copy_padded(vlen, 4, cells, elements * 4));
        free(cells);
        free(offsets);
        free(data);
      }
      zarrlib_vlen_free(vlen);
    }
    return;
  }

  if (!empty && chunk_bytes != SIZE_MAX) {
    uint8_t *buffer = malloc(chunk_bytes ? chunk_bytes : 1);
    if (buffer == NULL) abort();
    if (FZ(zarrlib_array_read_chunk(array, zero, ndim, buffer, chunk_bytes)) == ZARRLIB_OK &&
        write)
      FZ(zarrlib_array_write_chunk(array, zero, ndim, buffer, chunk_bytes));
    free(buffer);
  }
  if (region_bytes != SIZE_MAX) {
    uint8_t *buffer = malloc(region_bytes ? region_bytes : 1);
    if (buffer == NULL) abort();
    if (FZ(zarrlib_array_read_region(array, start, extent, ndim, buffer, region_bytes)) ==
            ZARRLIB_OK &&
        write) {
      for (size_t i = 0; i < region_bytes; i++) buffer[i] ^= (uint8_t)(i * 31 + 7);
      FZ(zarrlib_array_write_region(array, start, extent, ndim, buffer, region_bytes));
      FZ(zarrlib_array_read_region(array, start, extent, ndim, buffer, region_bytes));
    }
    free(buffer);
  }
}

#endif /* ZARRLIB_FUZZ_COMMON_H */
