/*
 * Concurrency through ONE shared array handle (pthreads):
 *  1. 8 writer threads each own a row of chunks: they write whole chunks, partial regions inside
 *     their chunks and regions across their own chunk boundaries, and read everything back;
 *     2 reader threads meanwhile read the whole array and check that every element is either
 *     the fill value or a value that was written to that very element. Then the main thread
 *     checks every byte.
 *  2. 8 threads write different partial regions of the SAME chunk at once, element by element
 *     and row by row, over several rounds: per-chunk locking must make every update land, which
 *     every thread checks after each round.
 *  3. 8 threads write row strips that each span a whole row of chunks, so every chunk is shared
 *     by several threads: no update may be lost and nothing may deadlock.
 * Each runs on a memory store and a directory store; 2 and 3 also with a sharded array (where
 * a "chunk" is a shard holding several inner chunks) and with a 1-thread engine pool.
 */
#include "test_util.h"

#include <pthread.h>

#define NTHREADS 8
#define ROUNDS 3

/* The value written to element (row, col) in `round` (1-based): never 0, the fill value, and it
 * encodes its own position so a reader can tell a right value from a misplaced one. */
static uint32_t value_at(unsigned round, uint64_t row, uint64_t col) {
  return (uint32_t)(round * 1000000u + row * 1000u + col);
}

static int plausible(uint32_t v, uint64_t row, uint64_t col) {
  return v == 0 || (v / 1000000u >= 1 && v / 1000000u <= ROUNDS && v % 1000000u == row * 1000u + col);
}

/* Read the whole array and check every element against the last round's values. */
static void check_final(zarrlib_array *array, uint64_t rows, uint64_t cols, const char *what) {
  uint32_t *all = tu_xmalloc(sizeof(uint32_t) * rows * cols);
  uint64_t origin[2] = {0, 0}, shape[2] = {rows, cols};
  CHECK_OK(zarrlib_array_read_region(array, origin, shape, 2, all, sizeof(uint32_t) * rows * cols));
  for (uint64_t r = 0; r < rows; r++)
    for (uint64_t c = 0; c < cols; c++)
      if (all[r * cols + c] != value_at(ROUNDS, r, c))
        FAIL("%s: element [%" PRIu64 ",%" PRIu64 "] is %" PRIu32 ", want %" PRIu32, what, r, c,
             all[r * cols + c], value_at(ROUNDS, r, c));
  free(all);
}

static const char *U32_ZSTD_64x48 =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[64,48],\"data_type\":\"uint32\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,6]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
    "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}";

/* ---- 1. disjoint chunks, one handle ---------------------------------------------------- */

enum { CR = 8, CC = 6, GRID_COLS = 8, ROWS1 = 64, COLS1 = 48 };

typedef struct {
  zarrlib_array *array;
  pthread_barrier_t *barrier;
  volatile int *writers_done;
  unsigned id;
} worker_t;

/* Fill `buf` (shape rows x cols at start r0, c0) with round `round`'s values. */
static void fill_block(uint32_t *buf, unsigned round, uint64_t r0, uint64_t c0, uint64_t rows,
                       uint64_t cols) {
  for (uint64_t r = 0; r < rows; r++)
    for (uint64_t c = 0; c < cols; c++) buf[r * cols + c] = value_at(round, r0 + r, c0 + c);
}

static void check_block(const uint32_t *buf, unsigned round, uint64_t r0, uint64_t c0,
                        uint64_t rows, uint64_t cols, unsigned thread) {
  for (uint64_t r = 0; r < rows; r++)
    for (uint64_t c = 0; c < cols; c++)
      if (buf[r * cols + c] != value_at(round, r0 + r, c0 + c))
        FAIL("thread %u round %u: element [%" PRIu64 ",%" PRIu64 "] is %" PRIu32 ", want %" PRIu32,
             thread, round, r0 + r, c0 + c, buf[r * cols + c], value_at(round, r0 + r, c0 + c));
}

static void *disjoint_writer(void *arg) {
  worker_t *w = arg;
  const uint64_t ci = w->id; /* this thread's chunk row */
  const uint64_t r0 = ci * CR;
  uint32_t chunk[CR * CC], row_block[CR * COLS1];
  pthread_barrier_wait(w->barrier);
  for (unsigned round = 1; round <= ROUNDS; round++) {
    /* Chunks 0..3: whole chunks. */
    for (uint64_t cj = 0; cj < 4; cj++) {
      uint64_t coords[2] = {ci, cj};
      fill_block(chunk, round, r0, cj * CC, CR, CC);
      CHECK_OK(zarrlib_array_write_chunk(w->array, coords, 2, chunk, sizeof chunk));
    }
    /* Chunks 4..7: four partial regions per chunk (quadrants of 4 x 3). */
    for (uint64_t cj = 4; cj < GRID_COLS; cj++)
      for (uint64_t q = 0; q < 4; q++) {
        uint32_t quad[4 * 3];
        uint64_t start[2] = {r0 + (q / 2) * 4, cj * CC + (q % 2) * 3}, shape[2] = {4, 3};
        fill_block(quad, round, start[0], start[1], 4, 3);
        CHECK_OK(zarrlib_array_write_region(w->array, start, shape, 2, quad, sizeof quad));
      }
    /* A region across the boundary of its own chunks 3 and 4 (rewrites the same values). */
    {
      uint32_t strip[2 * 8];
      uint64_t start[2] = {r0 + 3, 3 * CC + 2}, shape[2] = {2, 8};
      fill_block(strip, round, start[0], start[1], 2, 8);
      CHECK_OK(zarrlib_array_write_region(w->array, start, shape, 2, strip, sizeof strip));
    }
    /* Read back: every chunk on its own, two chunks in one call, and the whole chunk row. */
    for (uint64_t cj = 0; cj < GRID_COLS; cj++) {
      uint64_t coords[2] = {ci, cj};
      memset(chunk, 0, sizeof chunk);
      CHECK_OK(zarrlib_array_read_chunk(w->array, coords, 2, chunk, sizeof chunk));
      check_block(chunk, round, r0, cj * CC, CR, CC, w->id);
    }
    uint64_t pair[4] = {ci, 7, ci, 0};
    uint32_t two[2 * CR * CC];
    CHECK_OK(zarrlib_array_read_chunks(w->array, pair, 2, 2, two, sizeof two));
    check_block(two, round, r0, 7 * CC, CR, CC, w->id);
    check_block(two + CR * CC, round, r0, 0, CR, CC, w->id);
    uint64_t start[2] = {r0, 0}, shape[2] = {CR, COLS1};
    memset(row_block, 0, sizeof row_block);
    CHECK_OK(zarrlib_array_read_region(w->array, start, shape, 2, row_block, sizeof row_block));
    check_block(row_block, round, r0, 0, CR, COLS1, w->id);
  }
  return NULL;
}

/* Readers run alongside the writers: whatever they see must be plausible per element. */
static void *plausibility_reader(void *arg) {
  worker_t *w = arg;
  static const uint64_t origin[2] = {0, 0}, shape[2] = {ROWS1, COLS1};
  uint32_t *all = tu_xmalloc(sizeof(uint32_t) * ROWS1 * COLS1);
  pthread_barrier_wait(w->barrier);
  int reads = 0;
  while (!__atomic_load_n(w->writers_done, __ATOMIC_ACQUIRE) || reads < 2) {
    CHECK_OK(zarrlib_array_read_region(w->array, origin, shape, 2, all,
                                       sizeof(uint32_t) * ROWS1 * COLS1));
    for (uint64_t r = 0; r < ROWS1; r++)
      for (uint64_t c = 0; c < COLS1; c++)
        if (!plausible(all[r * COLS1 + c], r, c))
          FAIL("reader %u: element [%" PRIu64 ",%" PRIu64 "] holds %" PRIu32, w->id, r, c,
               all[r * COLS1 + c]);
    reads++;
  }
  free(all);
  return NULL;
}

static void test_disjoint_chunks(const char *url) {
  zarrlib_store *store = tu_open_store(url);
  zarrlib_array *array = tu_create_and_open(store, "shared", U32_ZSTD_64x48);
  zarrlib_store_free(store); /* the array keeps it alive */

  enum { NREADERS = 2 };
  pthread_barrier_t barrier;
  CHECK(pthread_barrier_init(&barrier, NULL, NTHREADS + NREADERS) == 0);
  volatile int writers_done = 0;
  pthread_t threads[NTHREADS + NREADERS];
  worker_t workers[NTHREADS + NREADERS];
  for (unsigned i = 0; i < NTHREADS + NREADERS; i++) {
    workers[i] = (worker_t){array, &barrier, &writers_done, i < NTHREADS ? i : i - NTHREADS};
    CHECK(pthread_create(&threads[i], NULL, i < NTHREADS ? disjoint_writer : plausibility_reader,
                         &workers[i]) == 0);
  }
  for (unsigned i = 0; i < NTHREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
  __atomic_store_n(&writers_done, 1, __ATOMIC_RELEASE);
  for (unsigned i = NTHREADS; i < NTHREADS + NREADERS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
  pthread_barrier_destroy(&barrier);

  check_final(array, ROWS1, COLS1, "disjoint chunks");
  zarrlib_array_free(array);
}

/* ---- 2. partial regions of the same chunk ---------------------------------------------- */

enum { ROWS2 = 16, COLS2 = 16 };

static const char *ONE_CHUNK_U32 = TU_ONE_CHUNK_16X16_U32(TU_ZSTD_CODECS);

static const char *ONE_SHARD_U32 = TU_ONE_CHUNK_16X16_U32(TU_SHARD_4X4_CODECS);

/* Thread t owns rows 2t and 2t+1 of the single chunk. Each round it writes row 2t as one 1x16
 * region, and row 2t+1 element by element, all racing the other threads' writes; then, after
 * all threads are done with the round, it reads the chunk back. */
static void *same_chunk_writer(void *arg) {
  worker_t *w = arg;
  uint64_t r = 2u * w->id;
  for (unsigned round = 1; round <= ROUNDS; round++) {
    pthread_barrier_wait(w->barrier);
    uint32_t row[COLS2];
    fill_block(row, round, r, 0, 1, COLS2);
    uint64_t start[2] = {r, 0}, shape[2] = {1, COLS2};
    CHECK_OK(zarrlib_array_write_region(w->array, start, shape, 2, row, sizeof row));
    for (uint64_t c = 0; c < COLS2; c++) {
      uint32_t v = value_at(round, r + 1, c);
      uint64_t one_start[2] = {r + 1, c}, one[2] = {1, 1};
      CHECK_OK(zarrlib_array_write_region(w->array, one_start, one, 2, &v, sizeof v));
    }
    /* Once every thread has written this round, the whole chunk holds this round's values:
     * no thread's update was lost to another's read-modify-write. (Reads racing the writes are
     * tested in test_read_during_write.c.) */
    pthread_barrier_wait(w->barrier);
    uint32_t all[ROWS2 * COLS2];
    uint64_t origin[2] = {0, 0}, all_shape[2] = {ROWS2, COLS2};
    CHECK_OK(zarrlib_array_read_region(w->array, origin, all_shape, 2, all, sizeof all));
    check_block(all, round, 0, 0, ROWS2, COLS2, w->id);
    uint32_t mine[2 * COLS2];
    uint64_t mine_shape[2] = {2, COLS2};
    CHECK_OK(zarrlib_array_read_region(w->array, start, mine_shape, 2, mine, sizeof mine));
    check_block(mine, round, r, 0, 2, COLS2, w->id);
  }
  return NULL;
}

/* ---- 3. row strips across shared chunks ------------------------------------------------ */

enum { ROWS3 = 32, COLS3 = 32 };

static const char *SMALL_CHUNKS_U32 =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[32,32],\"data_type\":\"uint32\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,4]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
    "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}";

/* Thread t owns rows t, t+8, t+16, t+24: each a 1x32 region over 8 chunks that three other
 * threads write too. Odd threads go right to left in two halves, to vary the chunk order. */
static void *strip_writer(void *arg) {
  worker_t *w = arg;
  for (unsigned round = 1; round <= ROUNDS; round++) {
    pthread_barrier_wait(w->barrier);
    for (uint64_t k = 0; k < ROWS3 / NTHREADS; k++) {
      uint64_t r = w->id + k * NTHREADS;
      uint32_t row[COLS3];
      if (w->id % 2 == 0) {
        fill_block(row, round, r, 0, 1, COLS3);
        uint64_t start[2] = {r, 0}, shape[2] = {1, COLS3};
        CHECK_OK(zarrlib_array_write_region(w->array, start, shape, 2, row, sizeof row));
      } else {
        for (int half = 1; half >= 0; half--) {
          uint64_t start[2] = {r, (uint64_t)half * (COLS3 / 2) + 1}, shape[2] = {1, COLS3 / 2 - 1};
          fill_block(row, round, start[0], start[1], 1, shape[1]);
          CHECK_OK(zarrlib_array_write_region(w->array, start, shape, 2, row,
                                              sizeof(uint32_t) * shape[1]));
        }
        for (uint64_t c = 0; c < COLS3; c += COLS3 / 2) {
          uint32_t v = value_at(round, r, c);
          uint64_t start[2] = {r, c}, shape[2] = {1, 1};
          CHECK_OK(zarrlib_array_write_region(w->array, start, shape, 2, &v, sizeof v));
        }
      }
    }
  }
  return NULL;
}

/* Run `body` on NTHREADS threads sharing `array`, starting each round together. */
static void run_threads(zarrlib_array *array, void *(*body)(void *)) {
  pthread_barrier_t barrier;
  CHECK(pthread_barrier_init(&barrier, NULL, NTHREADS) == 0);
  pthread_t threads[NTHREADS];
  worker_t workers[NTHREADS];
  for (unsigned i = 0; i < NTHREADS; i++) {
    workers[i] = (worker_t){array, &barrier, NULL, i};
    CHECK(pthread_create(&threads[i], NULL, body, &workers[i]) == 0);
  }
  for (unsigned i = 0; i < NTHREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
  pthread_barrier_destroy(&barrier);
}

static void test_shared_chunks(const char *url) {
  zarrlib_store *store = tu_open_store(url);
  const char *same_chunk[] = {ONE_CHUNK_U32, ONE_SHARD_U32};
  const char *names[] = {"one_chunk", "one_shard"};
  for (int i = 0; i < 2; i++) {
    zarrlib_array *array = tu_create_and_open(store, names[i], same_chunk[i]);
    run_threads(array, same_chunk_writer);
    check_final(array, ROWS2, COLS2, names[i]);
    zarrlib_array_free(array);
  }
  zarrlib_array *array = tu_create_and_open(store, "strips", SMALL_CHUNKS_U32);
  run_threads(array, strip_writer);
  check_final(array, ROWS3, COLS3, "row strips");
  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

int main(void) {
  char *dir = tu_make_temp_dir();
  char *d1 = tu_join(dir, "one"), *d2 = tu_join(dir, "two"), *d3 = tu_join(dir, "three");

  test_disjoint_chunks("memory://");
  test_disjoint_chunks(d1);
  test_shared_chunks("memory://");
  test_shared_chunks(d2);

  /* The same with a one-thread engine pool: 8 callers queue on it, holding chunk locks. */
  CHECK_OK(zarrlib_config_set_thread_count(1));
  test_shared_chunks(d3);
  test_shared_chunks("memory://");
  CHECK_OK(zarrlib_config_set_thread_count(0));

  free(d1);
  free(d2);
  free(d3);
  tu_remove_temp_dir(dir);
  printf("test_threads: all checks passed\n");
  return 0;
}
