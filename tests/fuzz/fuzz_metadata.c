/*
 * Fuzz target: metadata documents. The input is one control byte, then a node path and the
 * document (NUL-separated). The control byte picks how the document reaches the engine:
 *   0: zarrlib_array_open_with_metadata (the caller's document, nothing read from the store),
 *   1: zarrlib_array_create, then zarrlib_array_open (the document as stored and read back),
 *   2: zarrlib_group_create, then the node calls on the group,
 *   3-7: the document stored as the node's zarr.json, .zarray, .zgroup, .zattrs or .zmetadata
 *      (written straight into a callback store: documents no writer would produce; 0-2 use a
 *      memory:// store),
 * and its high bits whether the array is written to and where the region read starts.
 * Every array that opens gets small reads and writes (fuzz_common.h); a resize follows.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_configure();
  return 0;
}

static void exercise_node(zarrlib_store *store, const char *path) {
  char *json = NULL;
  int32_t kind = 0;
  FZ(zarrlib_node_kind(store, path, &kind));
  if (FZ(zarrlib_node_metadata(store, path, &json)) == ZARRLIB_OK) zarrlib_string_free(json);
  if (FZ(zarrlib_node_children(store, path, &json)) == ZARRLIB_OK) zarrlib_string_free(json);
  if (FZ(zarrlib_node_update_attributes(store, path, "{\"fuzz\":1}", false, &json)) == ZARRLIB_OK)
    zarrlib_string_free(json);
  if (kind == ZARRLIB_NODE_GROUP &&
      FZ(zarrlib_node_consolidate(store, path, &json)) == ZARRLIB_OK) {
    zarrlib_string_free(json);
    if (FZ(zarrlib_node_children_opt(store, path, ZARRLIB_CONSOLIDATED_REQUIRED, &json)) ==
        ZARRLIB_OK)
      zarrlib_string_free(json);
  }
}

static void exercise_array(zarrlib_array *array, uint8_t control) {
  bool write = control & 0x80;
  fz_exercise_array(array, (control >> 3) & 0x0f, 3, write);
  size_t ndim = 0;
  uint64_t shape[32];
  if (!write || FZ(zarrlib_array_ndim(array, &ndim)) != ZARRLIB_OK || ndim > 32 ||
      FZ(zarrlib_array_shape(array, shape, ndim)) != ZARRLIB_OK)
    return;
  /* Grow the first axis by one, then shrink it back. */
  if (ndim > 0) shape[0] += 1;
  zarrlib_array *grown = NULL;
  if (FZ(zarrlib_array_resize(array, shape, ndim, &grown)) == ZARRLIB_OK) {
    if (ndim > 0) shape[0] -= 1;
    zarrlib_array *shrunk = NULL;
    if (FZ(zarrlib_array_resize(grown, shape, ndim, &shrunk)) == ZARRLIB_OK)
      zarrlib_array_free(shrunk);
    zarrlib_array_free(grown);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_input in = {data, size};
  uint8_t control = fz_u8(&in);
  char *path = fz_cstring(&in);
  char *document = fz_cstring(&in);
  /* A memory:// store, or a callback store to put documents into directly. */
  fz_kv *kv = NULL;
  zarrlib_store *store = NULL;
  if ((control & 7) < 3) {
    if (FZ(zarrlib_store_open("memory://", NULL, &store)) != ZARRLIB_OK) abort();
  } else {
    store = fz_kv_store(&kv, NULL);
  }
  zarrlib_array *array = NULL;
  switch (control & 7) {
    case 0:
      FZ(zarrlib_array_open_with_metadata(store, path, document, &array));
      break;
    case 1:
      if (FZ(zarrlib_array_create(store, path, document, control & 0x40)) == ZARRLIB_OK)
        FZ(zarrlib_array_open(store, path, &array));
      exercise_node(store, path);
      break;
    case 2:
      if (FZ(zarrlib_group_create(store, path, document, control & 0x40)) == ZARRLIB_OK)
        exercise_node(store, path);
      exercise_node(store, "");
      break;
    default: {
      static const char *const names[] = {"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"};
      const char *name = names[((control & 7) - 3) % 5];
      size_t n = strlen(path) + strlen(name) + 2;
      char *key = malloc(n);
      if (key == NULL) abort();
      snprintf(key, n, "%s%s%s", path, *path ? "/" : "", name);
      fz_kv_put(kv, key, document, strlen(document));
      free(key);
      if (FZ(zarrlib_array_open(store, path, &array)) != ZARRLIB_OK) exercise_node(store, path);
      exercise_node(store, "");
      break;
    }
  }
  if (array != NULL) {
    exercise_array(array, control);
    zarrlib_array_free(array);
  }
  zarrlib_store_free(store);
  free(document);
  free(path);
  return 0;
}
