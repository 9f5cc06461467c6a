/*
 * Variable-length data types (`string`, `bytes`) through the _vlen calls, checked against an
 * in-memory model of each array: v3 string with zstd, v3 bytes, zarr-python's v2 `|O` with a
 * vlen-utf8 and with a vlen-bytes filter, and a sharded v3 string array, each in a memory store
 * and a directory store. Also: the sizes-then-copy protocol and its buffer checks, partial-chunk
 * writes, strided selections (negative steps too), orthogonal and coordinate selections (unsorted,
 * repeated) read and written, the fill value's length,
 * fixed-width (NUL-padded) copies, missing chunks reading as the fill value, all-fill chunks not being stored, offsets
 * that decrease or pass the bytes, text that is not UTF-8, fixed-size calls on these arrays and
 * the reverse, a stored chunk whose lengths run past its bytes, and threads writing parts of one
 * chunk at once.
 */
#include "test_util.h"

#include <pthread.h>

typedef struct {
  const char *name;
  const char *metadata;
  const char *dtype_name;
  int text;          /* elements must be UTF-8 */
  const char *fill;  /* the fill value's bytes (NUL-free here) */
  const char *chunk_key; /* the stored key of chunk (0, 1) */
} spec_t;

#define GRID_5X3_2X2                                                                        \
  "\"shape\":[5,3],\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2,2]}}," \
  "\"chunk_key_encoding\":{\"name\":\"default\"},"

static const spec_t SPECS[] = {
    {"string_zstd",
     "{\"zarr_format\":3,\"node_type\":\"array\"," GRID_5X3_2X2 "\"data_type\":\"string\","
     "\"fill_value\":\"-\",\"codecs\":[{\"name\":\"vlen-utf8\",\"configuration\":{}},"
     "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}",
     "string", 1, "-", "arr/c/0/1"},
    {"bytes",
     "{\"zarr_format\":3,\"node_type\":\"array\"," GRID_5X3_2X2 "\"data_type\":\"bytes\","
     "\"fill_value\":[120,121],\"codecs\":[{\"name\":\"vlen-bytes\",\"configuration\":{}}]}",
     "bytes", 0, "xy", "arr/c/0/1"},
    {"v2_O_vlen_utf8",
     "{\"zarr_format\":2,\"shape\":[5,3],\"chunks\":[2,2],\"dtype\":\"|O\","
     "\"compressor\":{\"id\":\"zstd\",\"level\":0},\"fill_value\":\"\",\"order\":\"C\","
     "\"filters\":[{\"id\":\"vlen-utf8\"}]}",
     "string", 1, "", "arr/0.1"},
    {"v2_O_vlen_bytes",
     "{\"zarr_format\":2,\"shape\":[5,3],\"chunks\":[2,2],\"dtype\":\"|O\","
     "\"compressor\":null,\"fill_value\":null,\"order\":\"C\","
     "\"filters\":[{\"id\":\"vlen-bytes\"}]}",
     "bytes", 0, "", "arr/0.1"},
    {"string_sharded",
     "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[5,3],\"data_type\":\"string\","
     "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,2]}},"
     "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":\"\","
     "\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,1],"
     "\"codecs\":[{\"name\":\"vlen-utf8\",\"configuration\":{}},{\"name\":\"zstd\","
     "\"configuration\":{\"level\":0,\"checksum\":false}}],"
     "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
     "{\"name\":\"crc32c\"}]}}]}",
     "string", 1, "", "arr/c/0/1"},
};

/* The model: 15 elements, each up to 15 bytes. */
#define N 15
typedef struct {
  char item[N][16];
  size_t len[N];
} model_t;

static void model_fill(model_t *m, const char *fill) {
  for (size_t i = 0; i < N; i++) {
    m->len[i] = strlen(fill);
    memcpy(m->item[i], fill, m->len[i]);
  }
}

/* Element values for writes: text with multi-byte characters, an empty one, an embedded NUL,
 * and for `bytes` arrays a byte that is not UTF-8. */
static size_t sample(size_t i, int round, int text, char *out) {
  static const char *const texts[] = {"a", "", "\xc3\x9f\0x", "\xe6\x97\xa5\xe6\x9c\xac", "zz"};
  static const size_t lens[] = {1, 0, 4, 6, 2};
  size_t k = (i + (size_t)round) % 5;
  memcpy(out, texts[k], lens[k]);
  if (!text && k == 4) out[1] = (char)0xff;
  return lens[k];
}

/* Read region (start, shape) and compare it with the model. */
static void check_region(zarrlib_array *array, const model_t *m, const uint64_t start[2],
                         const uint64_t shape[2]) {
  zarrlib_vlen *v = NULL;
  CHECK_OK(zarrlib_array_read_region_vlen(array, start, shape, 2, &v));
  size_t elements = 0, nbytes = 0;
  CHECK_OK(zarrlib_vlen_sizes(v, &elements, &nbytes));
  CHECK_EQ_U64(elements, shape[0] * shape[1]);
  uint64_t *offsets = tu_xmalloc((elements + 1) * sizeof *offsets);
  char *bytes = tu_xmalloc(nbytes + 1);
  /* Wrong lengths are refused and write nothing. */
  CHECK_STATUS(zarrlib_vlen_copy(v, offsets, elements, bytes, nbytes), ZARRLIB_ERR_BUFFER_SIZE);
  CHECK_STATUS(zarrlib_vlen_copy(v, offsets, elements + 1, bytes, nbytes + 1),
               ZARRLIB_ERR_BUFFER_SIZE);
  CHECK_OK(zarrlib_vlen_copy(v, offsets, elements + 1, bytes, nbytes));
  CHECK_EQ_U64(offsets[0], 0);
  CHECK_EQ_U64(offsets[elements], nbytes);
  /* Fixed-width cells, as wide as the longest element: each element then NUL padding. */
  size_t width = 1;
  for (size_t i = 0; i < elements; i++)
    if (offsets[i + 1] - offsets[i] > width) width = (size_t)(offsets[i + 1] - offsets[i]);
  char *cells = tu_xmalloc(elements * width + 1);
  CHECK_STATUS(zarrlib_vlen_copy_padded(v, width, cells, elements * width + 1),
               ZARRLIB_ERR_BUFFER_SIZE);
  if (width > 1 && elements > 0)
    CHECK_STATUS(zarrlib_vlen_copy_padded(v, width - 1, cells, elements * (width - 1)),
                 ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_OK(zarrlib_vlen_copy_padded(v, width, cells, elements * width));
  for (size_t i = 0; i < elements; i++) {
    size_t len = (size_t)(offsets[i + 1] - offsets[i]);
    CHECK_BYTES(cells + i * width, bytes + offsets[i], len);
    for (size_t j = len; j < width; j++) CHECK(cells[i * width + j] == 0);
  }
  free(cells);
  size_t k = 0;
  for (uint64_t r = start[0]; r < start[0] + shape[0]; r++) {
    for (uint64_t c = start[1]; c < start[1] + shape[1]; c++, k++) {
      size_t i = (size_t)(r * 3 + c);
      CHECK_EQ_U64(offsets[k + 1] - offsets[k], m->len[i]);
      CHECK_BYTES(bytes + offsets[k], m->item[i], m->len[i]);
    }
  }
  free(offsets);
  free(bytes);
  zarrlib_vlen_free(v);
}

/* Write region (start, shape) with sample values of `round`, in the array and the model. The
 * offsets start at 3 (a prefix the call must skip). */
static void write_region(zarrlib_array *array, model_t *m, const spec_t *s, const uint64_t start[2],
                         const uint64_t shape[2], int round) {
  size_t n = (size_t)(shape[0] * shape[1]);
  uint64_t offsets[N + 1];
  char bytes[3 + N * 16];
  size_t at = 3;
  memset(bytes, '!', 3);
  size_t k = 0;
  for (uint64_t r = start[0]; r < start[0] + shape[0]; r++) {
    for (uint64_t c = start[1]; c < start[1] + shape[1]; c++, k++) {
      size_t i = (size_t)(r * 3 + c);
      offsets[k] = at;
      m->len[i] = sample(i, round, s->text, m->item[i]);
      memcpy(bytes + at, m->item[i], m->len[i]);
      at += m->len[i];
    }
  }
  offsets[n] = at;
  CHECK_OK(zarrlib_array_write_region_vlen(array, start, shape, 2, offsets, n + 1, bytes, at));
}

/* Read the strided selection (start, step, count) and compare it with the model, element by
 * element in selection order. */
static void check_selection(zarrlib_array *array, const model_t *m, const uint64_t start[2],
                            const int64_t step[2], const uint64_t count[2]) {
  zarrlib_vlen *v = NULL;
  CHECK_OK(zarrlib_array_read_selection_vlen(array, start, step, count, 2, &v));
  size_t elements = 0, nbytes = 0;
  CHECK_OK(zarrlib_vlen_sizes(v, &elements, &nbytes));
  CHECK_EQ_U64(elements, count[0] * count[1]);
  uint64_t *offsets = tu_xmalloc((elements + 1) * sizeof *offsets);
  char *bytes = tu_xmalloc(nbytes + 1);
  CHECK_OK(zarrlib_vlen_copy(v, offsets, elements + 1, bytes, nbytes));
  size_t k = 0;
  for (uint64_t a = 0; a < count[0]; a++) {
    for (uint64_t b = 0; b < count[1]; b++, k++) {
      size_t i = (size_t)((int64_t)start[0] + (int64_t)a * step[0]) * 3 +
                 (size_t)((int64_t)start[1] + (int64_t)b * step[1]);
      CHECK_EQ_U64(offsets[k + 1] - offsets[k], m->len[i]);
      CHECK_BYTES(bytes + offsets[k], m->item[i], m->len[i]);
    }
  }
  free(offsets);
  free(bytes);
  zarrlib_vlen_free(v);
}

/* Write the strided selection (start, step, count) with sample values of `round`, in the array
 * and the model. The offsets start at 2 (a prefix the call must skip). */
static void write_selection(zarrlib_array *array, model_t *m, const spec_t *s,
                            const uint64_t start[2], const int64_t step[2],
                            const uint64_t count[2], int round) {
  size_t n = (size_t)(count[0] * count[1]);
  uint64_t offsets[N + 1];
  char bytes[2 + N * 16];
  size_t at = 2;
  memset(bytes, '#', 2);
  size_t k = 0;
  for (uint64_t a = 0; a < count[0]; a++) {
    for (uint64_t b = 0; b < count[1]; b++, k++) {
      size_t i = (size_t)((int64_t)start[0] + (int64_t)a * step[0]) * 3 +
                 (size_t)((int64_t)start[1] + (int64_t)b * step[1]);
      offsets[k] = at;
      m->len[i] = sample(i, round, s->text, m->item[i]);
      memcpy(bytes + at, m->item[i], m->len[i]);
      at += m->len[i];
    }
  }
  offsets[n] = at;
  CHECK_OK(zarrlib_array_write_selection_vlen(array, start, step, count, 2, offsets, n + 1, bytes,
                                              at));
}

/* Strided selections: reads and writes against the model, and their argument checks. */
static void selection_suite(zarrlib_array *array, model_t *m, const spec_t *s) {
  const uint64_t all_start[2] = {0, 0}, all_shape[2] = {5, 3};
  /* Rows 4, 2, 0 and columns 2, 0: every chunk, backwards on both axes. */
  const uint64_t back_start[2] = {4, 2}, back_count[2] = {3, 2};
  const int64_t back_step[2] = {-2, -2};
  check_selection(array, m, back_start, back_step, back_count);
  /* Rows 1, 4 (chunks 0 and 2), column 1: partial chunks. */
  const uint64_t rows_start[2] = {1, 1}, rows_count[2] = {2, 1};
  const int64_t rows_step[2] = {3, 1};
  write_selection(array, m, s, rows_start, rows_step, rows_count, 2);
  check_region(array, m, all_start, all_shape);
  check_selection(array, m, rows_start, rows_step, rows_count);
  write_selection(array, m, s, back_start, back_step, back_count, 4);
  check_region(array, m, all_start, all_shape);
  check_selection(array, m, back_start, back_step, back_count);
  /* A selection that is a plain region, and an empty one. */
  const uint64_t plain_start[2] = {3, 0}, plain_count[2] = {2, 3};
  const int64_t plain_step[2] = {1, 1};
  write_selection(array, m, s, plain_start, plain_step, plain_count, 1);
  check_region(array, m, all_start, all_shape);
  check_selection(array, m, plain_start, plain_step, plain_count);
  const uint64_t none[2] = {0, 3};
  check_selection(array, m, all_start, rows_step, none);
  CHECK_OK(zarrlib_array_write_selection_vlen(array, all_start, rows_step, none, 2,
                                              (const uint64_t[]){0}, 1, NULL, 0));
  check_region(array, m, all_start, all_shape);

  /* Bad arguments: a zero step, leaving the array, wrong ndim, NULL pointers, wrong offsets. */
  zarrlib_vlen *v = NULL;
  const int64_t zero_step[2] = {0, 1};
  CHECK_STATUS(zarrlib_array_read_selection_vlen(array, all_start, zero_step, back_count, 2, &v),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  const uint64_t too_many[2] = {4, 2};
  CHECK_STATUS(zarrlib_array_read_selection_vlen(array, all_start, rows_step, too_many, 2, &v),
               ZARRLIB_ERR_OUT_OF_BOUNDS);
  CHECK_STATUS(zarrlib_array_read_selection_vlen(array, back_start, rows_step, rows_count, 2, &v),
               ZARRLIB_ERR_OUT_OF_BOUNDS);
  CHECK_STATUS(zarrlib_array_read_selection_vlen(array, back_start, back_step, back_count, 1, &v),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_read_selection_vlen(array, NULL, back_step, back_count, 2, &v),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_read_selection_vlen(array, back_start, back_step, back_count, 2, NULL),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(v == NULL);
  uint64_t offsets[7] = {0, 1, 2, 3, 4, 5, 6};
  CHECK_STATUS(zarrlib_array_write_selection_vlen(array, back_start, back_step, back_count, 2,
                                                  offsets, 6, "abcdef", 6),
               ZARRLIB_ERR_BUFFER_SIZE);
  CHECK_STATUS(zarrlib_array_write_selection_vlen(array, back_start, back_step, back_count, 2,
                                                  offsets, 7, "abcde", 5),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_write_selection_vlen(array, back_start, zero_step, back_count, 2,
                                                  offsets, 7, "abcdef", 6),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_write_selection_vlen(array, all_start, rows_step, too_many, 2,
                                                  offsets, 7, "abcdef", 6),
               ZARRLIB_ERR_OUT_OF_BOUNDS);
  int32_t status = zarrlib_array_write_selection_vlen(array, back_start, back_step, back_count, 2,
                                                      offsets, 7, "abc\xff" "ef", 6);
  if (s->text) {
    CHECK_STATUS(status, ZARRLIB_ERR_INVALID_ARGUMENT);
    char message[512];
    CHECK(strstr(tu_last_error(message, sizeof message), "element 3") != NULL);
    /* Nothing was written. */
    check_region(array, m, all_start, all_shape);
  } else {
    CHECK_STATUS(status, ZARRLIB_OK);
    const char *written = "abc\xff" "ef";
    for (size_t k = 0; k < 6; k++) {
      size_t i = (size_t)(4 - 2 * (k / 2)) * 3 + (size_t)(2 - 2 * (k % 2));
      m->len[i] = 1;
      m->item[i][0] = written[k];
    }
    check_region(array, m, all_start, all_shape);
  }
}

/* Check a result against the model's elements `which` (flat indices), in order. */
static void check_elements(zarrlib_vlen *v, const model_t *m, const size_t *which, size_t n) {
  size_t elements = 0, nbytes = 0;
  CHECK_OK(zarrlib_vlen_sizes(v, &elements, &nbytes));
  CHECK_EQ_U64(elements, n);
  uint64_t *offsets = tu_xmalloc((elements + 1) * sizeof *offsets);
  char *bytes = tu_xmalloc(nbytes + 1);
  CHECK_OK(zarrlib_vlen_copy(v, offsets, elements + 1, bytes, nbytes));
  for (size_t k = 0; k < n; k++) {
    CHECK_EQ_U64(offsets[k + 1] - offsets[k], m->len[which[k]]);
    CHECK_BYTES(bytes + offsets[k], m->item[which[k]], m->len[which[k]]);
  }
  free(offsets);
  free(bytes);
  zarrlib_vlen_free(v);
}

/* Sample values of `round` for the elements `which`, as offsets and bytes; the model takes
 * them in order, so where an element repeats the last value wins (as the engine must). */
static size_t sample_elements(model_t *m, const spec_t *s, const size_t *which, size_t n,
                              int round, uint64_t *offsets, char *bytes) {
  size_t at = 0;
  for (size_t k = 0; k < n; k++) {
    size_t i = which[k];
    offsets[k] = at;
    m->len[i] = sample(i + k, round, s->text, m->item[i]);
    memcpy(bytes + at, m->item[i], m->len[i]);
    at += m->len[i];
  }
  offsets[n] = at;
  return at;
}

/* Orthogonal and coordinate selections (`_orthogonal_vlen`, `_coordinates_vlen`): unsorted
 * and repeated indices and points, reads and writes against the model, and their checks. */
static void indexed_suite(zarrlib_array *array, model_t *m, const spec_t *s) {
  const uint64_t all_start[2] = {0, 0}, all_shape[2] = {5, 3};
  /* Rows 4, 0, 4 and columns 2, 1: the outer product, in the lists' order. */
  const uint64_t indices[5] = {4, 0, 4, 2, 1}, counts[2] = {3, 2};
  size_t outer[6];
  for (size_t a = 0, k = 0; a < 3; a++)
    for (size_t b = 0; b < 2; b++, k++) outer[k] = (size_t)indices[a] * 3 + (size_t)indices[3 + b];
  zarrlib_vlen *v = NULL;
  CHECK_OK(zarrlib_array_read_orthogonal_vlen(array, indices, counts, 2, &v));
  check_elements(v, m, outer, 6);
  uint64_t offsets[N + 1];
  char bytes[N * 16];
  size_t nbytes = sample_elements(m, s, outer, 6, 3, offsets, bytes);
  CHECK_OK(zarrlib_array_write_orthogonal_vlen(array, indices, counts, 2, offsets, 7, bytes, nbytes));
  check_region(array, m, all_start, all_shape);

  /* Points (3, 1), (0, 0), (3, 1), (4, 2): two chunks, one point twice. */
  const uint64_t coords[8] = {3, 1, 0, 0, 3, 1, 4, 2};
  const size_t points[4] = {10, 0, 10, 14};
  CHECK_OK(zarrlib_array_read_coordinates_vlen(array, coords, 4, 2, &v));
  check_elements(v, m, points, 4);
  nbytes = sample_elements(m, s, points, 4, 1, offsets, bytes);
  CHECK_OK(zarrlib_array_write_coordinates_vlen(array, coords, 4, 2, offsets, 5, bytes, nbytes));
  check_region(array, m, all_start, all_shape);
  CHECK_OK(zarrlib_array_read_coordinates_vlen(array, coords, 4, 2, &v));
  check_elements(v, m, points, 4);
  /* No points, and an empty list on one axis. */
  CHECK_OK(zarrlib_array_read_coordinates_vlen(array, coords, 0, 2, &v));
  check_elements(v, m, points, 0);
  const uint64_t no_columns[2] = {3, 0};
  CHECK_OK(zarrlib_array_read_orthogonal_vlen(array, indices, no_columns, 2, &v));
  check_elements(v, m, outer, 0);

  /* Bad arguments: outside the array, wrong ndim, NULL out, wrong offsets, fixed-size calls. */
  const uint64_t outside[5] = {4, 5, 4, 2, 1};
  v = NULL;
  CHECK_STATUS(zarrlib_array_read_orthogonal_vlen(array, outside, counts, 2, &v),
               ZARRLIB_ERR_OUT_OF_BOUNDS);
  CHECK_STATUS(zarrlib_array_read_orthogonal_vlen(array, indices, counts, 1, &v),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_read_orthogonal_vlen(array, indices, counts, 2, NULL),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  const uint64_t far[2] = {0, 3};
  CHECK_STATUS(zarrlib_array_read_coordinates_vlen(array, far, 1, 2, &v), ZARRLIB_ERR_OUT_OF_BOUNDS);
  CHECK_STATUS(zarrlib_array_read_coordinates_vlen(array, NULL, 1, 2, &v),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(v == NULL);
  CHECK_STATUS(zarrlib_array_write_orthogonal_vlen(array, indices, counts, 2, offsets, 6, bytes, nbytes),
               ZARRLIB_ERR_BUFFER_SIZE);
  CHECK_STATUS(zarrlib_array_write_coordinates_vlen(array, coords, 4, 2, offsets, 4, bytes, nbytes),
               ZARRLIB_ERR_BUFFER_SIZE);
  CHECK_STATUS(zarrlib_array_write_coordinates_vlen(array, far, 1, 2, offsets, 2, bytes, nbytes),
               ZARRLIB_ERR_OUT_OF_BOUNDS);
  const uint64_t backwards[5] = {0, 2, 1, 1, 1};
  CHECK_STATUS(zarrlib_array_write_coordinates_vlen(array, coords, 4, 2, backwards, 5, "ab", 2),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  char message[512];
  char cell[8];
  CHECK_STATUS(zarrlib_array_read_orthogonal(array, indices, counts, 2, cell, sizeof cell),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(strstr(tu_last_error(message, sizeof message), "read_orthogonal_vlen") != NULL);
  CHECK_STATUS(zarrlib_array_write_coordinates(array, coords, 4, 2, cell, sizeof cell),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(strstr(tu_last_error(message, sizeof message), "write_coordinates_vlen") != NULL);
  /* Nothing was written by the refused calls. */
  check_region(array, m, all_start, all_shape);
}

/* The fill value's length, then the fill value itself. */
static void check_fill_value(zarrlib_array *array, const char *fill) {
  size_t len = 99;
  CHECK_OK(zarrlib_array_fill_value_length(array, &len));
  CHECK_EQ_U64(len, strlen(fill));
  char value[64];
  CHECK_OK(zarrlib_array_fill_value(array, len ? value : NULL, len));
  CHECK_BYTES(value, fill, len);
  CHECK_STATUS(zarrlib_array_fill_value(array, value, len + 1), ZARRLIB_ERR_BUFFER_SIZE);
  CHECK_STATUS(zarrlib_array_fill_value_length(array, NULL), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_fill_value_length(NULL, &len), ZARRLIB_ERR_INVALID_ARGUMENT);
}

static void run_suite(const spec_t *s, const char *url, const char *dir) {
  printf("  %s in %s\n", s->name, dir ? "a directory" : url);
  zarrlib_store *store = tu_open_store(url);
  zarrlib_array *array = tu_create_and_open(store, "arr", s->metadata);
  size_t esize = 99;
  CHECK_OK(zarrlib_array_element_size(array, &esize));
  CHECK_EQ_U64(esize, 0);
  char *name = NULL;
  CHECK_OK(zarrlib_array_data_type(array, &name));
  CHECK_STREQ(name, s->dtype_name);
  zarrlib_string_free(name);

  model_t m;
  model_fill(&m, s->fill);
  const uint64_t all_start[2] = {0, 0}, all_shape[2] = {5, 3};
  check_region(array, &m, all_start, all_shape); /* nothing stored: all fill */

  /* Partial chunks: rows 1-3, columns 1-2 touch four chunks in part. */
  const uint64_t start[2] = {1, 1}, shape[2] = {3, 2};
  write_region(array, &m, s, start, shape, 0);
  check_region(array, &m, all_start, all_shape);
  check_region(array, &m, start, shape);
  const uint64_t one[2] = {4, 2}, one_shape[2] = {1, 1};
  write_region(array, &m, s, one, one_shape, 3);
  write_region(array, &m, s, all_start, all_shape, 1);
  check_region(array, &m, all_start, all_shape);
  const uint64_t empty_shape[2] = {0, 2};
  check_region(array, &m, start, empty_shape);
  selection_suite(array, &m, s);
  indexed_suite(array, &m, s);
  check_fill_value(array, s->fill);

  /* A whole chunk, through the chunk calls, at its full (edge) shape. */
  if (strcmp(s->name, "string_sharded") != 0) {
    const uint64_t c01[2] = {0, 1};
    zarrlib_vlen *v = NULL;
    CHECK_OK(zarrlib_array_read_chunk_vlen(array, c01, 2, &v));
    size_t elements = 0, nbytes = 0;
    CHECK_OK(zarrlib_vlen_sizes(v, &elements, &nbytes));
    CHECK_EQ_U64(elements, 4); /* column 3 lies past the array but is in the chunk */
    zarrlib_vlen_free(v);
    /* Writing the fill value everywhere erases the chunk. */
    size_t fl = strlen(s->fill);
    uint64_t offsets[5] = {0, fl, 2 * fl, 3 * fl, 4 * fl};
    char fills[64];
    for (int i = 0; i < 4; i++) memcpy(fills + i * fl, s->fill, fl);
    CHECK_OK(zarrlib_array_write_chunk_vlen(array, c01, 2, offsets, 5, fills, 4 * fl));
    for (uint64_t r = 0; r < 2; r++) {
      m.len[r * 3 + 2] = fl;
      memcpy(m.item[r * 3 + 2], s->fill, fl);
    }
    check_region(array, &m, all_start, all_shape);
    if (dir) {
      char *key = tu_join(dir, s->chunk_key);
      CHECK(!tu_file_exists(key));
      free(key);
    }
    /* Wrong offset counts and bad offsets. */
    CHECK_STATUS(zarrlib_array_write_chunk_vlen(array, c01, 2, offsets, 4, fills, 4 * fl),
                 ZARRLIB_ERR_BUFFER_SIZE);
    uint64_t decreasing[5] = {0, 2, 1, 2, 2};
    CHECK_STATUS(zarrlib_array_write_chunk_vlen(array, c01, 2, decreasing, 5, "ab", 2),
                 ZARRLIB_ERR_INVALID_ARGUMENT);
    uint64_t past[5] = {0, 1, 2, 3, 9};
    CHECK_STATUS(zarrlib_array_write_chunk_vlen(array, c01, 2, past, 5, "abc", 3),
                 ZARRLIB_ERR_INVALID_ARGUMENT);
    uint64_t fine[5] = {0, 1, 2, 3, 4};
    int32_t status = zarrlib_array_write_chunk_vlen(array, c01, 2, fine, 5, "a\xff" "cd", 4);
    if (s->text) {
      CHECK_STATUS(status, ZARRLIB_ERR_INVALID_ARGUMENT);
      char message[512];
      CHECK(strstr(tu_last_error(message, sizeof message), "element 1") != NULL);
    } else {
      CHECK_STATUS(status, ZARRLIB_OK);
      m.len[2] = 1;
      m.item[2][0] = 'a';
      m.len[5] = 1;
      m.item[5][0] = 'c';
    }
    check_region(array, &m, all_start, all_shape);
  }

  /* Fixed-size calls refuse the array, naming the call to use. */
  char buf[512];
  const uint64_t c00[2] = {0, 0};
  CHECK_STATUS(zarrlib_array_read_region(array, start, shape, 2, buf, 0),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(strstr(tu_last_error(buf, sizeof buf), "read_region_vlen") != NULL);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c00, 2, buf, 0), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_write_chunk(array, c00, 2, buf, 0), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_write_region(array, start, shape, 2, buf, 0),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  /* Out of bounds, and arguments. */
  const uint64_t far[2] = {5, 0};
  zarrlib_vlen *v = NULL;
  CHECK_STATUS(zarrlib_array_read_region_vlen(array, far, one_shape, 2, &v),
               ZARRLIB_ERR_OUT_OF_BOUNDS);
  CHECK_STATUS(zarrlib_array_read_region_vlen(array, start, shape, 1, &v),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_read_region_vlen(array, start, shape, 2, NULL),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(v == NULL);
  size_t e = 0, b = 0;
  CHECK_STATUS(zarrlib_vlen_sizes((const zarrlib_vlen *)array, &e, &b), ZARRLIB_ERR_INVALID_HANDLE);
  zarrlib_vlen_free(NULL);

  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* The _vlen calls on a fixed-size array name the fixed-size call. */
static void test_vlen_calls_on_fixed_array(void) {
  zarrlib_store *store = tu_open_store("memory://");
  zarrlib_array *array = tu_create_and_open(store, "u32", TU_ONE_CHUNK_16X16_U32(TU_ZSTD_CODECS));
  const uint64_t start[2] = {0, 0}, shape[2] = {1, 1};
  zarrlib_vlen *v = NULL;
  CHECK_STATUS(zarrlib_array_read_region_vlen(array, start, shape, 2, &v),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  char message[512];
  CHECK(strstr(tu_last_error(message, sizeof message), "zarrlib_array_read_region") != NULL);
  CHECK_STATUS(zarrlib_array_read_chunk_vlen(array, start, 2, &v), ZARRLIB_ERR_INVALID_ARGUMENT);
  uint64_t offsets[2] = {0, 0};
  CHECK_STATUS(zarrlib_array_write_region_vlen(array, start, shape, 2, offsets, 2, NULL, 0),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_write_chunk_vlen(array, start, 2, offsets, 2, NULL, 0),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  const int64_t step[2] = {1, 2};
  CHECK_STATUS(zarrlib_array_read_selection_vlen(array, start, step, shape, 2, &v),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(strstr(tu_last_error(message, sizeof message), "zarrlib_array_read_selection") != NULL);
  CHECK_STATUS(zarrlib_array_write_selection_vlen(array, start, step, shape, 2, offsets, 2, NULL, 0),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  /* A fixed-size array's fill value is one element. */
  size_t fill_len = 0;
  CHECK_OK(zarrlib_array_fill_value_length(array, &fill_len));
  CHECK_EQ_U64(fill_len, 4);
  uint32_t fill = 7;
  CHECK_OK(zarrlib_array_fill_value(array, &fill, fill_len));
  CHECK_EQ_U64(fill, 0);
  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* A stored chunk whose length fields claim more bytes than it holds is corrupt data. */
static void test_hostile_chunk(void) {
  char *dir = tu_make_temp_dir();
  zarrlib_store *store = tu_open_store(dir);
  const char *meta =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"string\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":\"\","
      "\"codecs\":[{\"name\":\"vlen-utf8\",\"configuration\":{}}]}";
  zarrlib_array *array = tu_create_and_open(store, "s", meta);
  const uint64_t c0[1] = {0}, one[1] = {1}, two[1] = {2}, offsets[3] = {0, 1, 2};
  CHECK_OK(zarrlib_array_write_region_vlen(array, c0, two, 1, offsets, 3, "xy", 2));
  char *key = tu_join(dir, "s/c/0");
  CHECK(tu_file_exists(key));
  /* Two elements: the first claims 2^32 - 1 bytes, the chunk holds three. */
  const unsigned char chunk[] = {2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c'};
  CHECK(tu_write_file(key, chunk, sizeof chunk) == 0);
  zarrlib_vlen *v = NULL;
  CHECK_STATUS(zarrlib_array_read_chunk_vlen(array, c0, 1, &v), ZARRLIB_ERR_CORRUPT_DATA);
  CHECK_STATUS(zarrlib_array_read_region_vlen(array, c0, one, 1, &v), ZARRLIB_ERR_CORRUPT_DATA);
  /* A header claiming more elements than the chunk has. */
  const unsigned char many[] = {9, 0, 0, 0, 1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b'};
  CHECK(tu_write_file(key, many, sizeof many) == 0);
  CHECK_STATUS(zarrlib_array_read_chunk_vlen(array, c0, 1, &v), ZARRLIB_ERR_CORRUPT_DATA);
  CHECK(v == NULL);
  free(key);
  zarrlib_array_free(array);
  zarrlib_store_free(store);
  tu_remove_temp_dir(dir);
}

/* Threads writing disjoint parts of one chunk at once lose no update: each partial write reads,
 * updates and writes back the chunk under its lock. */
typedef struct {
  zarrlib_array *array;
  uint64_t column;
} writer_t;

#define WRITERS 4
#define ROUNDS 40

static void *write_column(void *arg) {
  const writer_t *w = arg;
  const uint64_t start[2] = {0, w->column}, shape[2] = {4, 1};
  for (int round = 0; round < ROUNDS; round++) {
    char bytes[64];
    uint64_t offsets[5] = {0};
    size_t at = 0;
    for (int row = 0; row < 4; row++) {
      at += (size_t)snprintf(bytes + at, sizeof bytes - at, "c%" PRIu64 "r%dn%d", w->column, row, round);
      offsets[row + 1] = at;
    }
    if (zarrlib_array_write_region_vlen(w->array, start, shape, 2, offsets, 5, bytes, at) != ZARRLIB_OK)
      return (void *)1;
  }
  return NULL;
}

static void test_concurrent_partial_writes(void) {
  zarrlib_store *store = tu_open_store("memory://");
  const char *meta =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4,4],\"data_type\":\"string\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,4]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":\"\","
      "\"codecs\":[{\"name\":\"vlen-utf8\",\"configuration\":{}}]}";
  zarrlib_array *array = tu_create_and_open(store, "s", meta);
  pthread_t threads[WRITERS];
  writer_t writers[WRITERS];
  for (int i = 0; i < WRITERS; i++) {
    writers[i] = (writer_t){array, (uint64_t)i};
    CHECK(pthread_create(&threads[i], NULL, write_column, &writers[i]) == 0);
  }
  for (int i = 0; i < WRITERS; i++) {
    void *result = NULL;
    CHECK(pthread_join(threads[i], &result) == 0);
    CHECK(result == NULL);
  }
  char want[16][16];
  size_t want_len[16];
  for (size_t i = 0; i < 16; i++)
    want_len[i] = (size_t)snprintf(want[i], sizeof want[i], "c%zur%zun%d", i % 4, i / 4, ROUNDS - 1);
  zarrlib_vlen *v = NULL;
  const uint64_t start[2] = {0, 0}, shape[2] = {4, 4};
  CHECK_OK(zarrlib_array_read_region_vlen(array, start, shape, 2, &v));
  size_t elements = 0, nbytes = 0;
  CHECK_OK(zarrlib_vlen_sizes(v, &elements, &nbytes));
  uint64_t offsets[17];
  char *bytes = tu_xmalloc(nbytes + 1);
  CHECK_OK(zarrlib_vlen_copy(v, offsets, 17, bytes, nbytes));
  for (size_t i = 0; i < 16; i++) {
    CHECK_EQ_U64(offsets[i + 1] - offsets[i], want_len[i]);
    CHECK_BYTES(bytes + offsets[i], want[i], want_len[i]);
  }
  free(bytes);
  zarrlib_vlen_free(v);
  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

int main(void) {
  for (size_t i = 0; i < sizeof SPECS / sizeof SPECS[0]; i++) {
    run_suite(&SPECS[i], "memory://", NULL);
    char *dir = tu_make_temp_dir();
    run_suite(&SPECS[i], dir, dir);
    tu_remove_temp_dir(dir);
  }
  test_vlen_calls_on_fixed_array();
  test_hostile_chunk();
  test_concurrent_partial_writes();
  printf("test_vlen: all checks passed\n");
  return 0;
}
