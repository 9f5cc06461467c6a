/*
 * Fuzz target: listing over hostile key sets. The input is a control byte, a node path, then
 * key/value pairs (NUL-separated) that fill a callback store as they are: keys with empty
 * parts, leading or doubled slashes, dots, keys that are both a value and a prefix, metadata
 * documents (zarr.json, .zarray, .zgroup, .zattrs, .zmetadata, consolidated metadata) of any
 * content. The control byte can make the store's `list` callback hostile too: answering with
 * every key whatever the prefix asked, or each key twice. Then the node calls run on the path
 * and on the root: kind, metadata (with and without consolidated metadata), children (the same),
 * consolidation, attributes, opening an array and reading it, and deletion.
 */
#include "fuzz_common.h"

static int list_mode; /* 0: honest; 1: ignores the prefix; 2: every key twice */

/* The store's list callback, honest or not as list_mode says. */
static int32_t hostile_list(void *user_data, const char *prefix, bool one_level,
                            zarrlib_sink *sink) {
  fz_kv *kv = user_data;
  size_t n = list_mode == 1 ? 0 : strlen(prefix);
  int32_t status = ZARRLIB_OK;
  pthread_mutex_lock(&kv->lock);
  for (size_t i = 0; i < kv->count && status == ZARRLIB_OK; i++) {
    const char *key = kv->entries[i].key;
    if (strncmp(key, prefix, n) != 0) continue;
    const char *slash = one_level ? strchr(key + n, '/') : NULL;
    size_t len = slash ? (size_t)(slash - key) + 1 : strlen(key);
    for (int twice = 0; twice <= (list_mode == 2) && status == ZARRLIB_OK; twice++) {
      status = zarrlib_sink_write(sink, key, len);
      if (status == ZARRLIB_OK) status = zarrlib_sink_write(sink, "", 1);
    }
  }
  pthread_mutex_unlock(&kv->lock);
  return status;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_configure();
  return 0;
}

static void exercise_path(zarrlib_store *store, const char *path, uint8_t control) {
  char *json = NULL;
  int32_t kind = 0;
  FZ(zarrlib_node_kind(store, path, &kind));
  for (int32_t c = ZARRLIB_CONSOLIDATED_IF_PRESENT; c <= ZARRLIB_CONSOLIDATED_REQUIRED; c++) {
    if (FZ(zarrlib_node_metadata_opt(store, path, c, &json)) == ZARRLIB_OK) zarrlib_string_free(json);
    if (FZ(zarrlib_node_children_opt(store, path, c, &json)) == ZARRLIB_OK) zarrlib_string_free(json);
  }
  zarrlib_array *array = NULL;
  if (FZ(zarrlib_array_open(store, path, &array)) == ZARRLIB_OK) {
    fz_exercise_array(array, control >> 4, 3, control & 8);
    zarrlib_array_free(array);
  }
  if (control & 16) {
    if (FZ(zarrlib_node_consolidate(store, path, &json)) == ZARRLIB_OK) {
      zarrlib_string_free(json);
      if (FZ(zarrlib_node_children(store, path, &json)) == ZARRLIB_OK) zarrlib_string_free(json);
    }
  }
  if (control & 32) {
    if (FZ(zarrlib_node_update_attributes(store, path, "{\"a\":[1]}", control & 64, &json)) ==
        ZARRLIB_OK)
      zarrlib_string_free(json);
  }
  if (control & 128) FZ(zarrlib_node_delete(store, path));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_input in = {data, size};
  uint8_t control = fz_u8(&in);
  char *path = fz_cstring(&in);
  fz_kv *kv = calloc(1, sizeof *kv);
  if (kv == NULL || pthread_mutex_init(&kv->lock, NULL) != 0) abort();
  for (int pairs = 0; in.len > 0 && pairs < 64; pairs++) {
    char *key = fz_cstring(&in);
    char *value = fz_cstring(&in);
    fz_kv_put(kv, key, value, strlen(value));
    free(value);
    free(key);
  }
  list_mode = control % 3;
  zarrlib_store_callbacks callbacks = {
      .user_data = kv,
      .get = fz_kv_get,
      .size = fz_kv_size,
      .set = fz_kv_set,
      .erase = fz_kv_erase,
      .erase_prefix = fz_kv_erase_prefix,
      .list = hostile_list,
      .destroy = fz_kv_destroy,
  };
  zarrlib_store *store = NULL;
  if (FZ(zarrlib_store_from_callbacks(&callbacks, NULL, &store)) != ZARRLIB_OK) abort();
  exercise_path(store, path, control);
  exercise_path(store, "", (uint8_t)(control & 0x7f));
  zarrlib_store_free(store);
  free(path);
  return 0;
}
