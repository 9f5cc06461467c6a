/*
 * Reads racing writes to the SAME chunk through one shared handle. The header promises that
 * "any number of threads may read and write through one handle at once", so a read that runs
 * while another thread rewrites the chunk must succeed and see, for every element, either the
 * old or the new value; it must never fail (e.g. with ZARRLIB_ERR_CORRUPT_DATA).
 *
 * 4 writer threads rewrite their own rows of one 16x16 chunk (whole-row regions, so each write is
 * a read-modify-write of the chunk) while 4 reader threads read it in every way: the whole chunk
 * (read_chunk, read_chunks), the whole array as a region, and a partial region. Every read must
 * succeed and every element must be plausible: the fill value 0, or a value that was written to
 * that element. Run for a plain zstd chunk and for a shard (sharding_indexed: a partial read
 * reads the shard index and the inner chunks separately), on a memory and a directory store.
 * All failures are counted and summarised before the test exits.
 */
#include "test_util.h"

#include <pthread.h>

enum { ROWS = 16, COLS = 16, NWRITERS = 4, NREADERS = 4, WRITES = 400 };

static const char *PLAIN = TU_ONE_CHUNK_16X16_U32(TU_ZSTD_CODECS);

static const char *SHARDED = TU_ONE_CHUNK_16X16_U32(TU_SHARD_4X4_CODECS);

/* Element (row, col) written in iteration `it`: it encodes its position. */
static uint32_t value_at(unsigned it, uint64_t row, uint64_t col) {
  return (uint32_t)((it + 1) * 1000u + row * 16u + col);
}

static int plausible(uint32_t v, uint64_t row, uint64_t col) {
  return v == 0 || (v >= 1000u && v % 1000u == row * 16u + col);
}

typedef struct {
  zarrlib_array *array;
  volatile int *writers_left;
  pthread_barrier_t *barrier;
  unsigned id;
  /* Results of a reader. */
  unsigned reads, failed, implausible;
  int32_t first_status;
  char first_message[256];
  const char *first_kind;
  char first_implausible[160];
} worker_t;

static void *writer(void *arg) {
  worker_t *w = arg;
  pthread_barrier_wait(w->barrier);
  for (unsigned it = 0; it < WRITES; it++) {
    /* Writer t owns rows t, t+4, t+8, t+12 and rewrites one of them per iteration. */
    uint64_t r = w->id + (it % (ROWS / NWRITERS)) * NWRITERS;
    uint32_t row[COLS];
    for (uint64_t c = 0; c < COLS; c++) row[c] = value_at(it, r, c);
    uint64_t start[2] = {r, 0}, shape[2] = {1, COLS};
    CHECK_OK(zarrlib_array_write_region(w->array, start, shape, 2, row, sizeof row));
  }
  __atomic_sub_fetch(w->writers_left, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void *reader(void *arg) {
  worker_t *w = arg;
  static const char *kinds[] = {"read_chunk", "read_chunks", "read_region (whole array)",
                                "read_region (rows 5-6, columns 3-12)"};
  uint32_t buf[2 * ROWS * COLS];
  pthread_barrier_wait(w->barrier);
  unsigned k = w->id;
  while (__atomic_load_n(w->writers_left, __ATOMIC_ACQUIRE) > 0) {
    int32_t status;
    uint64_t r0 = 0, c0 = 0, nr = ROWS, nc = COLS;
    unsigned kind = k++ % 4;
    uint64_t coords[4] = {0, 0, 0, 0};
    if (kind == 0) {
      status = zarrlib_array_read_chunk(w->array, coords, 2, buf, sizeof(uint32_t) * ROWS * COLS);
    } else if (kind == 1) {
      status = zarrlib_array_read_chunks(w->array, coords, 2, 2, buf, sizeof buf);
    } else if (kind == 2) {
      uint64_t start[2] = {0, 0}, shape[2] = {ROWS, COLS};
      status = zarrlib_array_read_region(w->array, start, shape, 2, buf, sizeof(uint32_t) * ROWS * COLS);
    } else {
      r0 = 5, c0 = 3, nr = 2, nc = 10;
      uint64_t start[2] = {r0, c0}, shape[2] = {nr, nc};
      status = zarrlib_array_read_region(w->array, start, shape, 2, buf, sizeof(uint32_t) * nr * nc);
    }
    w->reads++;
    if (status != ZARRLIB_OK) {
      if (w->failed++ == 0) {
        w->first_status = status;
        w->first_kind = kinds[kind];
        zarrlib_last_error_message(w->first_message, sizeof w->first_message);
      }
      continue;
    }
    for (uint64_t r = 0; r < nr; r++)
      for (uint64_t c = 0; c < nc; c++)
        if (!plausible(buf[r * nc + c], r0 + r, c0 + c) && w->implausible++ == 0)
          snprintf(w->first_implausible, sizeof w->first_implausible,
                   "%s gave element [%" PRIu64 ",%" PRIu64 "] = %" PRIu32
                   ", which was never written there",
                   kinds[kind], r0 + r, c0 + c, buf[r * nc + c]);
  }
  return NULL;
}

/* Returns the number of failed or implausible reads. */
static unsigned race(const char *url, const char *label, const char *metadata) {
  zarrlib_store *store = tu_open_store(url);
  zarrlib_array *array = tu_create_and_open(store, "a", metadata);
  zarrlib_store_free(store);

  volatile int writers_left = NWRITERS;
  pthread_barrier_t barrier;
  CHECK(pthread_barrier_init(&barrier, NULL, NWRITERS + NREADERS) == 0);
  pthread_t threads[NWRITERS + NREADERS];
  worker_t workers[NWRITERS + NREADERS];
  memset(workers, 0, sizeof workers);
  for (unsigned i = 0; i < NWRITERS + NREADERS; i++) {
    workers[i].array = array;
    workers[i].writers_left = &writers_left;
    workers[i].barrier = &barrier;
    workers[i].id = i < NWRITERS ? i : i - NWRITERS;
    CHECK(pthread_create(&threads[i], NULL, i < NWRITERS ? writer : reader, &workers[i]) == 0);
  }
  for (unsigned i = 0; i < NWRITERS + NREADERS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
  pthread_barrier_destroy(&barrier);

  unsigned reads = 0, failed = 0, implausible = 0;
  for (unsigned i = NWRITERS; i < NWRITERS + NREADERS; i++) {
    reads += workers[i].reads;
    failed += workers[i].failed;
    implausible += workers[i].implausible;
    if (workers[i].failed)
      fprintf(stderr, "  %s: reader %u: %u of %u reads failed; first: %s returned %s: %s\n", label,
              workers[i].id, workers[i].failed, workers[i].reads, workers[i].first_kind,
              zarrlib_status_name(workers[i].first_status), workers[i].first_message);
    if (workers[i].implausible)
      fprintf(stderr, "  %s: reader %u: %u implausible elements; first: %s\n", label,
              workers[i].id, workers[i].implausible, workers[i].first_implausible);
  }
  printf("%s: %u reads during %u writes, %u failed, %u implausible elements\n", label, reads,
         NWRITERS * WRITES, failed, implausible);

  /* After the writers are done, the chunk holds every writer's last row values. */
  uint32_t all[ROWS * COLS];
  uint64_t start[2] = {0, 0}, shape[2] = {ROWS, COLS};
  CHECK_OK(zarrlib_array_read_region(array, start, shape, 2, all, sizeof all));
  for (uint64_t r = 0; r < ROWS; r++) {
    /* Row r was last written by its owner in the last iteration that chose it. */
    unsigned last = WRITES - 1;
    while (last % (ROWS / NWRITERS) != r / NWRITERS) last--;
    for (uint64_t c = 0; c < COLS; c++)
      if (all[r * COLS + c] != value_at(last, r, c))
        FAIL("%s: element [%" PRIu64 ",%" PRIu64 "] is %" PRIu32 ", want %" PRIu32, label, r, c,
             all[r * COLS + c], value_at(last, r, c));
  }
  zarrlib_array_free(array);
  return failed + implausible;
}

int main(void) {
  char *dir = tu_make_temp_dir();
  char *d1 = tu_join(dir, "plain"), *d2 = tu_join(dir, "sharded");
  unsigned bad = 0;
  bad += race("memory://", "plain chunk, memory store", PLAIN);
  bad += race(d1, "plain chunk, directory store", PLAIN);
  bad += race("memory://", "shard, memory store", SHARDED);
  bad += race(d2, "shard, directory store", SHARDED);
  free(d1);
  free(d2);
  tu_remove_temp_dir(dir);
  if (bad) {
    fprintf(stderr, "FAILED: %u reads racing writes to the same chunk failed or saw values never "
                    "written (see above)\n", bad);
    return 1;
  }
  printf("test_read_during_write: all checks passed\n");
  return 0;
}
