/*
 * A store made of callbacks: an in-memory key-value store written in C here serves the engine
 * through zarrlib_store_from_callbacks. Round trips, listing, 8 threads at once, a failing
 * callback's message, read-only stores, and the destroy callback running exactly once.
 */
#include "test_util.h" /* first: it sets _GNU_SOURCE */

#include <pthread.h>

typedef struct {
  char *key;
  uint8_t *data;
  size_t len;
} entry_t;

typedef struct {
  pthread_mutex_t lock;
  entry_t *entries;
  size_t count;
  size_t capacity;
  int destroyed; /* how many times destroy ran */
  int fail_gets; /* make get fail, with a message */
  int list_everything; /* make list add the root's listing to every answer (a lying store) */
} kv_t;

static entry_t *kv_find(kv_t *kv, const char *key) {
  for (size_t i = 0; i < kv->count; i++)
    if (strcmp(kv->entries[i].key, key) == 0) return &kv->entries[i];
  return NULL;
}

static void kv_remove_at(kv_t *kv, size_t i) {
  free(kv->entries[i].key);
  free(kv->entries[i].data);
  kv->entries[i] = kv->entries[--kv->count];
}

static int32_t kv_get(void *user_data, const char *key, uint64_t offset, uint64_t length,
                      zarrlib_sink *sink) {
  kv_t *kv = user_data;
  if (kv->fail_gets) {
    zarrlib_callback_error("the disk is on fire");
    return ZARRLIB_ERR_STORAGE;
  }
  pthread_mutex_lock(&kv->lock);
  int32_t status = ZARRLIB_OK;
  entry_t *entry = kv_find(kv, key);
  if (entry == NULL) {
    status = ZARRLIB_ERR_NOT_FOUND;
  } else if (offset > entry->len || (length != UINT64_MAX && length > entry->len - offset)) {
    zarrlib_callback_error("range past the end of the value");
    status = ZARRLIB_ERR_INVALID_ARGUMENT;
  } else {
    size_t n = length == UINT64_MAX ? entry->len - (size_t)offset : (size_t)length;
    status = zarrlib_sink_write(sink, entry->data + offset, n);
  }
  pthread_mutex_unlock(&kv->lock);
  return status;
}

static int32_t kv_size(void *user_data, const char *key, uint64_t *out_size) {
  kv_t *kv = user_data;
  pthread_mutex_lock(&kv->lock);
  entry_t *entry = kv_find(kv, key);
  if (entry != NULL) *out_size = entry->len;
  pthread_mutex_unlock(&kv->lock);
  return entry ? ZARRLIB_OK : ZARRLIB_ERR_NOT_FOUND;
}

static int32_t kv_set(void *user_data, const char *key, const uint8_t *data, size_t data_len) {
  kv_t *kv = user_data;
  uint8_t *copy = tu_xmalloc(data_len ? data_len : 1);
  memcpy(copy, data, data_len);
  pthread_mutex_lock(&kv->lock);
  entry_t *entry = kv_find(kv, key);
  if (entry == NULL) {
    if (kv->count == kv->capacity) {
      kv->capacity = kv->capacity ? 2 * kv->capacity : 16;
      kv->entries = realloc(kv->entries, kv->capacity * sizeof *kv->entries);
      CHECK(kv->entries != NULL);
    }
    entry = &kv->entries[kv->count++];
    entry->key = strdup(key);
    entry->data = NULL;
  }
  free(entry->data);
  entry->data = copy;
  entry->len = data_len;
  pthread_mutex_unlock(&kv->lock);
  return ZARRLIB_OK;
}

static int32_t kv_erase(void *user_data, const char *key) {
  kv_t *kv = user_data;
  pthread_mutex_lock(&kv->lock);
  for (size_t i = 0; i < kv->count; i++)
    if (strcmp(kv->entries[i].key, key) == 0) {
      kv_remove_at(kv, i);
      break;
    }
  pthread_mutex_unlock(&kv->lock);
  return ZARRLIB_OK;
}

static int32_t kv_erase_prefix(void *user_data, const char *prefix) {
  kv_t *kv = user_data;
  size_t n = strlen(prefix);
  pthread_mutex_lock(&kv->lock);
  for (size_t i = kv->count; i-- > 0;)
    if (strncmp(kv->entries[i].key, prefix, n) == 0) kv_remove_at(kv, i);
  pthread_mutex_unlock(&kv->lock);
  return ZARRLIB_OK;
}

static int32_t kv_list(void *user_data, const char *prefix, bool one_level, zarrlib_sink *sink) {
  kv_t *kv = user_data;
  int32_t status = ZARRLIB_OK;
  pthread_mutex_lock(&kv->lock);
  /* The listing asked for, then (a lying store) the root's listing too. */
  for (int pass = 0; pass < 1 + kv->list_everything; pass++) {
    size_t n = pass ? 0 : strlen(prefix);
    for (size_t i = 0; i < kv->count && status == ZARRLIB_OK; i++) {
      const char *key = kv->entries[i].key;
      if (strncmp(key, prefix, n) != 0) continue;
      const char *slash = one_level ? strchr(key + n, '/') : NULL;
      /* A deeper key stands for its sub-prefix (duplicates are allowed). */
      size_t len = slash ? (size_t)(slash - key) + 1 : strlen(key);
      status = zarrlib_sink_write(sink, key, len);
      if (status == ZARRLIB_OK) status = zarrlib_sink_write(sink, "", 1);
    }
  }
  pthread_mutex_unlock(&kv->lock);
  return status;
}

static void kv_destroy(void *user_data) {
  kv_t *kv = user_data;
  kv->destroyed++;
}

static void kv_init(kv_t *kv) {
  memset(kv, 0, sizeof *kv);
  CHECK(pthread_mutex_init(&kv->lock, NULL) == 0);
}

static void kv_clear(kv_t *kv) {
  while (kv->count) kv_remove_at(kv, 0);
  free(kv->entries);
  pthread_mutex_destroy(&kv->lock);
}

static zarrlib_store_callbacks kv_callbacks(kv_t *kv) {
  zarrlib_store_callbacks callbacks = {
      .user_data = kv,
      .get = kv_get,
      .size = kv_size,
      .set = kv_set,
      .erase = kv_erase,
      .erase_prefix = kv_erase_prefix,
      .list = kv_list,
      .destroy = kv_destroy,
  };
  return callbacks;
}

/* A new, empty kv store and a zarrlib store over it. */
static zarrlib_store *kv_open(kv_t *kv) {
  kv_init(kv);
  zarrlib_store_callbacks callbacks = kv_callbacks(kv);
  zarrlib_store *store = NULL;
  CHECK_OK(zarrlib_store_from_callbacks(&callbacks, NULL, &store));
  return store;
}

/* Free `store` (NULL: already freed) and check destroy ran exactly once, then free the kv. */
static void kv_close(kv_t *kv, zarrlib_store *store) {
  zarrlib_store_free(store);
  CHECK(kv->destroyed == 1);
  kv_clear(kv);
}

#define ARRAY_64X64_U32                                                                       \
  "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[64,64],\"data_type\":\"uint32\","    \
  "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,8]}},"        \
  "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0," TU_ZSTD_CODECS

#define GROUP_V3 "{\"zarr_format\":3,\"node_type\":\"group\"}"

static void test_round_trip_and_listing(void) {
  kv_t kv;
  zarrlib_store *store = kv_open(&kv);
  CHECK_OK(zarrlib_group_create(store, "", GROUP_V3, false));
  CHECK_OK(zarrlib_group_create(store, "g", GROUP_V3, false));
  zarrlib_array *array = tu_create_and_open(store, "g/a", ARRAY_64X64_U32);

  uint32_t data[64 * 64], back[64 * 64];
  for (uint32_t i = 0; i < 64 * 64; i++) data[i] = i * 7u;
  const uint64_t start[2] = {0, 0}, shape[2] = {64, 64};
  CHECK_OK(zarrlib_array_write_region(array, start, shape, 2, data, sizeof data));
  memset(back, 0, sizeof back);
  CHECK_OK(zarrlib_array_read_region(array, start, shape, 2, back, sizeof back));
  CHECK_BYTES(back, data, sizeof data);

  /* Part of one chunk: a ranged get. */
  const uint64_t part_start[2] = {3, 5}, part_shape[2] = {2, 2};
  uint32_t part[4];
  CHECK_OK(zarrlib_array_read_region(array, part_start, part_shape, 2, part, sizeof part));
  CHECK(part[0] == data[3 * 64 + 5] && part[3] == data[4 * 64 + 6]);

  char *children = NULL;
  CHECK_OK(zarrlib_node_children(store, "", &children));
  char *paths[4];
  CHECK(tu_children_paths(children, paths, 4) == 1);
  CHECK_STREQ(paths[0], "g");
  free(paths[0]);
  zarrlib_string_free(children);
  CHECK_OK(zarrlib_node_children(store, "g", &children));
  CHECK(tu_children_paths(children, paths, 4) == 1);
  CHECK_STREQ(paths[0], "g/a");
  free(paths[0]);
  zarrlib_string_free(children);

  /* Deleting the array erases its prefix through the callbacks. */
  zarrlib_array_free(array);
  CHECK_OK(zarrlib_node_delete(store, "g/a"));
  int32_t kind = -1;
  CHECK_OK(zarrlib_node_kind(store, "g/a", &kind));
  CHECK(kind == ZARRLIB_NODE_NONE);
  CHECK(kv_find(&kv, "g/a/c/0/0") == NULL);

  kv_close(&kv, store);
}

typedef struct {
  zarrlib_array *array;
  uint64_t band; /* rows band*8 .. band*8+8 */
  int ok;
} worker_t;

static void *write_then_read_band(void *arg) {
  worker_t *w = arg;
  uint32_t rows[8 * 64], back[8 * 64];
  for (uint32_t i = 0; i < 8 * 64; i++) rows[i] = (uint32_t)(w->band * 100000u + i);
  const uint64_t start[2] = {w->band * 8, 0}, shape[2] = {8, 64};
  w->ok = zarrlib_array_write_region(w->array, start, shape, 2, rows, sizeof rows) == ZARRLIB_OK &&
          zarrlib_array_read_region(w->array, start, shape, 2, back, sizeof back) == ZARRLIB_OK &&
          memcmp(rows, back, sizeof rows) == 0;
  return NULL;
}

static void test_eight_threads(void) {
  kv_t kv;
  zarrlib_store *store = kv_open(&kv);
  zarrlib_array *array = tu_create_and_open(store, "a", ARRAY_64X64_U32);
  pthread_t threads[8];
  worker_t workers[8];
  for (uint64_t t = 0; t < 8; t++) {
    workers[t] = (worker_t){.array = array, .band = t, .ok = 0};
    CHECK(pthread_create(&threads[t], NULL, write_then_read_band, &workers[t]) == 0);
  }
  for (int t = 0; t < 8; t++) {
    CHECK(pthread_join(threads[t], NULL) == 0);
    CHECK(workers[t].ok);
  }
  uint32_t whole[64 * 64];
  const uint64_t start[2] = {0, 0}, shape[2] = {64, 64};
  CHECK_OK(zarrlib_array_read_region(array, start, shape, 2, whole, sizeof whole));
  for (uint32_t band = 0; band < 8; band++)
    CHECK(whole[band * 8 * 64 + 1] == band * 100000u + 1);
  /* The array outlives the store handle; destroy waits for both. */
  zarrlib_store_free(store);
  CHECK(kv.destroyed == 0);
  CHECK_OK(zarrlib_array_read_region(array, start, shape, 2, whole, sizeof whole));
  zarrlib_array_free(array);
  kv_close(&kv, NULL);
}

static void test_a_failing_callback_reports_its_message(void) {
  kv_t kv;
  zarrlib_store *store = kv_open(&kv);
  zarrlib_array *array = tu_create_and_open(store, "a", ARRAY_64X64_U32);
  kv.fail_gets = 1;
  uint32_t part[4];
  const uint64_t start[2] = {0, 0}, shape[2] = {2, 2};
  CHECK_STATUS(zarrlib_array_read_region(array, start, shape, 2, part, sizeof part),
               ZARRLIB_ERR_STORAGE);
  char message[512];
  CHECK(strstr(tu_last_error(message, sizeof message), "the disk is on fire") != NULL);
  CHECK(strstr(message, "get") != NULL);
  kv.fail_gets = 0;
  CHECK_OK(zarrlib_array_read_region(array, start, shape, 2, part, sizeof part));
  zarrlib_array_free(array);
  kv_close(&kv, store);
}

static void test_read_only_and_incomplete_callbacks(void) {
  kv_t kv;
  kv_init(&kv);
  zarrlib_store_callbacks callbacks = kv_callbacks(&kv);
  zarrlib_store *store = NULL;
  CHECK_OK(zarrlib_store_from_callbacks(&callbacks, NULL, &store));
  CHECK_OK(zarrlib_group_create(store, "", GROUP_V3, false));
  zarrlib_store_free(store);
  CHECK(kv.destroyed == 1);

  /* No write callbacks: read-only. No list callback: listing is unsupported. */
  callbacks.set = NULL;
  callbacks.erase = NULL;
  callbacks.erase_prefix = NULL;
  callbacks.list = NULL;
  CHECK_OK(zarrlib_store_from_callbacks(&callbacks, NULL, &store));
  int32_t kind = -1;
  CHECK_OK(zarrlib_node_kind(store, "", &kind));
  CHECK(kind == ZARRLIB_NODE_GROUP);
  CHECK_STATUS(zarrlib_group_create(store, "g", GROUP_V3, false), ZARRLIB_ERR_READ_ONLY);
  char *children = NULL;
  CHECK_STATUS(zarrlib_node_children(store, "", &children), ZARRLIB_ERR_UNSUPPORTED);
  zarrlib_store_free(store);
  CHECK(kv.destroyed == 2);

  /* The read_only option over writable callbacks. */
  callbacks = kv_callbacks(&kv);
  CHECK_OK(zarrlib_store_from_callbacks(&callbacks, "{\"read_only\": true}", &store));
  CHECK_STATUS(zarrlib_group_create(store, "g", GROUP_V3, false), ZARRLIB_ERR_READ_ONLY);
  zarrlib_store_free(store);
  CHECK(kv.destroyed == 3);

  /* Refused tables: destroy still runs, once. */
  callbacks.erase = NULL;
  CHECK_STATUS(zarrlib_store_from_callbacks(&callbacks, NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(kv.destroyed == 4);
  callbacks = kv_callbacks(&kv);
  callbacks.get = NULL;
  CHECK_STATUS(zarrlib_store_from_callbacks(&callbacks, NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(kv.destroyed == 5);
  callbacks = kv_callbacks(&kv);
  CHECK_STATUS(zarrlib_store_from_callbacks(&callbacks, "{\"bogus\": 1}", &store),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(kv.destroyed == 6);
  CHECK_STATUS(zarrlib_store_from_callbacks(NULL, NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  /* A sink outside its callback is not a live handle. */
  CHECK_STATUS(zarrlib_sink_write(NULL, "x", 1), ZARRLIB_ERR_INVALID_ARGUMENT);
  kv_clear(&kv);
}

/* A store whose `list` answers with more than the prefix asked for (found by fuzzing,
 * tests/fuzz): a node's children are still its direct children only, and consolidation, which
 * walks the hierarchy by listing, ends (it looped forever when "g/" was listed under "g"). */
static void test_a_lying_listing(void) {
  kv_t kv;
  zarrlib_store *store = kv_open(&kv);
  CHECK_OK(zarrlib_group_create(store, "", GROUP_V3, false));
  CHECK_OK(zarrlib_group_create(store, "g", GROUP_V3, false));
  CHECK_OK(zarrlib_group_create(store, "g/h", GROUP_V3, false));
  zarrlib_array_free(tu_create_and_open(store, "g/h/a", ARRAY_64X64_U32));
  kv.list_everything = 1;

  const char *const expected[][2] = {{"", "g"}, {"g", "g/h"}, {"g/h", "g/h/a"}};
  for (size_t i = 0; i < 3; i++) {
    char *children = NULL, *paths[8];
    CHECK_OK(zarrlib_node_children_opt(store, expected[i][0], ZARRLIB_CONSOLIDATED_NEVER,
                                       &children));
    size_t count = tu_children_paths(children, paths, 8);
    CHECK(count == 1);
    CHECK_STREQ(paths[0], expected[i][1]);
    free(paths[0]);
    zarrlib_string_free(children);
  }
  char *metadata = NULL;
  CHECK_OK(zarrlib_node_consolidate(store, "", &metadata));
  CHECK(strstr(metadata, "\"g/h/a\"") != NULL);
  zarrlib_string_free(metadata);
  kv_close(&kv, store);
}

int main(void) {
  test_round_trip_and_listing();
  test_a_lying_listing();
  test_eight_threads();
  test_a_failing_callback_reports_its_message();
  test_read_only_and_incomplete_callbacks();
  printf("ok\n");
  return 0;
}
