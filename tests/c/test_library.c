/*
 * Library-wide functions: the version, status names, the per-thread last error, the engine
 * settings, freeing NULL, and opening stores of every supported (and some unsupported) kind.
 */
#include "test_util.h"

#include <pthread.h>

/* zarrlib_version() is the version the header was generated for. */
static void test_version(void) {
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", ZARRLIB_VERSION_MAJOR, ZARRLIB_VERSION_MINOR,
           ZARRLIB_VERSION_PATCH);
  CHECK(zarrlib_version() != NULL);
  CHECK_STREQ(zarrlib_version(), want);
  /* A static string: the same pointer every time, never freed. */
  CHECK(zarrlib_version() == zarrlib_version());
}

/* Every status code has its own name; anything else is "ZARRLIB_UNKNOWN_STATUS". */
static void test_status_names(void) {
  static const struct {
    int32_t code;
    const char *name;
  } names[] = {
      {ZARRLIB_OK, "ZARRLIB_OK"},
      {ZARRLIB_ERR_INVALID_ARGUMENT, "ZARRLIB_ERR_INVALID_ARGUMENT"},
      {ZARRLIB_ERR_INVALID_HANDLE, "ZARRLIB_ERR_INVALID_HANDLE"},
      {ZARRLIB_ERR_BUFFER_SIZE, "ZARRLIB_ERR_BUFFER_SIZE"},
      {ZARRLIB_ERR_OUT_OF_BOUNDS, "ZARRLIB_ERR_OUT_OF_BOUNDS"},
      {ZARRLIB_ERR_NOT_FOUND, "ZARRLIB_ERR_NOT_FOUND"},
      {ZARRLIB_ERR_ALREADY_EXISTS, "ZARRLIB_ERR_ALREADY_EXISTS"},
      {ZARRLIB_ERR_NODE_KIND, "ZARRLIB_ERR_NODE_KIND"},
      {ZARRLIB_ERR_INVALID_METADATA, "ZARRLIB_ERR_INVALID_METADATA"},
      {ZARRLIB_ERR_UNSUPPORTED, "ZARRLIB_ERR_UNSUPPORTED"},
      {ZARRLIB_ERR_STORAGE, "ZARRLIB_ERR_STORAGE"},
      {ZARRLIB_ERR_CORRUPT_DATA, "ZARRLIB_ERR_CORRUPT_DATA"},
      {ZARRLIB_ERR_INTERNAL, "ZARRLIB_ERR_INTERNAL"},
      {ZARRLIB_ERR_PANIC, "ZARRLIB_ERR_PANIC"},
      {ZARRLIB_ERR_READ_ONLY, "ZARRLIB_ERR_READ_ONLY"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    CHECK_STREQ(zarrlib_status_name(names[i].code), names[i].name);
    /* The codes are the documented, stable values 0, -1, ..., -14. */
    CHECK_EQ_U64((uint64_t)(int64_t)names[i].code, (uint64_t)(int64_t)-(int32_t)i);
  }
  const int32_t unknown[] = {1, -15, 42, -100, INT32_MAX, INT32_MIN};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
    CHECK_STREQ(zarrlib_status_name(unknown[i]), "ZARRLIB_UNKNOWN_STATUS");
}

/* The last error: empty at first, set by a failure, cleared by the next success, copied
 * NUL-terminated and truncated at a character boundary, never changed by reading it. */
static void test_last_error(void) {
  char buf[256];

  /* Nothing has failed on this thread yet. */
  CHECK_EQ_U64(zarrlib_last_error_length(), 0);
  memset(buf, 'X', sizeof buf);
  CHECK_EQ_U64(zarrlib_last_error_message(buf, sizeof buf), 0);
  CHECK(buf[0] == '\0');

  /* A failure sets a message naming the problem. */
  zarrlib_store *store = NULL;
  CHECK_STATUS(zarrlib_store_open(NULL, NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(store == NULL); /* outputs are written only on success */
  size_t length = zarrlib_last_error_length();
  CHECK(length > 1 && length < sizeof buf);
  CHECK_EQ_U64(zarrlib_last_error_message(buf, sizeof buf), length - 1);
  CHECK_EQ_U64(strlen(buf), length - 1);
  CHECK(strstr(buf, "url") != NULL);
  char full[256];
  memcpy(full, buf, length);

  /* Truncation into tiny buffers: always NUL-terminated, a prefix of the message. */
  for (size_t n = 1; n <= 6; n++) {
    char tiny[8];
    memset(tiny, 'X', sizeof tiny);
    size_t written = zarrlib_last_error_message(tiny, n);
    CHECK_EQ_U64(written, n - 1);
    CHECK(tiny[n - 1] == '\0');
    CHECK(memcmp(tiny, full, n - 1) == 0);
    CHECK(tiny[n] == 'X'); /* nothing past the buffer was touched */
  }
  /* A buffer exactly the reported length holds the whole message. */
  memset(buf, 'X', sizeof buf);
  CHECK_EQ_U64(zarrlib_last_error_message(buf, length), length - 1);
  CHECK_STREQ(buf, full);
  /* NULL or zero-length buffers: nothing is written, 0 is returned. */
  CHECK_EQ_U64(zarrlib_last_error_message(NULL, 100), 0);
  buf[0] = 'X';
  CHECK_EQ_U64(zarrlib_last_error_message(buf, 0), 0);
  CHECK(buf[0] == 'X');
  /* Reading the message does not change it. */
  CHECK_EQ_U64(zarrlib_last_error_length(), length);

  /* Truncation backs off to a UTF-8 character boundary. The path is echoed in the message. */
  store = tu_open_store("memory://");
  char *json = NULL;
  CHECK_STATUS(zarrlib_node_metadata(store, "caf\xc3\xa9", &json), ZARRLIB_ERR_NOT_FOUND);
  CHECK(json == NULL);
  char utf8[256];
  size_t utf8_len = zarrlib_last_error_message(utf8, sizeof utf8);
  const char *e_acute = strstr(utf8, "\xc3\xa9");
  CHECK(e_acute != NULL);
  size_t at = (size_t)(e_acute - utf8);
  /* Room for `at` bytes and half of the two-byte character: only `at` bytes are copied. */
  char cut[256];
  memset(cut, 'X', sizeof cut);
  CHECK_EQ_U64(zarrlib_last_error_message(cut, at + 2), at);
  CHECK(cut[at] == '\0');
  CHECK(memcmp(cut, utf8, at) == 0);
  /* Room for the whole character: it is copied. */
  CHECK_EQ_U64(zarrlib_last_error_message(cut, at + 3), at + 2);
  CHECK(memcmp(cut, utf8, at + 2) == 0 && cut[at + 2] == '\0');
  CHECK(utf8_len > at + 2);

  /* A successful call clears the last error. */
  int32_t kind = -1;
  CHECK_OK(zarrlib_node_kind(store, "x", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_NONE);
  CHECK_EQ_U64(zarrlib_last_error_length(), 0);
  memset(buf, 'X', sizeof buf);
  CHECK_EQ_U64(zarrlib_last_error_message(buf, sizeof buf), 0);
  CHECK(buf[0] == '\0');

  /* A second failure replaces the first message. */
  CHECK_STATUS(zarrlib_node_delete(store, "gone"), ZARRLIB_ERR_NOT_FOUND);
  zarrlib_last_error_message(buf, sizeof buf);
  CHECK(strstr(buf, "gone") != NULL);
  length = zarrlib_last_error_length();

  /* Functions that return no status leave the last error as it is, so a caller can free what
     it holds before reporting a failure. */
  char *text = NULL;
  CHECK_OK(zarrlib_array_create(store, "a", "{\"zarr_format\":2,\"shape\":[2],\"chunks\":[2],"
                                            "\"dtype\":\"|u1\",\"compressor\":null,"
                                            "\"fill_value\":0,\"order\":\"C\",\"filters\":null}",
                                false));
  zarrlib_array *array = NULL;
  CHECK_OK(zarrlib_array_open(store, "a", &array));
  CHECK_OK(zarrlib_node_metadata(store, "a", &text));
  CHECK_STATUS(zarrlib_node_delete(store, "gone"), ZARRLIB_ERR_NOT_FOUND);
  zarrlib_string_free(text);
  zarrlib_bytes_free(NULL, 0);
  zarrlib_array_free(array);
  (void)zarrlib_version();
  (void)zarrlib_status_name(ZARRLIB_ERR_NOT_FOUND);
  (void)zarrlib_config_concurrent_target();
  (void)zarrlib_config_validate_checksums();
  (void)zarrlib_config_store_empty_chunks();
  CHECK_EQ_U64(zarrlib_last_error_length(), length);
  zarrlib_last_error_message(buf, sizeof buf);
  CHECK(strstr(buf, "gone") != NULL);
  zarrlib_store_free(store);
  CHECK_EQ_U64(zarrlib_last_error_length(), length);
}

/* ---- the last error is per thread ----------------------------------------------------- */

typedef struct {
  size_t length_at_start; /* the last error length the new thread saw first */
  int32_t status;         /* the status of its own failing call */
  char message[256];      /* its own message */
} thread_error_t;

static void *fail_on_other_thread(void *arg) {
  thread_error_t *t = arg;
  t->length_at_start = zarrlib_last_error_length();
  zarrlib_store *store = NULL;
  t->status = zarrlib_store_open("ftp://elsewhere/x", NULL, &store);
  zarrlib_last_error_message(t->message, sizeof t->message);
  return NULL;
}

static void *succeed_on_other_thread(void *arg) {
  size_t *threads = arg;
  /* A success on this thread must not clear the main thread's error. */
  zarrlib_config_thread_count(threads);
  return NULL;
}

static void test_last_error_is_per_thread(void) {
  zarrlib_store *store = NULL;
  CHECK_STATUS(zarrlib_store_open("", NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  char mine[256];
  size_t my_length = zarrlib_last_error_length();
  zarrlib_last_error_message(mine, sizeof mine);

  /* Another thread does not see this thread's error, and its own error stays its own. */
  thread_error_t other;
  memset(&other, 0, sizeof other);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, fail_on_other_thread, &other) == 0);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK_EQ_U64(other.length_at_start, 0);
  CHECK_EQ_U64((uint64_t)(int64_t)other.status, (uint64_t)(int64_t)ZARRLIB_ERR_UNSUPPORTED);
  CHECK(strstr(other.message, "ftp") != NULL);

  /* This thread's error is unchanged by the other thread's failure and success. */
  size_t threads = 0;
  CHECK(pthread_create(&thread, NULL, succeed_on_other_thread, &threads) == 0);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK(threads >= 1);
  char now[256];
  CHECK_EQ_U64(zarrlib_last_error_length(), my_length);
  zarrlib_last_error_message(now, sizeof now);
  CHECK_STREQ(now, mine);
}

/* ---- settings --------------------------------------------------------------------------- */

static void test_config(void) {
  size_t threads = 0;
  CHECK_OK(zarrlib_config_thread_count(&threads));
  CHECK(threads >= 1);
  size_t default_threads = threads;

  /* The pool resizes on request, and 0 restores one thread per CPU. */
  CHECK_OK(zarrlib_config_set_thread_count(2));
  CHECK_OK(zarrlib_config_thread_count(&threads));
  CHECK_EQ_U64(threads, 2);
  CHECK_OK(zarrlib_config_set_thread_count(1));
  CHECK_OK(zarrlib_config_thread_count(&threads));
  CHECK_EQ_U64(threads, 1);
  CHECK_OK(zarrlib_config_set_thread_count(0));
  CHECK_OK(zarrlib_config_thread_count(&threads));
  CHECK_EQ_U64(threads, default_threads);
  CHECK_STATUS(zarrlib_config_thread_count(NULL), ZARRLIB_ERR_INVALID_ARGUMENT);

  /* The pool for stores that wait on requests: 32 threads unless set. */
  CHECK_OK(zarrlib_config_io_thread_count(&threads));
  CHECK_EQ_U64(threads, 32);
  CHECK_OK(zarrlib_config_set_io_thread_count(4));
  CHECK_OK(zarrlib_config_io_thread_count(&threads));
  CHECK_EQ_U64(threads, 4);
  CHECK_OK(zarrlib_config_set_io_thread_count(0));
  CHECK_OK(zarrlib_config_io_thread_count(&threads));
  CHECK_EQ_U64(threads, 32);
  CHECK_STATUS(zarrlib_config_io_thread_count(NULL), ZARRLIB_ERR_INVALID_ARGUMENT);

  /* The concurrency target: 0 by default (as many as the pool has threads). */
  CHECK_EQ_U64(zarrlib_config_concurrent_target(), 0);
  CHECK_OK(zarrlib_config_set_concurrent_target(3));
  CHECK_EQ_U64(zarrlib_config_concurrent_target(), 3);
  CHECK_OK(zarrlib_config_set_concurrent_target(0));
  CHECK_EQ_U64(zarrlib_config_concurrent_target(), 0);

  /* Checksum validation: on by default. */
  CHECK(zarrlib_config_validate_checksums() == true);
  CHECK_OK(zarrlib_config_set_validate_checksums(false));
  CHECK(zarrlib_config_validate_checksums() == false);
  CHECK_OK(zarrlib_config_set_validate_checksums(true));
  CHECK(zarrlib_config_validate_checksums() == true);

  /* Storing empty chunks: off by default (its effect is tested in test_arrays). */
  CHECK(zarrlib_config_store_empty_chunks() == false);
  CHECK_OK(zarrlib_config_set_store_empty_chunks(true));
  CHECK(zarrlib_config_store_empty_chunks() == true);
  CHECK_OK(zarrlib_config_set_store_empty_chunks(false));
  CHECK(zarrlib_config_store_empty_chunks() == false);

  /* Work still runs after the pool was replaced several times. */
  zarrlib_store *store = tu_open_store("memory://");
  zarrlib_array *array = tu_create_and_open(
      store, "a",
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[8],\"data_type\":\"uint8\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
      "\"codecs\":[{\"name\":\"bytes\"}]}");
  for (size_t n = 1; n <= 3; n++) {
    CHECK_OK(zarrlib_config_set_thread_count(n));
    uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, (uint8_t)n}, back[8] = {0};
    uint64_t start[1] = {0}, shape[1] = {8};
    CHECK_OK(zarrlib_array_write_region(array, start, shape, 1, data, sizeof data));
    CHECK_OK(zarrlib_array_read_region(array, start, shape, 1, back, sizeof back));
    CHECK_BYTES(back, data, sizeof data);
  }
  CHECK_OK(zarrlib_config_set_thread_count(0));
  /* A concurrency target of 1 still reads several chunks correctly. */
  CHECK_OK(zarrlib_config_set_concurrent_target(1));
  uint8_t chunks[8] = {0};
  uint64_t coords[2] = {1, 0};
  CHECK_OK(zarrlib_array_read_chunks(array, coords, 2, 1, chunks, sizeof chunks));
  const uint8_t want[8] = {5, 6, 7, 3, 1, 2, 3, 4};
  CHECK_BYTES(chunks, want, sizeof want);
  CHECK_OK(zarrlib_config_set_concurrent_target(0));
  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* Every _free function accepts NULL. */
static void test_free_null(void) {
  zarrlib_array_free(NULL);
  zarrlib_store_free(NULL);
  zarrlib_string_free(NULL);
  zarrlib_bytes_free(NULL, 0);
  zarrlib_bytes_free(NULL, 16);
}

/* ---- stores ----------------------------------------------------------------------------- */

static const char *GROUP_V3 = "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{}}";

static void test_store_open(void) {
  zarrlib_store *store = NULL;

  /* memory:// is a new, empty store each time. */
  zarrlib_store *m1 = tu_open_store("memory://");
  zarrlib_store *m2 = NULL;
  CHECK_OK(zarrlib_store_open("memory://", "{}", &m2));
  CHECK_OK(zarrlib_group_create(m1, "g", GROUP_V3, false));
  int32_t kind = -1;
  CHECK_OK(zarrlib_node_kind(m1, "g", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_GROUP);
  CHECK_OK(zarrlib_node_kind(m2, "g", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_NONE);
  zarrlib_store_free(m1);
  zarrlib_store_free(m2);

  /* A plain path that does not exist yet is created on the first write; a file:// URL of the
   * same directory sees the same hierarchy. */
  char *tmp = tu_make_temp_dir();
  char *dir = tu_join(tmp, "store.zarr");
  CHECK(!tu_file_exists(dir));
  zarrlib_store *by_path = tu_open_store(dir);
  CHECK_OK(zarrlib_group_create(by_path, "", GROUP_V3, false));
  CHECK_OK(zarrlib_group_create(by_path, "sub", GROUP_V3, false));
  char *meta = tu_join(dir, "sub/zarr.json");
  CHECK(tu_file_exists(meta));
  free(meta);

  char url[4096];
  snprintf(url, sizeof url, "file://%s", dir);
  zarrlib_store *by_url = tu_open_store(url);
  CHECK_OK(zarrlib_node_kind(by_url, "sub", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_GROUP);
  zarrlib_store_free(by_url);
  snprintf(url, sizeof url, "file://localhost%s", dir);
  CHECK_OK(zarrlib_store_open(url, NULL, &by_url));
  CHECK_OK(zarrlib_node_kind(by_url, "sub", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_GROUP);
  zarrlib_store_free(by_url);

  /* A file:// URL is percent-decoded: %20 is a space in the directory name. */
  char *spaced = tu_join(tmp, "with space");
  snprintf(url, sizeof url, "file://%s/with%%20space", tmp);
  zarrlib_store *decoded = tu_open_store(url);
  CHECK_OK(zarrlib_group_create(decoded, "", GROUP_V3, false));
  meta = tu_join(spaced, "zarr.json");
  CHECK(tu_file_exists(meta));
  free(meta);
  free(spaced);
  zarrlib_store_free(decoded);

  /* Directory options. */
  CHECK_OK(zarrlib_store_open(dir, "{\"direct_io\":false,\"file_handle_cache_size\":8}", &store));
  CHECK_OK(zarrlib_node_kind(store, "sub", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_GROUP);
  zarrlib_store_free(store);
  store = NULL;

  /* Unsupported schemes. */
  CHECK_STATUS(zarrlib_store_open("ftp://x", NULL, &store), ZARRLIB_ERR_UNSUPPORTED);
  CHECK_STATUS(zarrlib_store_open("gopher://example.com/a.zarr", NULL, &store),
               ZARRLIB_ERR_UNSUPPORTED);
  /* Object stores open without a request; their options are checked. */
  CHECK_OK(zarrlib_store_open("https://example.com/a.zarr", NULL, &store));
  zarrlib_store_free(store);
  store = NULL;
  CHECK_STATUS(zarrlib_store_open("s3://bucket/a.zarr", "{\"regoin\": \"x\"}", &store),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  /* Malformed URLs. */
  CHECK_STATUS(zarrlib_store_open("", NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open("memory://name", NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open("file://otherhost/x", NULL, &store),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open("file://relative/x", NULL, &store),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open("\xff\xfe", NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  /* A path that is a regular file is not a store. */
  char *file = tu_join(tmp, "plain_file");
  CHECK(tu_write_file(file, "x", 1) == 0);
  CHECK_STATUS(zarrlib_store_open(file, NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  free(file);
  /* Bad options: not JSON, not an object, unknown keys, wrong types, options for memory. */
  CHECK_STATUS(zarrlib_store_open(dir, "{not json", &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open(dir, "[1]", &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open(dir, "{\"nosuch\":1}", &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open(dir, "{\"direct_io\":1}", &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open(dir, "{\"file_handle_cache_size\":-1}", &store),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open("memory://", "{\"direct_io\":true}", &store),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open("memory://", "\xff", &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  /* NULL pointers. */
  CHECK_STATUS(zarrlib_store_open(NULL, NULL, &store), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_store_open("memory://", NULL, NULL), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(store == NULL); /* no failure wrote the output */

  zarrlib_store_free(by_path);
  free(dir);
  tu_remove_temp_dir(tmp);
}

int main(void) {
  test_version();
  test_status_names();
  test_last_error(); /* first: it checks nothing has failed on this thread yet */
  test_last_error_is_per_thread();
  test_config();
  test_free_null();
  test_store_open();
  printf("test_library: all checks passed\n");
  return 0;
}
