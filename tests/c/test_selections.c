/*
 * Strided selections (zarrlib_array_read_selection / zarrlib_array_write_selection) and store
 * request metrics (zarrlib_store_metrics), checked against an in-memory model of the array:
 *  - reads with positive, negative and mixed steps on a 13x11 int32 array of 4x3 chunks (edge
 *    chunks on both axes) holding a known region over the fill value, compared element by
 *    element with the model; plus single elements, plain regions (step 1), steps larger than
 *    the array, INT64_MIN / INT64_MAX steps and empty selections;
 *  - writes of strided selections: reading the whole array back, exactly the selected elements
 *    changed, each to its value in the caller's buffer;
 *  - on stores opened with {"metrics": true}: a read selection makes exactly one store read per
 *    chunk holding selected elements (zstd, not sharded, every chunk stored) and no writes; a
 *    write selection reads and writes exactly those chunks;
 *  - argument errors: zero steps, selected indices outside the array, wrong buffer lengths,
 *    wrong dimension counts, and metrics of a store opened without the option. Failed calls
 *    leave the output buffer and the array unchanged.
 * Each runs on a memory store and a directory store. (NULL pointers and invalid handles are in
 * test_errors.c.)
 */
#include "test_util.h"

#include <stdint.h>

/* int32, shape [13,11], chunks [4,3] (grid [4,4]: the last chunk row holds 1 row, the last chunk
 * column 2 columns), fill -1, zstd. */
#define ROWS 13
#define COLS 11
#define CROWS 4
#define CCOLS 3
#define FILL (-1)
static const char *I32_ZSTD =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[13,11],\"data_type\":\"int32\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,3]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":-1," TU_ZSTD_CODECS;

/* ---- the model ------------------------------------------------------------------------ */

typedef struct {
  zarrlib_store *store;
  zarrlib_array *array;
  int32_t model[ROWS * COLS]; /* what the whole array must hold, C order */
} fixture_t;

/* The value of element (r, c) in the known region; never the fill value. */
static int32_t region_value(uint64_t r, uint64_t c) { return (int32_t)(1000 * r + c + 1); }

/* The k-th index of an axis selection: start + k * step, in the wrap-around arithmetic of
 * uint64_t (exact for every selection inside the array, negative steps included). */
static uint64_t sel_index(uint64_t start, int64_t step, uint64_t k) {
  return start + k * (uint64_t)step;
}

/* A fresh array at `path` holding the region rows 1..11, columns 1..9 (so every chunk holds
 * data, and the border rows and columns are the fill value). */
static void fixture_open(fixture_t *f, zarrlib_store *store, const char *path) {
  f->store = store;
  f->array = tu_create_and_open(store, path, I32_ZSTD);
  for (size_t i = 0; i < ROWS * COLS; i++) f->model[i] = FILL;
  uint64_t start[2] = {1, 1}, shape[2] = {11, 9};
  int32_t block[11 * 9];
  for (uint64_t r = 0; r < shape[0]; r++)
    for (uint64_t c = 0; c < shape[1]; c++) {
      int32_t v = region_value(start[0] + r, start[1] + c);
      block[r * shape[1] + c] = v;
      f->model[(start[0] + r) * COLS + start[1] + c] = v;
    }
  CHECK_OK(zarrlib_array_write_region(f->array, start, shape, 2, block, sizeof block));
}

/* The whole array equals the model. */
static void check_whole(const fixture_t *f, const char *when) {
  int32_t all[ROWS * COLS];
  memset(all, 0xA5, sizeof all);
  uint64_t origin[2] = {0, 0}, shape[2] = {ROWS, COLS};
  CHECK_OK(zarrlib_array_read_region(f->array, origin, shape, 2, all, sizeof all));
  for (size_t i = 0; i < ROWS * COLS; i++)
    if (all[i] != f->model[i])
      FAIL("%s: element [%zu,%zu] is %d, want %d", when, i / COLS, i % COLS, (int)all[i],
           (int)f->model[i]);
}

/* One selection of the 2-D array: the caller's start, step and count per axis. */
typedef struct {
  uint64_t start[2];
  int64_t step[2];
  uint64_t count[2];
} sel_t;

static size_t sel_size(const sel_t *s) { return (size_t)(s->count[0] * s->count[1]); }

/* What reading `s` must give, computed from the model. */
static void model_selection(const fixture_t *f, const sel_t *s, int32_t *want) {
  for (uint64_t i = 0; i < s->count[0]; i++)
    for (uint64_t j = 0; j < s->count[1]; j++) {
      uint64_t r = sel_index(s->start[0], s->step[0], i), c = sel_index(s->start[1], s->step[1], j);
      if (r >= ROWS || c >= COLS) FAIL("test bug: selection leaves the array");
      want[i * s->count[1] + j] = f->model[r * COLS + c];
    }
}

/* Read `s` and compare it with the model, element by element. */
static void check_read(const fixture_t *f, const sel_t *s, const char *what) {
  size_t n = sel_size(s);
  int32_t *got = tu_xmalloc(n * sizeof(int32_t)), *want = tu_xmalloc(n * sizeof(int32_t));
  memset(got, 0x5A, n * sizeof(int32_t));
  model_selection(f, s, want);
  CHECK_OK(zarrlib_array_read_selection(f->array, s->start, s->step, s->count, 2, got,
                                        n * sizeof(int32_t)));
  for (size_t k = 0; k < n; k++)
    if (got[k] != want[k])
      FAIL("%s: selection start (%" PRIu64 ",%" PRIu64 ") step (%" PRId64 ",%" PRId64
           ") count (%" PRIu64 ",%" PRIu64 "): element [%zu,%zu] is %d, want %d",
           what, s->start[0], s->start[1], s->step[0], s->step[1], s->count[0], s->count[1],
           k / (size_t)s->count[1], k % (size_t)s->count[1], (int)got[k], (int)want[k]);
  free(got);
  free(want);
}

/* Write `data` to `s`, update the model, and check the whole array: exactly the selected
 * elements changed. Then reading `s` back gives `data`. */
static void do_write(fixture_t *f, const sel_t *s, const int32_t *data, const char *what) {
  size_t n = sel_size(s);
  CHECK_OK(zarrlib_array_write_selection(f->array, s->start, s->step, s->count, 2, data,
                                         n * sizeof(int32_t)));
  for (uint64_t i = 0; i < s->count[0]; i++)
    for (uint64_t j = 0; j < s->count[1]; j++) {
      uint64_t r = sel_index(s->start[0], s->step[0], i), c = sel_index(s->start[1], s->step[1], j);
      f->model[r * COLS + c] = data[i * s->count[1] + j];
    }
  check_whole(f, what);
  int32_t *back = tu_xmalloc(n * sizeof(int32_t));
  memset(back, 0x5A, n * sizeof(int32_t));
  CHECK_OK(zarrlib_array_read_selection(f->array, s->start, s->step, s->count, 2, back,
                                        n * sizeof(int32_t)));
  CHECK_BYTES(back, data, n * sizeof(int32_t));
  free(back);
}

/* ---- reads ------------------------------------------------------------------------------- */

static void test_read_selections(const char *url) {
  zarrlib_store *store = tu_open_store(url);
  fixture_t f;
  fixture_open(&f, store, "r");
  check_whole(&f, "after the region write");

  static const sel_t cases[] = {
      /* Positive steps from the origin, to the last row and column (edge chunks). */
      {{0, 0}, {2, 3}, {7, 4}},  /* rows 0,2,..,12; columns 0,3,6,9 */
      {{1, 2}, {5, 4}, {3, 3}},  /* rows 1,6,11; columns 2,6,10 */
      {{3, 1}, {3, 2}, {4, 5}},  /* rows 3,6,9,12; columns 1,3,5,7,9 */
      /* Negative steps on both axes, starting in the edge chunks. */
      {{12, 10}, {-3, -2}, {5, 6}}, /* rows 12,9,6,3,0; columns 10,8,..,0 */
      {{12, 10}, {-1, -1}, {13, 11}}, /* the whole array, reversed both ways */
      {{11, 9}, {-4, -5}, {3, 2}},  /* rows 11,7,3; columns 9,4 */
      /* Mixed: one axis forwards, the other backwards. */
      {{1, 10}, {5, -4}, {3, 3}},   /* rows 1,6,11; columns 10,6,2 */
      {{12, 0}, {-2, 1}, {7, 11}},  /* rows 12,10,..,0; every column */
      {{0, 10}, {1, -1}, {13, 11}}, /* every row; columns reversed */
      {{10, 2}, {-7, 7}, {2, 2}},   /* rows 10,3; columns 2,9 */
      /* Step 1 on both axes: a plain region across chunk boundaries. */
      {{2, 1}, {1, 1}, {5, 7}},
      {{0, 0}, {1, 1}, {13, 11}},
      /* Step 1 on one axis only. */
      {{3, 2}, {1, 3}, {6, 3}},
      {{9, 8}, {-2, 1}, {5, 3}},
      /* Single elements, with steps that do not matter (and would leave the array if they
       * did): the last element, the origin, an interior one. */
      {{12, 10}, {100, -100}, {1, 1}},
      {{0, 0}, {-1, -1}, {1, 1}},
      {{5, 4}, {INT64_MIN, INT64_MAX}, {1, 1}},
      /* One row or one column, strided along the other axis. */
      {{7, 10}, {1, -3}, {1, 4}},
      {{12, 5}, {-6, 9}, {3, 1}},
      /* Steps that land on the very first and last index of the axis. */
      {{0, 0}, {12, 10}, {2, 2}},
      {{12, 10}, {-12, -10}, {2, 2}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_read(&f, &cases[i], url);

  /* Empty selections: OK, nothing read, the buffer may be NULL. */
  const sel_t empty[] = {
      {{0, 0}, {1, 1}, {0, 0}},
      {{3, 4}, {2, -1}, {0, 5}},
      {{12, 10}, {-3, -2}, {4, 0}},
  };
  int32_t untouched = 77;
  for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
    CHECK_OK(zarrlib_array_read_selection(f.array, empty[i].start, empty[i].step, empty[i].count,
                                          2, NULL, 0));
    CHECK_OK(zarrlib_array_read_selection(f.array, empty[i].start, empty[i].step, empty[i].count,
                                          2, &untouched, 0));
    CHECK_OK(zarrlib_array_write_selection(f.array, empty[i].start, empty[i].step, empty[i].count,
                                           2, NULL, 0));
  }
  CHECK(untouched == 77);
  check_whole(&f, "after empty selections");

  zarrlib_array_free(f.array);
  zarrlib_store_free(store);
}

/* ---- writes ------------------------------------------------------------------------------ */

static void test_write_selections(const char *url) {
  zarrlib_store *store = tu_open_store(url);
  fixture_t f;
  fixture_open(&f, store, "w");

  static const struct {
    sel_t s;
    const char *what;
  } cases[] = {
      {{{0, 0}, {3, 4}, {5, 3}}, "positive steps"},           /* rows 0,3,..,12; cols 0,4,8 */
      {{{12, 10}, {-5, -3}, {3, 4}}, "negative steps"},       /* rows 12,7,2; cols 10,7,4,1 */
      {{{1, 9}, {2, -2}, {6, 5}}, "mixed steps"},             /* rows 1,3,..,11; cols 9,7,..,1 */
      {{{11, 0}, {-1, 10}, {4, 2}}, "mixed steps, step 1"},   /* rows 11..8; cols 0,10 */
      {{{2, 5}, {1, 1}, {3, 4}}, "a plain region"},
      {{{6, 6}, {-6, 100}, {2, 1}}, "one column"},            /* rows 6,0; col 6 */
      {{{12, 3}, {1, 2}, {1, 4}}, "the one-row edge chunks"}, /* row 12; cols 3,5,7,9 */
  };
  int32_t data[64];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const sel_t *s = &cases[i].s;
    size_t n = sel_size(s);
    CHECK(n <= 64);
    /* Values unlike anything in the array, different for every case and element. */
    for (size_t k = 0; k < n; k++) data[k] = (int32_t)(100000 * (i + 1) + 7 * k + 3);
    do_write(&f, s, data, cases[i].what);
  }

  /* The same elements written again with other values: the last write wins. */
  const sel_t again = {{12, 10}, {-5, -3}, {3, 4}};
  for (size_t k = 0; k < 12; k++) data[k] = (int32_t)(-1000 - (int32_t)k);
  do_write(&f, &again, data, "a rewrite");

  /* Another handle on the node reads the same. */
  zarrlib_array *other = NULL;
  CHECK_OK(zarrlib_array_open(store, "w", &other));
  zarrlib_array *mine = f.array;
  f.array = other;
  check_whole(&f, "through a second handle");
  f.array = mine;
  zarrlib_array_free(other);

  zarrlib_array_free(f.array);
  zarrlib_store_free(store);
}

/* ---- store request metrics ------------------------------------------------------------- */

/* A counter of a metrics document: `"name":<number>`. */
static uint64_t metric(const char *json, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\"", name);
  const char *p = strstr(json, key);
  if (!p) FAIL("metrics %s has no %s", json, key);
  p += strlen(key);
  while (*p == ' ' || *p == ':') p++;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(p, &end, 10);
  if (end == p || errno != 0) FAIL("metrics %s: %s is not a number", json, key);
  return (uint64_t)v;
}

typedef struct {
  uint64_t reads, bytes_read, writes, bytes_written, keys_erased;
} counters_t;

static counters_t counters(const zarrlib_store *store) {
  char *json = NULL;
  CHECK_OK(zarrlib_store_metrics(store, &json));
  CHECK(json != NULL && json[0] == '{');
  counters_t c = {metric(json, "reads"), metric(json, "bytes_read"), metric(json, "writes"),
                  metric(json, "bytes_written"), metric(json, "keys_erased")};
  zarrlib_string_free(json);
  return c;
}

/* The number of chunks along one axis that hold selected indices (the indices run in one
 * direction, so chunks change only between neighbours). */
static uint64_t axis_chunks(uint64_t start, int64_t step, uint64_t count, uint64_t chunk) {
  uint64_t n = 0, last = UINT64_MAX;
  for (uint64_t k = 0; k < count; k++) {
    uint64_t c = sel_index(start, step, k) / chunk;
    if (c != last) n++;
    last = c;
  }
  return n;
}

/* uint16, shape [20,20], chunks [3,4] (grid [7,5], the last chunk row holds 2 rows), fill 0,
 * zstd, not sharded: every chunk is one store key. */
#define M_ROWS 20
#define M_COLS 20
#define M_CROWS 3
#define M_CCOLS 4
static const char *U16_METERED =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[20,20],\"data_type\":\"uint16\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[3,4]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0," TU_ZSTD_CODECS;

static uint16_t m_value(uint64_t r, uint64_t c) { return (uint16_t)(100 * r + c + 1); }

static void test_metrics(const char *url) {
  zarrlib_store *store = NULL;
  CHECK_OK(zarrlib_store_open(url, "{\"metrics\": true}", &store));

  /* A fresh store has made no requests. */
  counters_t c0 = counters(store);
  CHECK(c0.reads == 0 && c0.bytes_read == 0 && c0.writes == 0 && c0.bytes_written == 0 &&
        c0.keys_erased == 0);

  zarrlib_array *array = NULL;
  CHECK_OK(zarrlib_array_create(store, "m", U16_METERED, false));
  counters_t c1 = counters(store);
  CHECK(c1.writes >= 1 && c1.bytes_written > 0);
  CHECK_OK(zarrlib_array_open(store, "m", &array));

  /* Every chunk holds data: the whole array, written in one region (35 chunk writes). */
  uint16_t all[M_ROWS * M_COLS];
  for (uint64_t r = 0; r < M_ROWS; r++)
    for (uint64_t c = 0; c < M_COLS; c++) all[r * M_COLS + c] = m_value(r, c);
  uint64_t origin[2] = {0, 0}, shape[2] = {M_ROWS, M_COLS};
  counters_t before = counters(store);
  CHECK_OK(zarrlib_array_write_region(array, origin, shape, 2, all, sizeof all));
  counters_t after = counters(store);
  CHECK_EQ_U64(after.writes - before.writes, 7 * 5);
  CHECK_EQ_U64(after.keys_erased - before.keys_erased, 0);

  /* Reading the whole array reads every chunk once. */
  uint16_t back[M_ROWS * M_COLS];
  before = after;
  CHECK_OK(zarrlib_array_read_region(array, origin, shape, 2, back, sizeof back));
  after = counters(store);
  CHECK_BYTES(back, all, sizeof all);
  CHECK_EQ_U64(after.reads - before.reads, 7 * 5);
  CHECK_EQ_U64(after.writes - before.writes, 0);

  /* Selections with steps larger than the chunk (on one or both axes): one store read per
   * chunk holding selected elements, no writes. */
  static const sel_t cases[] = {
      {{1, 2}, {5, 9}, {4, 2}},     /* rows 1,6,11,16 (chunks 0,2,3,5); cols 2,11 (0,2) */
      {{19, 18}, {-7, -5}, {3, 4}}, /* rows 19,12,5 (6,4,1); cols 18,13,8,3 (4,3,2,0) */
      {{0, 19}, {4, -6}, {5, 4}},   /* rows 0,4,..,16 (0,1,2,4,5); cols 19,13,7,1 (4,3,1,0) */
      {{18, 0}, {-6, 5}, {4, 4}},   /* rows 18,12,6,0 (6,4,2,0); cols 0,5,10,15 (0,1,2,3) */
      {{2, 3}, {10, 1}, {2, 10}},   /* rows 2,12 (0,4); cols 3..12 (0,1,2,3) */
      {{0, 0}, {2, 7}, {10, 3}},    /* rows 0,2,..,18 (every chunk row); cols 0,7,14 (0,1,3) */
      {{19, 19}, {-19, -19}, {2, 2}}, /* the four corners */
      {{10, 10}, {1000, -1000}, {1, 1}}, /* one element */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const sel_t *s = &cases[i];
    size_t n = sel_size(s);
    uint16_t got[64], want[64];
    CHECK(n <= 64);
    for (uint64_t a = 0; a < s->count[0]; a++)
      for (uint64_t b = 0; b < s->count[1]; b++)
        want[a * s->count[1] + b] =
            m_value(sel_index(s->start[0], s->step[0], a), sel_index(s->start[1], s->step[1], b));
    uint64_t chunks = axis_chunks(s->start[0], s->step[0], s->count[0], M_CROWS) *
                      axis_chunks(s->start[1], s->step[1], s->count[1], M_CCOLS);
    memset(got, 0x5A, sizeof got);
    before = counters(store);
    CHECK_OK(zarrlib_array_read_selection(array, s->start, s->step, s->count, 2, got,
                                          n * sizeof(uint16_t)));
    after = counters(store);
    CHECK_BYTES(got, want, n * sizeof(uint16_t));
    if (after.reads - before.reads != chunks)
      FAIL("%s: selection %zu made %" PRIu64 " store reads, want %" PRIu64
           " (one per chunk holding selected elements)",
           url, i, after.reads - before.reads, chunks);
    CHECK_EQ_U64(after.writes - before.writes, 0);
    CHECK_EQ_U64(after.keys_erased - before.keys_erased, 0);
  }

  /* An empty selection makes no request at all. */
  const sel_t none = {{4, 4}, {7, -3}, {3, 0}};
  before = counters(store);
  CHECK_OK(zarrlib_array_read_selection(array, none.start, none.step, none.count, 2, NULL, 0));
  CHECK_OK(zarrlib_array_write_selection(array, none.start, none.step, none.count, 2, NULL, 0));
  after = counters(store);
  CHECK(after.reads == before.reads && after.writes == before.writes &&
        after.bytes_read == before.bytes_read && after.bytes_written == before.bytes_written);

  /* A strided write reads and writes exactly the chunks holding selected elements; every
   * other chunk is untouched. */
  const sel_t w = {{17, 1}, {-8, 6}, {3, 3}}; /* rows 17,9,1 (5,3,0); cols 1,7,13 (0,1,3) */
  uint16_t data[9];
  for (size_t k = 0; k < 9; k++) data[k] = (uint16_t)(50000 + k);
  before = counters(store);
  CHECK_OK(zarrlib_array_write_selection(array, w.start, w.step, w.count, 2, data, sizeof data));
  after = counters(store);
  CHECK_EQ_U64(after.writes - before.writes, 9);
  CHECK_EQ_U64(after.reads - before.reads, 9);
  CHECK_EQ_U64(after.keys_erased - before.keys_erased, 0);
  for (uint64_t a = 0; a < 3; a++)
    for (uint64_t b = 0; b < 3; b++)
      all[sel_index(w.start[0], w.step[0], a) * M_COLS + sel_index(w.start[1], w.step[1], b)] =
          data[a * 3 + b];
  CHECK_OK(zarrlib_array_read_region(array, origin, shape, 2, back, sizeof back));
  CHECK_BYTES(back, all, sizeof all);

  /* Failed calls make no request either. */
  const sel_t bad = {{19, 0}, {1, 1}, {2, 1}};
  uint16_t two[2] = {1, 2};
  before = counters(store);
  CHECK_STATUS(zarrlib_array_read_selection(array, bad.start, bad.step, bad.count, 2, two,
                                            sizeof two),
               ZARRLIB_ERR_OUT_OF_BOUNDS);
  CHECK_STATUS(zarrlib_array_write_selection(array, bad.start, bad.step, bad.count, 2, two,
                                             sizeof two),
               ZARRLIB_ERR_OUT_OF_BOUNDS);
  after = counters(store);
  CHECK(after.reads == before.reads && after.writes == before.writes);

  /* The counters belong to the store: a second metered store starts from zero. */
  zarrlib_store *other = NULL;
  CHECK_OK(zarrlib_store_open("memory://", "{\"metrics\": true}", &other));
  counters_t fresh = counters(other);
  CHECK(fresh.reads == 0 && fresh.writes == 0);
  zarrlib_store_free(other);

  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* ---- argument errors ------------------------------------------------------------------- */

static void test_selection_errors(const char *url) {
  zarrlib_store *store = tu_open_store(url);
  fixture_t f;
  fixture_open(&f, store, "e");
  const int32_t A = ZARRLIB_ERR_INVALID_ARGUMENT, O = ZARRLIB_ERR_OUT_OF_BOUNDS,
                B = ZARRLIB_ERR_BUFFER_SIZE;
  int32_t buf[16], saved[16];
  for (int i = 0; i < 16; i++) buf[i] = 0x5A5A0000 + i;
  memcpy(saved, buf, sizeof buf);

  /* A zero step, on either axis, whatever the count. */
  static const sel_t zero_steps[] = {
      {{0, 0}, {0, 1}, {2, 2}},
      {{0, 0}, {1, 0}, {2, 2}},
      {{5, 5}, {0, 0}, {1, 1}},
      {{5, 5}, {0, -1}, {0, 1}},
  };
  for (size_t i = 0; i < sizeof zero_steps / sizeof zero_steps[0]; i++) {
    const sel_t *s = &zero_steps[i];
    size_t len = sel_size(s) * sizeof(int32_t);
    CHECK_STATUS(zarrlib_array_read_selection(f.array, s->start, s->step, s->count, 2,
                                              len ? buf : NULL, len),
                 A);
    CHECK_STATUS(zarrlib_array_write_selection(f.array, s->start, s->step, s->count, 2,
                                               len ? buf : NULL, len),
                 A);
  }

  /* A selected index outside the array [13,11]. */
  static const sel_t outside[] = {
      {{13, 0}, {1, 1}, {1, 1}},          /* start one past the end */
      {{0, 11}, {1, 1}, {1, 1}},
      {{0, 0}, {1, 1}, {14, 1}},          /* one row too many */
      {{0, 0}, {2, 1}, {8, 1}},           /* rows 0,2,..,14 */
      {{1, 0}, {12, 1}, {2, 1}},          /* rows 1,13 */
      {{0, 10}, {1, 1}, {1, 2}},          /* columns 10,11 */
      {{2, 0}, {-3, 1}, {2, 1}},          /* rows 2,-1 */
      {{12, 10}, {-1, -1}, {13, 12}},     /* columns 10,..,0,-1 */
      {{0, 5}, {1, -6}, {1, 2}},          /* columns 5,-1 */
      {{0, 0}, {INT64_MAX, 1}, {2, 1}},   /* rows 0, 2^63-1 */
      {{12, 0}, {INT64_MIN, 1}, {2, 1}},  /* rows 12, 12-2^63 */
      {{UINT64_MAX, 0}, {1, 1}, {1, 1}},
      {{UINT64_MAX, 0}, {-1, 1}, {2, 1}}, /* the first index is already outside */
      {{1, 0}, {2, 1}, {UINT64_MAX, 1}},  /* (count - 1) * step overflows */
      {{0, 0}, {-1, 1}, {UINT64_MAX, 1}},
  };
  for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
    const sel_t *s = &outside[i];
    /* The buffer length does not matter: the bounds are checked first. */
    int32_t st = zarrlib_array_read_selection(f.array, s->start, s->step, s->count, 2, buf,
                                              sizeof buf);
    if (st != O)
      FAIL("read_selection(outside[%zu]) returned %s, expected ZARRLIB_ERR_OUT_OF_BOUNDS", i,
           zarrlib_status_name(st));
    tu_check_error_message(__FILE__, __LINE__, "read_selection(outside)");
    st = zarrlib_array_write_selection(f.array, s->start, s->step, s->count, 2, buf, sizeof buf);
    if (st != O)
      FAIL("write_selection(outside[%zu]) returned %s, expected ZARRLIB_ERR_OUT_OF_BOUNDS", i,
           zarrlib_status_name(st));
    tu_check_error_message(__FILE__, __LINE__, "write_selection(outside)");
  }

  /* Wrong buffer lengths: 2 x 3 int32 elements need 24 bytes. */
  const sel_t six = {{1, 9}, {3, -4}, {2, 3}};
  const size_t lens[] = {0, 1, 20, 23, 25, 28, 48};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    CHECK_STATUS(zarrlib_array_read_selection(f.array, six.start, six.step, six.count, 2, buf,
                                              lens[i]),
                 B);
    CHECK_STATUS(zarrlib_array_write_selection(f.array, six.start, six.step, six.count, 2, buf,
                                               lens[i]),
                 B);
  }
  /* An empty selection needs exactly 0 bytes. */
  const sel_t empty = {{1, 1}, {2, 2}, {0, 3}};
  CHECK_STATUS(zarrlib_array_read_selection(f.array, empty.start, empty.step, empty.count, 2, buf,
                                            4),
               B);
  CHECK_STATUS(zarrlib_array_write_selection(f.array, empty.start, empty.step, empty.count, 2,
                                             buf, 4),
               B);

  /* A dimension count that is not the array's (2). */
  uint64_t start3[3] = {0, 0, 0}, count3[3] = {1, 1, 1};
  int64_t step3[3] = {1, 1, 1};
  CHECK_STATUS(zarrlib_array_read_selection(f.array, start3, step3, count3, 3, buf, 4), A);
  CHECK_STATUS(zarrlib_array_read_selection(f.array, start3, step3, count3, 1, buf, 4), A);
  CHECK_STATUS(zarrlib_array_read_selection(f.array, NULL, NULL, NULL, 0, buf, 4), A);
  CHECK_STATUS(zarrlib_array_write_selection(f.array, start3, step3, count3, 3, buf, 4), A);
  CHECK_STATUS(zarrlib_array_write_selection(f.array, start3, step3, count3, 1, buf, 4), A);
  CHECK_STATUS(zarrlib_array_write_selection(f.array, NULL, NULL, NULL, 0, buf, 4), A);

  /* No failed read wrote the buffer, no failed write changed the array. */
  CHECK_BYTES(buf, saved, sizeof buf);
  check_whole(&f, "after failed selections");

  /* Metrics need the option. */
  char *json = (char *)(uintptr_t)0x5678;
  char *const SENTINEL = json;
  CHECK_STATUS(zarrlib_store_metrics(store, &json), A);
  CHECK(json == SENTINEL);
  zarrlib_store *off = NULL;
  CHECK_OK(zarrlib_store_open(url, "{\"metrics\": false}", &off));
  CHECK_STATUS(zarrlib_store_metrics(off, &json), A);
  CHECK(json == SENTINEL);
  zarrlib_store_free(off);
  off = NULL;
  /* ... given as a boolean. */
  CHECK_STATUS(zarrlib_store_open(url, "{\"metrics\": 1}", &off), A);
  CHECK_STATUS(zarrlib_store_open(url, "{\"metrics\": \"yes\"}", &off), A);
  CHECK(off == NULL);

  zarrlib_array_free(f.array);
  zarrlib_store_free(store);
}

int main(void) {
  test_read_selections("memory://");
  test_write_selections("memory://");
  test_metrics("memory://");
  test_selection_errors("memory://");

  char *dir = tu_make_temp_dir();
  char *a = tu_join(dir, "reads"), *b = tu_join(dir, "writes"), *c = tu_join(dir, "metrics"),
       *d = tu_join(dir, "errors");
  test_read_selections(a);
  test_write_selections(b);
  test_metrics(c);
  test_selection_errors(d);
  free(a);
  free(b);
  free(c);
  free(d);
  tu_remove_temp_dir(dir);

  printf("test_selections: all checks passed\n");
  return 0;
}
