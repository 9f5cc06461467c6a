/*
 * The data-model calls: resizing and appending (data kept, cleared beyond a shrink, handles per
 * shape, bad arguments), attributes changed without touching data (v2 and v3, merge and
 * replace), and consolidated metadata (written, answering listings without the store's own
 * documents, required and refused), and Zarr v3 records (numpy structured dtypes), whose
 * elements cross as the packed record's bytes.
 */
#include "test_util.h"

/* A 6x5 int32 array of 4x2 chunks, fill value -1; `extra` goes before the closing brace. */
#define ARRAY_6X5(extra)                                                                         \
  "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[6,5],\"data_type\":\"int32\","            \
  "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,2]}},"             \
  "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":-1," extra TU_ZSTD_CODECS

static void read_all(const zarrlib_array *array, uint64_t rows, uint64_t cols, int32_t *out) {
  uint64_t start[2] = {0, 0}, shape[2] = {rows, cols};
  CHECK_OK(zarrlib_array_read_region(array, start, shape, 2, out, rows * cols * sizeof *out));
}

static void check_shape(const zarrlib_array *array, uint64_t rows, uint64_t cols) {
  uint64_t shape[2];
  CHECK_OK(zarrlib_array_shape(array, shape, 2));
  CHECK_EQ_U64(shape[0], rows);
  CHECK_EQ_U64(shape[1], cols);
}

static void test_resize_and_append(zarrlib_store *store) {
  CHECK_OK(zarrlib_array_create(store, "r", ARRAY_6X5(""), true));
  zarrlib_array *array = NULL;
  CHECK_OK(zarrlib_array_open(store, "r", &array));
  int32_t data[30];
  for (int i = 0; i < 30; i++) data[i] = i;
  uint64_t start[2] = {0, 0}, shape[2] = {6, 5};
  CHECK_OK(zarrlib_array_write_region(array, start, shape, 2, data, sizeof data));

  /* Shrink to 3x3, then grow back: what was cut reads as the fill value. */
  uint64_t small[2] = {3, 3};
  zarrlib_array *shrunk = NULL;
  CHECK_OK(zarrlib_array_resize(array, small, 2, &shrunk));
  check_shape(shrunk, 3, 3);
  check_shape(array, 6, 5); /* the old handle keeps its shape */
  int32_t got[54]; /* up to 9x6 */
  read_all(shrunk, 3, 3, got);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) CHECK(got[r * 3 + c] == r * 5 + c);
  zarrlib_array *grown = NULL;
  uint64_t big[2] = {7, 6};
  CHECK_OK(zarrlib_array_resize(shrunk, big, 2, &grown));
  read_all(grown, 7, 6, got);
  for (int r = 0; r < 7; r++)
    for (int c = 0; c < 6; c++) CHECK(got[r * 6 + c] == (r < 3 && c < 3 ? r * 5 + c : -1));

  /* The store's metadata follows, so a fresh open sees the new shape. */
  zarrlib_array *reopened = NULL;
  CHECK_OK(zarrlib_array_open(store, "r", &reopened));
  check_shape(reopened, 7, 6);

  /* Append two rows. */
  int32_t rows[12];
  for (int i = 0; i < 12; i++) rows[i] = 100 + i;
  uint64_t block[2] = {2, 6};
  zarrlib_array *appended = NULL;
  CHECK_OK(zarrlib_array_append(grown, 0, block, 2, rows, sizeof rows, &appended));
  check_shape(appended, 9, 6);
  read_all(appended, 9, 6, got);
  CHECK(got[7 * 6] == 100 && got[8 * 6 + 5] == 111 && got[0] == 0);

  /* Bad arguments change nothing. */
  uint64_t wrong[2] = {2, 5};
  zarrlib_array *none = NULL;
  CHECK_STATUS(zarrlib_array_append(appended, 0, wrong, 2, rows, 10 * sizeof *rows, &none),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_append(appended, 2, block, 2, rows, sizeof rows, &none),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_append(appended, 0, block, 2, rows, sizeof rows - 1, &none),
               ZARRLIB_ERR_BUFFER_SIZE);
  CHECK_STATUS(zarrlib_array_resize(appended, big, 1, &none), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_array_resize(appended, big, 2, NULL), ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(none == NULL);
  zarrlib_array_free(reopened);
  CHECK_OK(zarrlib_array_open(store, "r", &reopened));
  check_shape(reopened, 9, 6);

  /* Shrinking to nothing erases every chunk. */
  uint64_t empty[2] = {0, 6};
  zarrlib_array *emptied = NULL;
  CHECK_OK(zarrlib_array_resize(appended, empty, 2, &emptied));
  uint8_t *encoded = NULL;
  size_t encoded_len = 0;
  uint64_t first[2] = {0, 0};
  CHECK_OK(zarrlib_array_read_encoded_chunk(appended, first, 2, &encoded, &encoded_len));
  CHECK(encoded == NULL);

  zarrlib_array *handles[] = {array, shrunk, grown, reopened, appended, emptied};
  for (size_t i = 0; i < sizeof handles / sizeof *handles; i++) zarrlib_array_free(handles[i]);
}

static void check_contains(const char *json, const char *want) {
  if (!strstr(json, want)) FAIL("%s lacks %s", json, want);
}

static void test_attributes(zarrlib_store *store, const char *dir) {
  CHECK_OK(zarrlib_array_create(store, "v3", ARRAY_6X5("\"attributes\":{\"a\":1,\"b\":2},"), true));
  zarrlib_array *array = NULL;
  CHECK_OK(zarrlib_array_open(store, "v3", &array));
  int32_t data[30] = {7};
  uint64_t start[2] = {0, 0}, shape[2] = {6, 5};
  CHECK_OK(zarrlib_array_write_region(array, start, shape, 2, data, sizeof data));

  char *json = NULL;
  CHECK_OK(zarrlib_node_update_attributes(store, "v3", "{\"b\":3,\"c\":[1]}", false, &json));
  check_contains(json, "\"a\":1");
  check_contains(json, "\"b\":3");
  check_contains(json, "\"c\":[1]");
  check_contains(json, "\"shape\":[6,5]");
  zarrlib_string_free(json);
  CHECK_OK(zarrlib_node_update_attributes(store, "v3", "{\"only\":true}", true, &json));
  CHECK(strstr(json, "\"a\":1") == NULL);
  check_contains(json, "\"only\":true");
  zarrlib_string_free(json);
  /* The data is untouched. */
  int32_t got[30];
  read_all(array, 6, 5, got);
  CHECK(got[0] == 7 && got[1] == 0);

  /* Zarr v2: .zattrs alone is written. */
  const char *v2 =
      "{\"zarr_format\":2,\"shape\":[4],\"chunks\":[2],\"dtype\":\"<i2\",\"compressor\":null,"
      "\"fill_value\":0,\"order\":\"C\",\"filters\":null,\"attributes\":{\"k\":\"v\"}}";
  CHECK_OK(zarrlib_array_create(store, "v2", v2, true));
  CHECK_OK(zarrlib_node_update_attributes(store, "v2", "{\"n\":2}", false, &json));
  check_contains(json, "\"k\":\"v\"");
  check_contains(json, "\"n\":2");
  zarrlib_string_free(json);
  if (dir) {
    char *zattrs = tu_join(dir, "v2/.zattrs"), *zarray = tu_join(dir, "v2/.zarray");
    size_t size = 0;
    unsigned char *text = tu_read_file(zattrs, &size);
    CHECK(text && memmem(text, size, "\"n\": 2", 6));
    free(text);
    text = tu_read_file(zarray, &size);
    CHECK(text && !memmem(text, size, "\"n\"", 3));
    free(text);
    free(zattrs);
    free(zarray);
  }

  CHECK_STATUS(zarrlib_node_update_attributes(store, "v3", "[1]", false, &json),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_node_update_attributes(store, "v3", "{", false, &json),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zarrlib_node_update_attributes(store, "nothing", "{}", false, &json),
               ZARRLIB_ERR_NOT_FOUND);
  /* Integers beyond 64 bits (zarr-python keeps Python's integers whole) keep their digits in
     every document handed out: read, updated, listed, consolidated, opened. */
  CHECK_OK(zarrlib_node_update_attributes(store, "v3", "{\"n\":[1180591620717411303425]}",
                                          false, &json));
  check_contains(json, "\"n\":[1180591620717411303425]");
  check_contains(json, "\"only\":true");
  zarrlib_string_free(json);
  CHECK_OK(zarrlib_node_metadata(store, "v3", &json));
  check_contains(json, "\"n\":[1180591620717411303425]");
  zarrlib_string_free(json);
  CHECK_OK(zarrlib_group_create(store, "wide",
                                "{\"zarr_format\":3,\"node_type\":\"group\","
                                "\"attributes\":{\"n\":-18446744073709551617}}",
                                true));
  CHECK_OK(zarrlib_node_metadata(store, "wide", &json));
  check_contains(json, "\"n\":-18446744073709551617");
  zarrlib_string_free(json);
  CHECK_OK(zarrlib_group_create(store, "wide/inner",
                                "{\"zarr_format\":3,\"node_type\":\"group\","
                                "\"attributes\":{\"m\":{\"k\":1180591620717411303425}}}",
                                false));
  CHECK_OK(zarrlib_node_children(store, "wide", &json));
  check_contains(json, "\"m\":{\"k\":1180591620717411303425}");
  zarrlib_string_free(json);
  zarrlib_array *wide = NULL;
  CHECK_OK(zarrlib_array_open(store, "v3", &wide));
  CHECK_OK(zarrlib_array_metadata(wide, &json));
  check_contains(json, "\"n\":[1180591620717411303425]");
  zarrlib_string_free(json);
  zarrlib_array_free(wide);
  /* Outside the attributes zarrs would read such a number rounded: refused, naming it. */
  char message[512];
  CHECK_STATUS(zarrlib_group_create(store, "wide2",
                                    "{\"zarr_format\":3,\"node_type\":\"group\","
                                    "\"other\":18446744073709551616}",
                                    false),
               ZARRLIB_ERR_UNSUPPORTED);
  CHECK(strstr(tu_last_error(message, sizeof message), "18446744073709551616") != NULL);
  CHECK_OK(zarrlib_node_update_attributes(store, "v3", "{\"max\":18446744073709551615}", false,
                                          &json));
  zarrlib_string_free(json);
  zarrlib_array_free(array);
}

/* Non-finite floats in attributes as zarr-python writes them: Python's json writes the bare
   tokens NaN, Infinity and -Infinity, which are not JSON. Nodes holding them open, and every
   document handed out (read, updated, listed, consolidated, opened) keeps the tokens. */
static void test_non_finite_attributes(zarrlib_store *store, const char *dir) {
  char *json = NULL;
  CHECK_OK(zarrlib_group_create(store, "nf",
                                "{\"zarr_format\":3,\"node_type\":\"group\","
                                "\"attributes\":{\"nan\":NaN,\"range\":[-Infinity,Infinity]}}",
                                true));
  CHECK_OK(zarrlib_node_metadata(store, "nf", &json));
  check_contains(json, "\"nan\":NaN");
  check_contains(json, "\"range\":[-Infinity,Infinity]");
  zarrlib_string_free(json);
  CHECK_OK(zarrlib_array_create(
      store, "nf/a", ARRAY_6X5("\"attributes\":{\"_FillValue\":NaN,\"s\":\"NaN\"},"), false));
  CHECK_OK(zarrlib_node_update_attributes(store, "nf/a", "{\"max\":{\"v\":Infinity}}", false,
                                          &json));
  check_contains(json, "\"_FillValue\":NaN");
  check_contains(json, "\"s\":\"NaN\"");
  check_contains(json, "\"max\":{\"v\":Infinity}");
  zarrlib_string_free(json);
  zarrlib_array *array = NULL;
  CHECK_OK(zarrlib_array_open(store, "nf/a", &array));
  CHECK_OK(zarrlib_array_metadata(array, &json));
  check_contains(json, "\"_FillValue\":NaN");
  check_contains(json, "\"max\":{\"v\":Infinity}");
  zarrlib_string_free(json);
  zarrlib_array_free(array);
  CHECK_OK(zarrlib_node_children(store, "nf", &json));
  check_contains(json, "\"_FillValue\":NaN");
  zarrlib_string_free(json);
  CHECK_OK(zarrlib_node_consolidate(store, "nf", &json));
  check_contains(json, "\"nan\":NaN");
  check_contains(json, "\"max\":{\"v\":Infinity}");
  zarrlib_string_free(json);
  CHECK_OK(zarrlib_node_children_opt(store, "nf", ZARRLIB_CONSOLIDATED_REQUIRED, &json));
  check_contains(json, "\"_FillValue\":NaN");
  zarrlib_string_free(json);
  CHECK_OK(zarrlib_node_metadata_opt(store, "nf/a", ZARRLIB_CONSOLIDATED_REQUIRED, &json));
  check_contains(json, "\"max\":{\"v\":Infinity}");
  zarrlib_string_free(json);

  /* Zarr v2 keeps them in .zattrs, laid out as zarr-python lays them out. */
  const char *v2 =
      "{\"zarr_format\":2,\"shape\":[4],\"chunks\":[2],\"dtype\":\"<f4\",\"compressor\":null,"
      "\"fill_value\":\"NaN\",\"order\":\"C\",\"filters\":null,\"attributes\":{\"x\":-Infinity}}";
  CHECK_OK(zarrlib_array_create(store, "nf2", v2, true));
  CHECK_OK(zarrlib_node_update_attributes(store, "nf2", "{\"y\":[NaN]}", false, &json));
  check_contains(json, "\"x\":-Infinity");
  check_contains(json, "\"y\":[NaN]");
  check_contains(json, "\"fill_value\":\"NaN\"");
  zarrlib_string_free(json);
  if (dir) {
    char *zattrs = tu_join(dir, "nf2/.zattrs");
    size_t size = 0;
    unsigned char *text = tu_read_file(zattrs, &size);
    CHECK(text && memmem(text, size, "\"x\": -Infinity", 14));
    free(text);
    free(zattrs);
  }

  /* Elsewhere zarrs must parse the member, and would read null: refused, naming the token and
     the member. */
  char message[512];
  CHECK_STATUS(zarrlib_group_create(store, "nf3",
                                    "{\"zarr_format\":3,\"node_type\":\"group\","
                                    "\"other\":[Infinity]}",
                                    false),
               ZARRLIB_ERR_INVALID_METADATA);
  tu_last_error(message, sizeof message);
  CHECK(strstr(message, "Infinity") != NULL && strstr(message, "\"other\"") != NULL);
  CHECK_STATUS(
      zarrlib_array_create(
          store, "nf3",
          "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[2],\"data_type\":\"float32\","
          "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
          "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":NaN,"
          "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}",
          false),
      ZARRLIB_ERR_INVALID_METADATA);
  tu_last_error(message, sizeof message);
  CHECK(strstr(message, "NaN") != NULL && strstr(message, "\"fill_value\"") != NULL);
}

static void test_consolidated(zarrlib_store *store, const char *dir, int format) {
  const char *group = format == 3 ? "{\"zarr_format\":3,\"node_type\":\"group\"}"
                                  : "{\"zarr_format\":2}";
  const char *array =
      format == 3 ? ARRAY_6X5("")
                  : "{\"zarr_format\":2,\"shape\":[4],\"chunks\":[2],\"dtype\":\"<i2\","
                    "\"compressor\":null,\"fill_value\":0,\"order\":\"C\",\"filters\":null}";
  CHECK_OK(zarrlib_group_create(store, "c", group, true));
  CHECK_OK(zarrlib_group_create(store, "c/g", group, false));
  CHECK_OK(zarrlib_array_create(store, "c/g/x", array, false));
  CHECK_OK(zarrlib_array_create(store, "c/y", array, false));
  char *json = NULL;
  CHECK_STATUS(zarrlib_node_children_opt(store, "c", ZARRLIB_CONSOLIDATED_REQUIRED, &json),
               ZARRLIB_ERR_NOT_FOUND);
  CHECK_OK(zarrlib_node_consolidate(store, "c", &json));
  zarrlib_string_free(json);
  CHECK_STATUS(zarrlib_node_consolidate(store, "c/y", &json), ZARRLIB_ERR_NODE_KIND);
  CHECK_STATUS(zarrlib_node_children_opt(store, "c", 7, &json), ZARRLIB_ERR_INVALID_ARGUMENT);

  /* Answered from the consolidated document: removing a node's own metadata file (which a
     listing would notice) does not change what is listed. */
  if (dir) {
    char *meta = tu_join(dir, format == 3 ? "c/g/x/zarr.json" : "c/g/x/.zarray");
    CHECK(remove(meta) == 0);
    free(meta);
  }
  int32_t modes[2] = {ZARRLIB_CONSOLIDATED_IF_PRESENT, ZARRLIB_CONSOLIDATED_REQUIRED};
  for (int m = 0; m < 2; m++) {
    CHECK_OK(zarrlib_node_children_opt(store, "c/g", modes[m], &json));
    check_contains(json, "[[\"c/g/x\",{");
    zarrlib_string_free(json);
    CHECK_OK(zarrlib_node_children_opt(store, "c", modes[m], &json));
    check_contains(json, "[[\"c/g\",{");
    check_contains(json, "[\"c/y\",{");
    zarrlib_string_free(json);
  }
  CHECK_OK(zarrlib_node_metadata_opt(store, "c/g/x", ZARRLIB_CONSOLIDATED_REQUIRED, &json));
  check_contains(json, "\"shape\":[");
  zarrlib_string_free(json);
  if (dir) {
    CHECK_OK(zarrlib_node_children_opt(store, "c/g", ZARRLIB_CONSOLIDATED_NEVER, &json));
    CHECK(strcmp(json, "[]") == 0);
    zarrlib_string_free(json);
    CHECK_STATUS(zarrlib_node_metadata_opt(store, "c/g/x", ZARRLIB_CONSOLIDATED_IF_PRESENT, &json),
                 ZARRLIB_ERR_NOT_FOUND);
  }
}

/* A record {int32 a; uint16 b; uint8 s[2]} in zarr-python 3.2's `struct` form, stored with a
 * big-endian bytes codec, fill value given per field. */
#define RECORD_ARRAY                                                                             \
  "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[5],\"data_type\":{\"name\":\"struct\","    \
  "\"configuration\":{\"fields\":[{\"name\":\"a\",\"data_type\":\"int32\"},"                        \
  "{\"name\":\"b\",\"data_type\":\"uint16\"},{\"name\":\"s\",\"data_type\":"                        \
  "{\"name\":\"null_terminated_bytes\",\"configuration\":{\"length_bytes\":2}}}]}},"                  \
  "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4]}},"                   \
  "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":{\"a\":-2,\"b\":3,\"s\":\"eA==\"}," \
  "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]}"

/* One packed record, fields in this machine's byte order. */
static void pack_record(uint8_t *out, int32_t a, uint16_t b, const char s[2]) {
  memcpy(out, &a, 4);
  memcpy(out + 4, &b, 2);
  memcpy(out + 6, s, 2);
}

static void test_records(zarrlib_store *store) {
  zarrlib_array *array = tu_create_and_open(store, "rec", RECORD_ARRAY);
  size_t size = 0;
  CHECK_OK(zarrlib_array_element_size(array, &size));
  CHECK_EQ_U64(size, 8);
  char *name = NULL;
  CHECK_OK(zarrlib_array_data_type(array, &name));
  CHECK_STREQ(name, "struct");
  zarrlib_string_free(name);
  uint8_t fill[8], want[8];
  CHECK_OK(zarrlib_array_fill_value(array, fill, sizeof fill));
  pack_record(want, -2, 3, "x\0");
  CHECK_BYTES(fill, want, 8);

  /* Write records 1 and 2; 0 and 3 (same chunk) and 4 (unwritten chunk) read as the fill value. */
  uint8_t records[16], got[40];
  pack_record(records, 0x01020304, 0x0506, "hi");
  pack_record(records + 8, -1, 0xfffe, "z\0");
  uint64_t start[1] = {1}, shape[1] = {2}, all_start[1] = {0}, all[1] = {5};
  CHECK_OK(zarrlib_array_write_region(array, start, shape, 1, records, sizeof records));
  CHECK_OK(zarrlib_array_read_region(array, all_start, all, 1, got, sizeof got));
  CHECK_BYTES(got, fill, 8);
  CHECK_BYTES(got + 8, records, 16);
  CHECK_BYTES(got + 24, fill, 8);
  CHECK_BYTES(got + 32, fill, 8);

  /* Stored big-endian field by field; the bytes field as it is. */
  uint8_t *encoded = NULL;
  size_t encoded_len = 0;
  uint64_t chunk[1] = {0};
  CHECK_OK(zarrlib_array_read_encoded_chunk(array, chunk, 1, &encoded, &encoded_len));
  CHECK_EQ_U64(encoded_len, 32);
  const uint8_t stored[8] = {1, 2, 3, 4, 5, 6, 'h', 'i'};
  CHECK_BYTES(encoded + 8, stored, 8);
  zarrlib_bytes_free(encoded, encoded_len);
  zarrlib_array_free(array);

  /* A field of a type a record cannot hold is refused, naming the field. */
  CHECK_STATUS(zarrlib_array_create(store, "bad",
                                    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[2],"
                                    "\"data_type\":{\"name\":\"struct\",\"configuration\":{\"fields\":"
                                    "[{\"name\":\"t\",\"data_type\":\"string\"}]}},"
                                    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":"
                                    "{\"chunk_shape\":[2]}},\"chunk_key_encoding\":{\"name\":"
                                    "\"default\"},\"fill_value\":{},\"codecs\":[{\"name\":\"bytes\"}]}",
                                    false),
               ZARRLIB_ERR_UNSUPPORTED);
  char message[512];
  if (!strstr(tu_last_error(message, sizeof message), "field \"t\"")) FAIL("%s names no field", message);
}

int main(void) {
  char *dir = tu_make_temp_dir();
  const char *urls[2] = {"memory://", dir};
  for (int i = 0; i < 2; i++) {
    zarrlib_store *store = tu_open_store(urls[i]);
    const char *on_disk = i == 1 ? dir : NULL;
    test_resize_and_append(store);
    test_attributes(store, on_disk);
    test_non_finite_attributes(store, on_disk);
    test_consolidated(store, on_disk, 3);
    test_consolidated(store, on_disk, 2);
    test_records(store);
    zarrlib_store_free(store);
  }
  tu_remove_temp_dir(dir);
  printf("data model: OK\n");
  return 0;
}
