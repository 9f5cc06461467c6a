/*
 * Selections by index lists: orthogonal (zarrlib_array_read_orthogonal / _write_orthogonal, a
 * list of indices per axis, their outer product) and coordinate (zarrlib_array_read_coordinates
 * / _write_coordinates, a list of points), checked against an in-memory model of the array:
 *  - reads of unsorted lists with repeats, lists that are progressions (ascending and
 *    descending), single elements and empty selections, on a 13x11 int32 array of 4x3 chunks
 *    (edge chunks on both axes), plain and sharded (shards of 8x8, inner chunks 4x4);
 *  - writes of both kinds, repeats included (the last value written for an element is the one
 *    stored, as in numpy's assignment), read back whole and compared with the model;
 *  - on a store opened with {"metrics": true}: a read makes one store read per chunk holding a
 *    selected element, a write reads and writes exactly those chunks, empty selections make no
 *    request;
 *  - argument errors: indices and points outside the array (the message names the axis and
 *    index), wrong buffer lengths, wrong dimension counts, NULL lists; failed calls leave the
 *    output buffer and the array unchanged.
 * Each runs on a memory store and a directory store.
 */
#include "test_util.h"

#include <stdint.h>

#define ROWS 13
#define COLS 11
#define FILL (-1)
static const char *I32_PLAIN =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[13,11],\"data_type\":\"int32\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,3]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":-1," TU_ZSTD_CODECS;
static const char *I32_SHARDED =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[13,11],\"data_type\":\"int32\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,8]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":-1," TU_SHARD_4X4_CODECS;

typedef struct {
  zarrlib_array *array;
  int32_t model[ROWS * COLS];
} fixture_t;

static int32_t value(uint64_t r, uint64_t c) { return (int32_t)(1000 * r + c + 1); }

/* A fresh array at `path`: rows 0..11 hold data, row 12 is the fill value (never written). */
static void fixture_open(fixture_t *f, zarrlib_store *store, const char *path,
                         const char *metadata) {
  f->array = tu_create_and_open(store, path, metadata);
  for (size_t i = 0; i < ROWS * COLS; i++) f->model[i] = FILL;
  uint64_t start[2] = {0, 0}, shape[2] = {12, COLS};
  int32_t block[12 * COLS];
  for (uint64_t r = 0; r < 12; r++)
    for (uint64_t c = 0; c < COLS; c++) f->model[r * COLS + c] = block[r * COLS + c] = value(r, c);
  CHECK_OK(zarrlib_array_write_region(f->array, start, shape, 2, block, sizeof block));
}

static void check_whole(const fixture_t *f, const char *when) {
  int32_t all[ROWS * COLS];
  uint64_t origin[2] = {0, 0}, shape[2] = {ROWS, COLS};
  CHECK_OK(zarrlib_array_read_region(f->array, origin, shape, 2, all, sizeof all));
  for (size_t i = 0; i < ROWS * COLS; i++)
    if (all[i] != f->model[i])
      FAIL("%s: element [%zu,%zu] is %d, want %d", when, i / COLS, i % COLS, (int)all[i],
           (int)f->model[i]);
}

/* An orthogonal selection of at most 16 indices per axis. */
typedef struct {
  uint64_t n[2];
  uint64_t rows[16], cols[16];
} ortho_t;

/* The selection's lists, one after another, as the C ABI takes them. */
static void ortho_lists(const ortho_t *s, uint64_t *indices) {
  memcpy(indices, s->rows, s->n[0] * sizeof(uint64_t));
  memcpy(indices + s->n[0], s->cols, s->n[1] * sizeof(uint64_t));
}

static void check_ortho_read(const fixture_t *f, const ortho_t *s, const char *what) {
  uint64_t indices[32];
  int32_t got[256], want[256];
  size_t n = (size_t)(s->n[0] * s->n[1]);
  for (uint64_t a = 0; a < s->n[0]; a++)
    for (uint64_t b = 0; b < s->n[1]; b++)
      want[a * s->n[1] + b] = f->model[s->rows[a] * COLS + s->cols[b]];
  ortho_lists(s, indices);
  memset(got, 0x5A, sizeof got);
  CHECK_OK(zarrlib_array_read_orthogonal(f->array, indices, s->n, 2, n ? got : NULL,
                                         n * sizeof(int32_t)));
  for (size_t k = 0; k < n; k++)
    if (got[k] != want[k])
      FAIL("%s: element %zu is %d, want %d", what, k, (int)got[k], (int)want[k]);
}

static const ortho_t ORTHO_CASES[] = {
    {{4, 3}, {12, 3, 12, 0}, {5, 1, 10}},               /* unsorted, a repeat, the fill row */
    {{3, 4}, {9, 6, 3}, {0, 4, 8, 10}},                 /* a descending progression */
    {{1, 1}, {7}, {2}},                                 /* one element */
    {{5, 2}, {0, 1, 2, 3, 4}, {10, 10}},                /* a range, and one column twice */
    {{13, 11}, {12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
    {{0, 3}, {0}, {1, 2, 3}},                           /* empty */
};
#define N_ORTHO (sizeof ORTHO_CASES / sizeof ORTHO_CASES[0])

/* Points: at most 32 of them. */
typedef struct {
  size_t n;
  uint64_t coords[64];
} points_t;

static void check_points_read(const fixture_t *f, const points_t *p, const char *what) {
  int32_t got[32];
  memset(got, 0x5A, sizeof got);
  CHECK_OK(zarrlib_array_read_coordinates(f->array, p->coords, p->n, 2, p->n ? got : NULL,
                                          p->n * sizeof(int32_t)));
  for (size_t k = 0; k < p->n; k++) {
    int32_t want = f->model[p->coords[2 * k] * COLS + p->coords[2 * k + 1]];
    if (got[k] != want) FAIL("%s: point %zu is %d, want %d", what, k, (int)got[k], (int)want);
  }
}

/* The same points through zarrlib_array_read_coordinate_axes: one signed list per axis, and
 * every index also as its negative (counted back from the end of its axis). */
static void check_point_axes_read(const fixture_t *f, const points_t *p, const char *what) {
  int64_t rows[32], cols[32];
  const int64_t *axes[2] = {rows, cols};
  int32_t plain[32], wrapped[32];
  for (size_t k = 0; k < p->n; k++) {
    rows[k] = (int64_t)p->coords[2 * k];
    cols[k] = (int64_t)p->coords[2 * k + 1];
  }
  memset(plain, 0x5A, sizeof plain);
  CHECK_OK(zarrlib_array_read_coordinate_axes(f->array, axes, p->n, 2, p->n ? plain : NULL,
                                              p->n * sizeof(int32_t)));
  for (size_t k = 0; k < p->n; k++) {
    rows[k] -= ROWS;
    cols[k] -= COLS;
  }
  CHECK_OK(zarrlib_array_read_coordinate_axes(f->array, axes, p->n, 2, p->n ? wrapped : NULL,
                                              p->n * sizeof(int32_t)));
  for (size_t k = 0; k < p->n; k++) {
    int32_t want = f->model[p->coords[2 * k] * COLS + p->coords[2 * k + 1]];
    if (plain[k] != want || wrapped[k] != want)
      FAIL("%s: point %zu is %d (wrapped %d), want %d", what, k, (int)plain[k], (int)wrapped[k],
           (int)want);
  }
}

static const points_t POINT_CASES[] = {
    {5, {12, 10, 0, 0, 5, 7, 0, 0, 11, 2}}, /* unsorted, a repeat, the fill row */
    {1, {3, 3}},
    {6, {0, 10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 5}},
    {0, {0}},
};
#define N_POINTS (sizeof POINT_CASES / sizeof POINT_CASES[0])

static void test_reads_and_writes(zarrlib_store *store, const char *path, const char *metadata) {
  fixture_t f;
  fixture_open(&f, store, path, metadata);
  char what[128];
  for (size_t i = 0; i < N_ORTHO; i++) {
    snprintf(what, sizeof what, "%s orthogonal read %zu", path, i);
    check_ortho_read(&f, &ORTHO_CASES[i], what);
  }
  for (size_t i = 0; i < N_POINTS; i++) {
    snprintf(what, sizeof what, "%s coordinate read %zu", path, i);
    check_points_read(&f, &POINT_CASES[i], what);
    check_point_axes_read(&f, &POINT_CASES[i], what);
  }

  /* Orthogonal writes: each element takes the value of the last entry naming it. */
  int32_t data[256];
  uint64_t indices[32];
  for (size_t i = 0; i < N_ORTHO; i++) {
    const ortho_t *s = &ORTHO_CASES[i];
    size_t n = (size_t)(s->n[0] * s->n[1]);
    for (size_t k = 0; k < n; k++) data[k] = (int32_t)(100000 * (i + 1) + k);
    for (uint64_t a = 0; a < s->n[0]; a++)
      for (uint64_t b = 0; b < s->n[1]; b++)
        f.model[s->rows[a] * COLS + s->cols[b]] = data[a * s->n[1] + b];
    ortho_lists(s, indices);
    CHECK_OK(zarrlib_array_write_orthogonal(f.array, indices, s->n, 2, n ? data : NULL,
                                            n * sizeof(int32_t)));
    snprintf(what, sizeof what, "%s after orthogonal write %zu", path, i);
    check_whole(&f, what);
  }

  /* Coordinate writes: a repeated point takes its last value. */
  for (size_t i = 0; i < N_POINTS; i++) {
    const points_t *p = &POINT_CASES[i];
    for (size_t k = 0; k < p->n; k++) {
      data[k] = (int32_t)(-100000 * (int32_t)(i + 1) - (int32_t)k);
      f.model[p->coords[2 * k] * COLS + p->coords[2 * k + 1]] = data[k];
    }
    CHECK_OK(zarrlib_array_write_coordinates(f.array, p->coords, p->n, 2, p->n ? data : NULL,
                                             p->n * sizeof(int32_t)));
    snprintf(what, sizeof what, "%s after coordinate write %zu", path, i);
    check_whole(&f, what);
  }
  zarrlib_array_free(f.array);
}

/* The last error message of this thread contains `text`. */
static void check_message_has(const char *text) {
  char msg[512];
  tu_last_error(msg, sizeof msg);
  if (!strstr(msg, text)) FAIL("error message \"%s\" does not mention \"%s\"", msg, text);
}

static void test_errors(zarrlib_store *store) {
  fixture_t f;
  fixture_open(&f, store, "errors", I32_PLAIN);
  const int32_t OOB = ZARRLIB_ERR_OUT_OF_BOUNDS, SIZE = ZARRLIB_ERR_BUFFER_SIZE,
                ARG = ZARRLIB_ERR_INVALID_ARGUMENT;
  int32_t out[8];
  int32_t untouched[8];
  memset(out, 0x5A, sizeof out);
  memcpy(untouched, out, sizeof out);

  uint64_t n[2] = {2, 2};
  uint64_t outside[4] = {1, 2, 3, 11}; /* column 11 of 11 */
  CHECK_STATUS(zarrlib_array_read_orthogonal(f.array, outside, n, 2, out, 4 * sizeof(int32_t)),
               OOB);
  check_message_has("axis 1");
  check_message_has("index 11");
  CHECK_STATUS(zarrlib_array_write_orthogonal(f.array, outside, n, 2, out, 4 * sizeof(int32_t)),
               OOB);
  uint64_t inside[4] = {1, 2, 3, 4};
  CHECK_STATUS(zarrlib_array_read_orthogonal(f.array, inside, n, 2, out, 3 * sizeof(int32_t)),
               SIZE);
  CHECK_STATUS(zarrlib_array_write_orthogonal(f.array, inside, n, 2, out, 5 * sizeof(int32_t)),
               SIZE);
  CHECK_STATUS(zarrlib_array_read_orthogonal(f.array, inside, n, 1, out, 2 * sizeof(int32_t)),
               ARG);
  CHECK_STATUS(zarrlib_array_read_orthogonal(f.array, NULL, n, 2, out, 4 * sizeof(int32_t)), ARG);
  CHECK_STATUS(zarrlib_array_read_orthogonal(f.array, inside, NULL, 2, out, 4 * sizeof(int32_t)),
               ARG);
  uint64_t huge[2] = {UINT64_MAX, 2};
  CHECK_STATUS(zarrlib_array_read_orthogonal(f.array, inside, huge, 2, out, sizeof out), ARG);

  uint64_t points[6] = {0, 0, 13, 0, 1, 1}; /* row 13 of 13 */
  CHECK_STATUS(zarrlib_array_read_coordinates(f.array, points, 3, 2, out, 3 * sizeof(int32_t)),
               OOB);
  check_message_has("point 1");
  check_message_has("axis 0");
  CHECK_STATUS(zarrlib_array_write_coordinates(f.array, points, 3, 2, out, 3 * sizeof(int32_t)),
               OOB);
  points[2] = 12;
  CHECK_STATUS(zarrlib_array_read_coordinates(f.array, points, 3, 2, out, 2 * sizeof(int32_t)),
               SIZE);
  CHECK_STATUS(zarrlib_array_write_coordinates(f.array, points, 3, 2, out, 4 * sizeof(int32_t)),
               SIZE);
  CHECK_STATUS(zarrlib_array_read_coordinates(f.array, points, 2, 3, out, 2 * sizeof(int32_t)),
               ARG);
  CHECK_STATUS(zarrlib_array_read_coordinates(f.array, NULL, 3, 2, out, 3 * sizeof(int32_t)), ARG);
  CHECK_STATUS(zarrlib_array_read_coordinates(f.array, points, SIZE_MAX, 2, out, sizeof out), ARG);

  /* Per-axis lists: an index past either end of its axis, a wrong buffer, NULL lists. */
  int64_t rows[3] = {0, 13, -14}, cols[3] = {1, 1, 1};
  const int64_t *axes[2] = {rows, cols};
  CHECK_STATUS(zarrlib_array_read_coordinate_axes(f.array, axes, 2, 2, out, 2 * sizeof(int32_t)),
               OOB);
  check_message_has("index 13");
  check_message_has("axis 0");
  rows[1] = -13;
  CHECK_STATUS(zarrlib_array_read_coordinate_axes(f.array, axes, 3, 2, out, 3 * sizeof(int32_t)),
               OOB);
  check_message_has("index -14");
  CHECK_STATUS(zarrlib_array_read_coordinate_axes(f.array, axes, 2, 2, out, 3 * sizeof(int32_t)),
               SIZE);
  CHECK_STATUS(zarrlib_array_read_coordinate_axes(f.array, axes, 2, 1, out, 2 * sizeof(int32_t)),
               ARG);
  CHECK_STATUS(zarrlib_array_read_coordinate_axes(f.array, NULL, 2, 2, out, 2 * sizeof(int32_t)),
               ARG);
  const int64_t *half[2] = {rows, NULL};
  CHECK_STATUS(zarrlib_array_read_coordinate_axes(f.array, half, 2, 2, out, 2 * sizeof(int32_t)),
               ARG);
  CHECK_STATUS(zarrlib_array_read_coordinate_axes(NULL, axes, 2, 2, out, 2 * sizeof(int32_t)), ARG);

  /* NULL handles and buffers. */
  uint64_t one_each[2] = {1, 1};
  CHECK_STATUS(zarrlib_array_read_orthogonal(NULL, inside, one_each, 2, out, 4), ARG);
  CHECK_STATUS(zarrlib_array_read_orthogonal(f.array, inside, one_each, 2, NULL, 4), ARG);
  CHECK_STATUS(zarrlib_array_write_orthogonal(NULL, inside, one_each, 2, out, 4), ARG);
  CHECK_STATUS(zarrlib_array_write_orthogonal(f.array, inside, one_each, 2, NULL, 4), ARG);
  CHECK_STATUS(zarrlib_array_read_coordinates(NULL, inside, 1, 2, out, 4), ARG);
  CHECK_STATUS(zarrlib_array_read_coordinates(f.array, inside, 1, 2, NULL, 4), ARG);
  CHECK_STATUS(zarrlib_array_write_coordinates(NULL, inside, 1, 2, out, 4), ARG);
  CHECK_STATUS(zarrlib_array_write_coordinates(f.array, NULL, 1, 2, out, 4), ARG);

  CHECK_BYTES(out, untouched, sizeof out);
  check_whole(&f, "after failed writes");
  zarrlib_array_free(f.array);
}

/* ---- store request metrics ------------------------------------------------------------- */

static uint64_t metric(const char *json, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\":", name);
  const char *p = strstr(json, key);
  if (!p) FAIL("metrics %s has no %s", json, key);
  return (uint64_t)strtoull(p + strlen(key), NULL, 10);
}

static void counters(const zarrlib_store *store, uint64_t *reads, uint64_t *writes) {
  char *json = NULL;
  CHECK_OK(zarrlib_store_metrics(store, &json));
  *reads = metric(json, "reads");
  *writes = metric(json, "writes");
  zarrlib_string_free(json);
}

/* The number of distinct chunks (4x3) holding the selected elements. */
static uint64_t ortho_chunks(const ortho_t *s) {
  int rows[4] = {0}, cols[4] = {0};
  uint64_t nr = 0, nc = 0;
  for (uint64_t a = 0; a < s->n[0]; a++)
    if (!rows[s->rows[a] / 4]++) nr++;
  for (uint64_t b = 0; b < s->n[1]; b++)
    if (!cols[s->cols[b] / 3]++) nc++;
  return nr * nc;
}

static uint64_t point_chunks(const points_t *p) {
  int seen[16] = {0};
  uint64_t n = 0;
  for (size_t k = 0; k < p->n; k++)
    if (!seen[(p->coords[2 * k] / 4) * 4 + p->coords[2 * k + 1] / 3]++) n++;
  return n;
}

static void test_metrics(const char *url) {
  zarrlib_store *store = NULL;
  CHECK_OK(zarrlib_store_open(url, "{\"metrics\": true}", &store));
  fixture_t f;
  fixture_open(&f, store, "m", I32_PLAIN);
  /* Row 12 was never written: fill the array so every chunk is stored (a missing chunk is a
   * read too, but this keeps the count plain). */
  uint64_t last[2] = {12, 0}, row[2] = {1, COLS};
  int32_t fill_row[COLS];
  for (uint64_t c = 0; c < COLS; c++) f.model[12 * COLS + c] = fill_row[c] = value(12, c);
  CHECK_OK(zarrlib_array_write_region(f.array, last, row, 2, fill_row, sizeof fill_row));

  uint64_t r0, w0, r1, w1, indices[32];
  int32_t buf[256];
  for (size_t i = 0; i < N_ORTHO; i++) {
    const ortho_t *s = &ORTHO_CASES[i];
    size_t n = (size_t)(s->n[0] * s->n[1]);
    uint64_t chunks = n ? ortho_chunks(s) : 0;
    ortho_lists(s, indices);
    counters(store, &r0, &w0);
    CHECK_OK(zarrlib_array_read_orthogonal(f.array, indices, s->n, 2, n ? buf : NULL,
                                           n * sizeof(int32_t)));
    counters(store, &r1, &w1);
    if (r1 - r0 != chunks || w1 != w0)
      FAIL("%s: orthogonal read %zu made %" PRIu64 " reads and %" PRIu64
           " writes, want %" PRIu64 " reads (one per chunk holding selected elements)",
           url, i, r1 - r0, w1 - w0, chunks);
    counters(store, &r0, &w0);
    CHECK_OK(zarrlib_array_write_orthogonal(f.array, indices, s->n, 2, n ? buf : NULL,
                                            n * sizeof(int32_t)));
    counters(store, &r1, &w1);
    if (r1 - r0 != chunks || w1 - w0 != chunks)
      FAIL("%s: orthogonal write %zu made %" PRIu64 " reads and %" PRIu64 " writes, want %" PRIu64
           " of each",
           url, i, r1 - r0, w1 - w0, chunks);
  }
  for (size_t i = 0; i < N_POINTS; i++) {
    const points_t *p = &POINT_CASES[i];
    uint64_t chunks = point_chunks(p);
    counters(store, &r0, &w0);
    CHECK_OK(zarrlib_array_read_coordinates(f.array, p->coords, p->n, 2, p->n ? buf : NULL,
                                            p->n * sizeof(int32_t)));
    counters(store, &r1, &w1);
    if (r1 - r0 != chunks || w1 != w0)
      FAIL("%s: coordinate read %zu made %" PRIu64 " reads and %" PRIu64 " writes, want %" PRIu64
           " reads",
           url, i, r1 - r0, w1 - w0, chunks);
    counters(store, &r0, &w0);
    CHECK_OK(zarrlib_array_write_coordinates(f.array, p->coords, p->n, 2, p->n ? buf : NULL,
                                             p->n * sizeof(int32_t)));
    counters(store, &r1, &w1);
    if (r1 - r0 != chunks || w1 - w0 != chunks)
      FAIL("%s: coordinate write %zu made %" PRIu64 " reads and %" PRIu64
           " writes, want %" PRIu64 " of each",
           url, i, r1 - r0, w1 - w0, chunks);
  }
  zarrlib_array_free(f.array);
  zarrlib_store_free(store);
}

static void run(const char *url) {
  zarrlib_store *store = tu_open_store(url);
  test_reads_and_writes(store, "plain", I32_PLAIN);
  test_reads_and_writes(store, "sharded", I32_SHARDED);
  test_errors(store);
  zarrlib_store_free(store);
}

int main(void) {
  run("memory://");
  test_metrics("memory://");

  char *dir = tu_make_temp_dir();
  char *a = tu_join(dir, "arrays"), *b = tu_join(dir, "metrics");
  run(a);
  test_metrics(b);
  free(a);
  free(b);
  tu_remove_temp_dir(dir);

  printf("test_indexed_selections: all checks passed\n");
  return 0;
}
