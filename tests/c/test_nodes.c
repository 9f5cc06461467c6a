/*
 * The node API on a memory store and on a directory store: creating groups and arrays in both
 * Zarr formats, kinds, metadata documents, sorted children listings with store-relative paths,
 * overwriting and deleting subtrees.
 */
#include "test_util.h"

static const char *ROOT_V3 =
    "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{\"title\":\"root\"}}";
static const char *GROUP_V3 = "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{}}";
static const char *GROUP_V3_ATTRS =
    "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{\"k\":[1,2],\"s\":\"caf\xc3\xa9\"}}";
static const char *GROUP_V2 = "{\"zarr_format\":2,\"attributes\":{\"v2key\":\"v2value\"}}";
static const char *ARRAY_V3 =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[6,4],\"data_type\":\"uint16\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[3,2]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
    "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],"
    "\"attributes\":{\"units\":\"m\"}}";
static const char *ARRAY_V2 =
    "{\"zarr_format\":2,\"shape\":[5],\"chunks\":[2],\"dtype\":\"<f4\",\"compressor\":null,"
    "\"fill_value\":0.0,\"order\":\"C\",\"filters\":null,\"attributes\":{\"a2\":7}}";

static int32_t kind_of(const zarrlib_store *store, const char *path) {
  int32_t kind = -1;
  CHECK_OK(zarrlib_node_kind(store, path, &kind));
  return kind;
}

/* The children of `path` are exactly `want` (NULL-terminated), in that order. */
static void check_children(const zarrlib_store *store, const char *path, const char *const *want) {
  char *json = NULL;
  CHECK_OK(zarrlib_node_children(store, path, &json));
  CHECK(json != NULL && json[0] == '[');
  char *got[32];
  size_t n = tu_children_paths(json, got, 32);
  size_t n_want = 0;
  while (want[n_want]) n_want++;
  if (n != n_want) FAIL("children of \"%s\": %s, expected %zu entries", path, json, n_want);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(got[i], want[i]) != 0)
      FAIL("children of \"%s\": entry %zu is \"%s\", expected \"%s\" (%s)", path, i, got[i],
           want[i], json);
    CHECK(got[i][0] != '/'); /* store-relative, no leading '/' */
    free(got[i]);
  }
  zarrlib_string_free(json);
}

/* The metadata document of `path` contains every string in `want` (NULL-terminated). */
static void check_metadata_has(const zarrlib_store *store, const char *path,
                               const char *const *want) {
  char *json = NULL;
  CHECK_OK(zarrlib_node_metadata(store, path, &json));
  CHECK(json != NULL && json[0] == '{');
  for (size_t i = 0; want[i]; i++)
    if (!strstr(json, want[i])) FAIL("metadata of \"%s\" lacks %s: %s", path, want[i], json);
  zarrlib_string_free(json);
}

/* `dir` is NULL for the memory store, else the store's directory (to check files on disk). */
static void run_node_suite(const char *url, const char *dir) {
  zarrlib_store *store = tu_open_store(url);

  /* An empty store has no root node. */
  CHECK_EQ_U64(kind_of(store, ""), ZARRLIB_NODE_NONE);

  /* A hierarchy in both formats: root, groups a (v3), b (v3, attributes), v2g (v2),
   * arrays c (v3) and a/v2arr (v2), group a/x. Created out of order to test sorting. */
  CHECK_OK(zarrlib_group_create(store, "", ROOT_V3, false));
  CHECK_OK(zarrlib_group_create(store, "b", GROUP_V3_ATTRS, false));
  CHECK_OK(zarrlib_array_create(store, "c", ARRAY_V3, false));
  CHECK_OK(zarrlib_group_create(store, "a", GROUP_V3, false));
  CHECK_OK(zarrlib_group_create(store, "v2g", GROUP_V2, false));
  CHECK_OK(zarrlib_group_create(store, "a/x", GROUP_V3, false));
  CHECK_OK(zarrlib_array_create(store, "a/v2arr", ARRAY_V2, false));
  /* A leading or trailing '/' names the same node. */
  CHECK_OK(zarrlib_group_create(store, "/a/x/deep/", GROUP_V3, false));

  if (dir) {
    /* The documents land where Zarr puts them. */
    const char *files[] = {"zarr.json", "a/zarr.json", "a/x/deep/zarr.json", "c/zarr.json",
                           "v2g/.zgroup", "v2g/.zattrs", "a/v2arr/.zarray", "a/v2arr/.zattrs"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
      char *p = tu_join(dir, files[i]);
      if (!tu_file_exists(p)) FAIL("%s was not written", p);
      free(p);
    }
    /* A directory holding no node is not a child. */
    char *junk = tu_join(dir, "junk");
    CHECK(mkdir(junk, 0700) == 0);
    free(junk);
  }

  /* Kinds. */
  CHECK_EQ_U64(kind_of(store, ""), ZARRLIB_NODE_GROUP);
  CHECK_EQ_U64(kind_of(store, "/"), ZARRLIB_NODE_GROUP);
  CHECK_EQ_U64(kind_of(store, "a"), ZARRLIB_NODE_GROUP);
  CHECK_EQ_U64(kind_of(store, "/a/"), ZARRLIB_NODE_GROUP);
  CHECK_EQ_U64(kind_of(store, "v2g"), ZARRLIB_NODE_GROUP);
  CHECK_EQ_U64(kind_of(store, "a/x/deep"), ZARRLIB_NODE_GROUP);
  CHECK_EQ_U64(kind_of(store, "c"), ZARRLIB_NODE_ARRAY);
  CHECK_EQ_U64(kind_of(store, "a/v2arr"), ZARRLIB_NODE_ARRAY);
  CHECK_EQ_U64(kind_of(store, "junk"), ZARRLIB_NODE_NONE);
  CHECK_EQ_U64(kind_of(store, "a/nothing"), ZARRLIB_NODE_NONE);

  /* Metadata documents: what created them, with v2 attributes merged in. */
  check_metadata_has(store, "", (const char *[]){"\"zarr_format\":3", "\"node_type\":\"group\"",
                                                 "\"title\":\"root\"", NULL});
  check_metadata_has(store, "b", (const char *[]){"\"k\":[1,2]", "\"s\":\"caf\xc3\xa9\"", NULL});
  check_metadata_has(store, "c", (const char *[]){"\"node_type\":\"array\"", "\"shape\":[6,4]",
                                                  "\"units\":\"m\"", NULL});
  check_metadata_has(store, "v2g", (const char *[]){"\"zarr_format\":2",
                                                    "\"attributes\":{\"v2key\":\"v2value\"}", NULL});
  check_metadata_has(store, "a/v2arr", (const char *[]){"\"zarr_format\":2", "\"dtype\":\"<f4\"",
                                                        "\"attributes\":{\"a2\":7}", NULL});

  /* An opened array reports the same document as node_metadata. */
  const char *arrays[] = {"c", "a/v2arr"};
  for (size_t i = 0; i < 2; i++) {
    zarrlib_array *array = NULL;
    CHECK_OK(zarrlib_array_open(store, arrays[i], &array));
    char *from_array = NULL, *from_node = NULL;
    CHECK_OK(zarrlib_array_metadata(array, &from_array));
    CHECK_OK(zarrlib_node_metadata(store, arrays[i], &from_node));
    CHECK_STREQ(from_array, from_node);
    zarrlib_string_free(from_array);
    zarrlib_string_free(from_node);
    zarrlib_array_free(array);
  }

  /* Children: direct only, sorted by path, store-relative; arrays have none. */
  check_children(store, "", (const char *[]){"a", "b", "c", "v2g", NULL});
  check_children(store, "/", (const char *[]){"a", "b", "c", "v2g", NULL});
  check_children(store, "a", (const char *[]){"a/v2arr", "a/x", NULL});
  check_children(store, "a/x", (const char *[]){"a/x/deep", NULL});
  check_children(store, "a/x/deep", (const char *[]){NULL});
  check_children(store, "c", (const char *[]){NULL});
  check_children(store, "v2g", (const char *[]){NULL});
  /* Each child's metadata comes with it. */
  char *json = NULL;
  CHECK_OK(zarrlib_node_children(store, "a", &json));
  CHECK(strstr(json, "\"a2\":7") != NULL && strstr(json, "\"zarr_format\":2") != NULL);
  zarrlib_string_free(json);

  /* Writing a chunk into a/v2arr, then overwriting group a, removes everything under it. */
  zarrlib_array *v2arr = NULL;
  CHECK_OK(zarrlib_array_open(store, "a/v2arr", &v2arr));
  uint64_t c0[1] = {0};
  float two[2] = {1.5f, 2.5f};
  CHECK_OK(zarrlib_array_write_chunk(v2arr, c0, 1, two, sizeof two));
  zarrlib_array_free(v2arr);
  CHECK_OK(zarrlib_group_create(store, "a", GROUP_V3_ATTRS, true));
  check_children(store, "a", (const char *[]){NULL});
  CHECK_EQ_U64(kind_of(store, "a/x"), ZARRLIB_NODE_NONE);
  CHECK_EQ_U64(kind_of(store, "a/x/deep"), ZARRLIB_NODE_NONE);
  CHECK_EQ_U64(kind_of(store, "a/v2arr"), ZARRLIB_NODE_NONE);
  check_metadata_has(store, "a", (const char *[]){"\"k\":[1,2]", NULL});
  if (dir) {
    char *gone = tu_join(dir, "a/v2arr/0");
    CHECK(!tu_file_exists(gone));
    free(gone);
    gone = tu_join(dir, "a/x/zarr.json");
    CHECK(!tu_file_exists(gone));
    free(gone);
  }

  /* Overwriting changes the kind too: an array replaces group b, a v2 group replaces array c
   * (and its v3 document goes, so the node reads as v2). */
  CHECK_OK(zarrlib_array_create(store, "b", ARRAY_V3, true));
  CHECK_EQ_U64(kind_of(store, "b"), ZARRLIB_NODE_ARRAY);
  CHECK_OK(zarrlib_group_create(store, "c", GROUP_V2, true));
  CHECK_EQ_U64(kind_of(store, "c"), ZARRLIB_NODE_GROUP);
  check_metadata_has(store, "c", (const char *[]){"\"zarr_format\":2", NULL});
  /* Overwrite on a path where nothing is creates the node. */
  CHECK_OK(zarrlib_group_create(store, "fresh", GROUP_V3, true));
  check_children(store, "", (const char *[]){"a", "b", "c", "fresh", "v2g", NULL});

  /* Delete: the node and everything under it. */
  CHECK_OK(zarrlib_group_create(store, "fresh/inner", GROUP_V3, false));
  CHECK_OK(zarrlib_node_delete(store, "fresh"));
  CHECK_EQ_U64(kind_of(store, "fresh"), ZARRLIB_NODE_NONE);
  CHECK_EQ_U64(kind_of(store, "fresh/inner"), ZARRLIB_NODE_NONE);
  CHECK_STATUS(zarrlib_node_delete(store, "fresh"), ZARRLIB_ERR_NOT_FOUND);
  CHECK_OK(zarrlib_node_delete(store, "b"));
  CHECK_OK(zarrlib_node_delete(store, "/v2g/"));
  check_children(store, "", (const char *[]){"a", "c", NULL});
  if (dir) {
    char *gone = tu_join(dir, "v2g/.zattrs");
    CHECK(!tu_file_exists(gone));
    free(gone);
  }

  /* Deleting the root deletes the hierarchy. */
  CHECK_OK(zarrlib_node_delete(store, ""));
  CHECK_EQ_U64(kind_of(store, ""), ZARRLIB_NODE_NONE);
  CHECK_EQ_U64(kind_of(store, "a"), ZARRLIB_NODE_NONE);
  char *none = NULL;
  CHECK_STATUS(zarrlib_node_children(store, "", &none), ZARRLIB_ERR_NOT_FOUND);
  CHECK(none == NULL);

  /* A v2 root group works as well. */
  CHECK_OK(zarrlib_group_create(store, "", GROUP_V2, false));
  CHECK_OK(zarrlib_array_create(store, "arr", ARRAY_V2, false));
  check_children(store, "", (const char *[]){"arr", NULL});
  CHECK_EQ_U64(kind_of(store, ""), ZARRLIB_NODE_GROUP);

  zarrlib_store_free(store);
}

int main(void) {
  run_node_suite("memory://", NULL);

  char *tmp = tu_make_temp_dir();
  run_node_suite(tmp, tmp);
  tu_remove_temp_dir(tmp);

  printf("test_nodes: all checks passed\n");
  return 0;
}
