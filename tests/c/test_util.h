/*
 * Shared helpers for the zarrlib C tests: checks that report file:line, the status name and the
 * library's last error message before exiting non-zero; temporary directories; small file and
 * JSON helpers. Everything is `static inline` so a test that uses only part of it compiles
 * cleanly under -Wall -Wextra -Werror.
 */
#ifndef ZARRLIB_TEST_UTIL_H
#define ZARRLIB_TEST_UTIL_H

#define _GNU_SOURCE 1 /* nftw, mkdtemp, pthread_barrier_t */

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zarrlib.h"

/* Array metadata shared by the tests (C string-literal fragments). */

/* "codecs": a shard of 4x4 inner chunks, zstd inside, crc32c on the index; ends the document. */
#define TU_SHARD_4X4_CODECS                                                                      \
  "\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,4],"              \
  "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"                   \
  "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}],"                        \
  "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"             \
  "{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]}"

/* "codecs": bytes then zstd; ends the document. */
#define TU_ZSTD_CODECS                                                                           \
  "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"                   \
  "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}"

/* A 16x16 uint32 array (fill value 0) stored as ONE chunk, encoded with `codecs`. */
#define TU_ONE_CHUNK_16X16_U32(codecs)                                                           \
  "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[16,16],\"data_type\":\"uint32\","         \
  "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[16,16]}},"           \
  "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0," codecs

/* ---- failure reporting ---------------------------------------------------------------- */

/* The last error of this thread, copied into `buf` (empty when there is none). */
static inline const char *tu_last_error(char *buf, size_t len) {
  buf[0] = '\0';
  zarrlib_last_error_message(buf, len);
  return buf;
}

static inline void tu_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

static inline void tu_fail(const char *file, int line, const char *fmt, ...) {
  char message[2048];
  va_list args;
  va_start(args, fmt);
  fprintf(stderr, "%s:%d: FAILED: ", file, line);
  vfprintf(stderr, fmt, args);
  va_end(args);
  fprintf(stderr, "\n    last error (%zu bytes): %s\n", zarrlib_last_error_length(),
          tu_last_error(message, sizeof message));
  fflush(stderr);
  exit(1);
}

#define FAIL(...) tu_fail(__FILE__, __LINE__, __VA_ARGS__)

/* A plain condition. */
#define CHECK(cond)                                  \
  do {                                               \
    if (!(cond)) FAIL("CHECK(%s)", #cond);           \
  } while (0)

/* A call that must return ZARRLIB_OK; on success the last error must be cleared. */
#define CHECK_OK(call)                                                                    \
  do {                                                                                    \
    int32_t tu_status_ = (call);                                                          \
    if (tu_status_ != ZARRLIB_OK)                                                         \
      FAIL("%s returned %s (%d), expected ZARRLIB_OK", #call,                             \
           zarrlib_status_name(tu_status_), (int)tu_status_);                             \
    if (zarrlib_last_error_length() != 0)                                                 \
      FAIL("%s succeeded but left a last error behind", #call);                           \
  } while (0)

/* A call that must fail with `expected`, leaving a non-empty, NUL-terminated last error. */
#define CHECK_STATUS(call, expected)                                                      \
  do {                                                                                    \
    int32_t tu_status_ = (call);                                                          \
    int32_t tu_expected_ = (expected);                                                    \
    if (tu_status_ != tu_expected_)                                                       \
      FAIL("%s returned %s (%d), expected %s (%d)", #call, zarrlib_status_name(tu_status_), \
           (int)tu_status_, zarrlib_status_name(tu_expected_), (int)tu_expected_);        \
    if (tu_expected_ != ZARRLIB_OK) tu_check_error_message(__FILE__, __LINE__, #call);    \
  } while (0)

/* After a failure: the reported length covers the message and its NUL, and the message is
 * non-empty and fits. */
static inline void tu_check_error_message(const char *file, int line, const char *what) {
  size_t length = zarrlib_last_error_length();
  if (length < 2) tu_fail(file, line, "%s failed without a last error message", what);
  char *buf = malloc(length + 8);
  if (!buf) tu_fail(file, line, "out of memory");
  memset(buf, 'X', length + 8);
  size_t written = zarrlib_last_error_message(buf, length + 8);
  if (written != length - 1 || buf[written] != '\0' || strlen(buf) != written)
    tu_fail(file, line, "%s: last error length %zu but %zu bytes were written", what, length,
            written);
  free(buf);
}

#define CHECK_EQ_U64(a, b)                                                                \
  do {                                                                                    \
    uint64_t tu_a_ = (uint64_t)(a), tu_b_ = (uint64_t)(b);                                \
    if (tu_a_ != tu_b_)                                                                   \
      FAIL("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, tu_a_, tu_b_);                   \
  } while (0)

#define CHECK_STREQ(a, b)                                                                 \
  do {                                                                                    \
    const char *tu_a_ = (a), *tu_b_ = (b);                                                \
    if (!tu_a_ || !tu_b_ || strcmp(tu_a_, tu_b_) != 0)                                    \
      FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, tu_a_ ? tu_a_ : "(null)",                 \
           tu_b_ ? tu_b_ : "(null)");                                                     \
  } while (0)

/* `got` and `want` hold `len` bytes each; report the first difference. */
#define CHECK_BYTES(got, want, len) tu_check_bytes(__FILE__, __LINE__, #got, (got), (want), (len))

static inline void tu_check_bytes(const char *file, int line, const char *what, const void *got,
                                  const void *want, size_t len) {
  const unsigned char *g = got, *w = want;
  for (size_t i = 0; i < len; i++) {
    if (g[i] != w[i])
      tu_fail(file, line, "%s differs at byte %zu of %zu: got 0x%02x, want 0x%02x", what, i, len,
              g[i], w[i]);
  }
}

static inline void *tu_xmalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return p;
}

/* ---- temporary directories ------------------------------------------------------------- */

static inline int tu_remove_entry(const char *path, const struct stat *sb, int type,
                                  struct FTW *ftw) {
  (void)sb;
  (void)type;
  (void)ftw;
  if (remove(path) != 0) fprintf(stderr, "warning: remove(%s): %s\n", path, strerror(errno));
  return 0;
}

/* The temporary directories still to remove; a failing check exits early, and an atexit
 * handler then removes them. */
static inline char **tu_temp_dirs(void) {
  static char *dirs[16];
  return dirs;
}

static inline void tu_remove_leftover_temp_dirs(void) {
  char **dirs = tu_temp_dirs();
  for (int i = 0; i < 16; i++)
    if (dirs[i]) {
      nftw(dirs[i], tu_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
      dirs[i] = NULL;
    }
}

/* Make a fresh, empty directory under $TMPDIR (or /tmp) and return its malloc'd path. */
static inline char *tu_make_temp_dir(void) {
  static int registered = 0;
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = "/tmp";
  size_t len = strlen(base) + 32;
  char *path = tu_xmalloc(len);
  snprintf(path, len, "%s/zarrlib_ctest_XXXXXX", base);
  if (!mkdtemp(path)) {
    fprintf(stderr, "mkdtemp(%s): %s\n", path, strerror(errno));
    exit(1);
  }
  if (!registered) {
    registered = 1;
    atexit(tu_remove_leftover_temp_dirs);
  }
  char **dirs = tu_temp_dirs();
  for (int i = 0; i < 16; i++)
    if (!dirs[i]) {
      dirs[i] = path;
      break;
    }
  return path;
}

/* Remove `path` and everything under it, then free the string. */
static inline void tu_remove_temp_dir(char *path) {
  if (!path) return;
  char **dirs = tu_temp_dirs();
  for (int i = 0; i < 16; i++)
    if (dirs[i] == path) dirs[i] = NULL;
  nftw(path, tu_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(path);
}

/* A malloc'd "a/b" path. */
static inline char *tu_join(const char *a, const char *b) {
  size_t len = strlen(a) + strlen(b) + 2;
  char *path = tu_xmalloc(len);
  snprintf(path, len, "%s/%s", a, b);
  return path;
}

static inline int tu_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Read a whole file; returns a malloc'd buffer (NULL if it cannot be read) and its size. */
static inline unsigned char *tu_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = tu_xmalloc((size_t)n);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  if (got != (size_t)n) {
    free(buf);
    return NULL;
  }
  *size = (size_t)n;
  return buf;
}

static inline int tu_write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t put = fwrite(data, 1, size, f);
  return (fclose(f) == 0 && put == size) ? 0 : -1;
}

/* ---- library helpers ------------------------------------------------------------------- */

static inline zarrlib_store *tu_open_store(const char *url) {
  zarrlib_store *store = NULL;
  CHECK_OK(zarrlib_store_open(url, NULL, &store));
  CHECK(store != NULL);
  return store;
}

static inline zarrlib_array *tu_create_and_open(const zarrlib_store *store, const char *path,
                                                const char *metadata) {
  zarrlib_array *array = NULL;
  CHECK_OK(zarrlib_array_create(store, path, metadata, false));
  CHECK_OK(zarrlib_array_open(store, path, &array));
  CHECK(array != NULL);
  return array;
}

/* The paths of a node_children listing `[["p",{...}],...]`, each malloc'd; returns the count.
 * A minimal scanner: it tracks strings (with escapes) and bracket depth, and takes the first
 * string of every pair at depth 2. */
static inline size_t tu_children_paths(const char *json, char **paths, size_t max) {
  size_t count = 0;
  int depth = 0;
  int expect_path = 0;
  for (const char *p = json; *p; p++) {
    if (*p == '"') {
      const char *start = ++p;
      while (*p && *p != '"') {
        if (*p == '\\' && p[1]) p++;
        p++;
      }
      if (expect_path && depth == 2 && count < max) {
        size_t n = (size_t)(p - start);
        paths[count] = tu_xmalloc(n + 1);
        memcpy(paths[count], start, n);
        paths[count][n] = '\0';
        count++;
      }
      expect_path = 0;
      if (!*p) break;
    } else if (*p == '[' || *p == '{') {
      depth++;
      expect_path = (*p == '[' && depth == 2);
    } else if (*p == ']' || *p == '}') {
      depth--;
    } else if (*p != ' ' && *p != '\n') {
      expect_path = 0;
    }
  }
  return count;
}

#endif /* ZARRLIB_TEST_UTIL_H */
