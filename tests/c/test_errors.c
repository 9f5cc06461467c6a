/*
 * Error paths of every function: NULL pointers, invalid handles, wrong buffer lengths, wrong
 * dimension counts, out-of-bounds chunks and regions, malformed metadata, unsupported codecs,
 * missing and wrong-kind nodes, and corrupt chunk bytes on disk. Every failure must leave a
 * non-empty last error (CHECK_STATUS verifies that) and must not write its outputs.
 */
#include "test_util.h"

/* uint16, shape [10,7], chunks [4,3] (grid [3,3]), fill 9, zstd. */
static const char *U16_ZSTD =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[10,7],\"data_type\":\"uint16\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,3]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":9,"
    "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}";

static const char *GROUP_V3 = "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{}}";

#define CHUNK_BYTES (4 * 3 * 2)

/* ---- NULL for every pointer argument -------------------------------------------------- */

static void test_null_arguments(void) {
  zarrlib_store *store = tu_open_store("memory://");
  zarrlib_array *array = tu_create_and_open(store, "a", U16_ZSTD);
  /* Sentinels: a failed call must leave its outputs alone. */
  zarrlib_array *const SENTINEL_ARRAY = (zarrlib_array *)(uintptr_t)0x1234;
  zarrlib_array *array_out = SENTINEL_ARRAY;
  char *string_out = (char *)(uintptr_t)0x5678;
  char *const SENTINEL_STRING = string_out;
  size_t size_out = 77;
  int32_t kind_out = 77;
  uint64_t dims[2] = {77, 77};
  uint8_t chunk[CHUNK_BYTES] = {0};
  uint64_t coords[2] = {0, 0};
  uint64_t start[2] = {0, 0}, shape[2] = {1, 1};
  uint16_t one = 0;
  uint8_t *bytes_out = (uint8_t *)(uintptr_t)0x9abc;
  uint8_t *const SENTINEL_BYTES = bytes_out;

  const int32_t E = ZARRLIB_ERR_INVALID_ARGUMENT;

  /* Store functions. */
  zarrlib_store *store_out = NULL;
  CHECK_STATUS(zarrlib_store_open(NULL, NULL, &store_out), E);
  CHECK_STATUS(zarrlib_store_open("memory://", NULL, NULL), E);
  CHECK_STATUS(zarrlib_store_open("memory://", "{\"metrics\": true}", NULL), E);
  CHECK(store_out == NULL);
  CHECK_OK(zarrlib_store_open("memory://", "{\"metrics\": true}", &store_out));
  CHECK_STATUS(zarrlib_store_metrics(NULL, &string_out), E);
  CHECK_STATUS(zarrlib_store_metrics(store_out, NULL), E);
  CHECK(string_out == SENTINEL_STRING);
  zarrlib_store_free(store_out);
  store_out = NULL;

  /* Node functions. */
  CHECK_STATUS(zarrlib_group_create(NULL, "g", GROUP_V3, false), E);
  CHECK_STATUS(zarrlib_group_create(store, NULL, GROUP_V3, false), E);
  CHECK_STATUS(zarrlib_group_create(store, "g", NULL, false), E);
  CHECK_STATUS(zarrlib_array_create(NULL, "b", U16_ZSTD, false), E);
  CHECK_STATUS(zarrlib_array_create(store, NULL, U16_ZSTD, false), E);
  CHECK_STATUS(zarrlib_array_create(store, "b", NULL, false), E);
  CHECK_STATUS(zarrlib_node_metadata(NULL, "a", &string_out), E);
  CHECK_STATUS(zarrlib_node_metadata(store, NULL, &string_out), E);
  CHECK_STATUS(zarrlib_node_metadata(store, "a", NULL), E);
  CHECK_STATUS(zarrlib_node_kind(NULL, "a", &kind_out), E);
  CHECK_STATUS(zarrlib_node_kind(store, NULL, &kind_out), E);
  CHECK_STATUS(zarrlib_node_kind(store, "a", NULL), E);
  CHECK_STATUS(zarrlib_node_delete(NULL, "a"), E);
  CHECK_STATUS(zarrlib_node_delete(store, NULL), E);
  CHECK_STATUS(zarrlib_node_children(NULL, "", &string_out), E);
  CHECK_STATUS(zarrlib_node_children(store, NULL, &string_out), E);
  CHECK_STATUS(zarrlib_node_children(store, "", NULL), E);
  CHECK(string_out == SENTINEL_STRING && kind_out == 77);
  /* Nothing was created or deleted by the failed calls. */
  CHECK_OK(zarrlib_node_kind(store, "g", &kind_out));
  CHECK_EQ_U64(kind_out, ZARRLIB_NODE_NONE);
  CHECK_OK(zarrlib_node_kind(store, "b", &kind_out));
  CHECK_EQ_U64(kind_out, ZARRLIB_NODE_NONE);
  CHECK_OK(zarrlib_node_kind(store, "a", &kind_out));
  CHECK_EQ_U64(kind_out, ZARRLIB_NODE_ARRAY);
  kind_out = 77;

  /* Opening arrays. */
  CHECK_STATUS(zarrlib_array_open(NULL, "a", &array_out), E);
  CHECK_STATUS(zarrlib_array_open(store, NULL, &array_out), E);
  CHECK_STATUS(zarrlib_array_open(store, "a", NULL), E);
  CHECK_STATUS(zarrlib_array_open_with_metadata(NULL, "a", U16_ZSTD, &array_out), E);
  CHECK_STATUS(zarrlib_array_open_with_metadata(store, NULL, U16_ZSTD, &array_out), E);
  CHECK_STATUS(zarrlib_array_open_with_metadata(store, "a", NULL, &array_out), E);
  CHECK_STATUS(zarrlib_array_open_with_metadata(store, "a", U16_ZSTD, NULL), E);
  CHECK(array_out == SENTINEL_ARRAY);

  /* Array getters. */
  CHECK_STATUS(zarrlib_array_ndim(NULL, &size_out), E);
  CHECK_STATUS(zarrlib_array_ndim(array, NULL), E);
  CHECK_STATUS(zarrlib_array_shape(NULL, dims, 2), E);
  CHECK_STATUS(zarrlib_array_shape(array, NULL, 2), E);
  CHECK_STATUS(zarrlib_array_chunk_shape(NULL, dims, 2), E);
  CHECK_STATUS(zarrlib_array_chunk_shape(array, NULL, 2), E);
  CHECK_STATUS(zarrlib_array_chunk_grid_shape(NULL, dims, 2), E);
  CHECK_STATUS(zarrlib_array_chunk_grid_shape(array, NULL, 2), E);
  CHECK_STATUS(zarrlib_array_data_type(NULL, &string_out), E);
  CHECK_STATUS(zarrlib_array_data_type(array, NULL), E);
  CHECK_STATUS(zarrlib_array_element_size(NULL, &size_out), E);
  CHECK_STATUS(zarrlib_array_element_size(array, NULL), E);
  CHECK_STATUS(zarrlib_array_fill_value(NULL, &one, 2), E);
  CHECK_STATUS(zarrlib_array_fill_value(array, NULL, 2), E);
  CHECK_STATUS(zarrlib_array_metadata(NULL, &string_out), E);
  CHECK_STATUS(zarrlib_array_metadata(array, NULL), E);
  CHECK(size_out == 77 && dims[0] == 77 && dims[1] == 77 && one == 0);
  CHECK(string_out == SENTINEL_STRING);

  /* Chunk I/O. */
  CHECK_STATUS(zarrlib_array_read_chunk(NULL, coords, 2, chunk, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_read_chunk(array, NULL, 2, chunk, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_read_chunk(array, coords, 2, NULL, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_read_chunks(NULL, coords, 1, 2, chunk, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_read_chunks(array, NULL, 1, 2, chunk, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_read_chunks(array, coords, 1, 2, NULL, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_read_encoded_chunk(NULL, coords, 2, &bytes_out, &size_out), E);
  CHECK_STATUS(zarrlib_array_read_encoded_chunk(array, NULL, 2, &bytes_out, &size_out), E);
  CHECK_STATUS(zarrlib_array_read_encoded_chunk(array, coords, 2, NULL, &size_out), E);
  CHECK_STATUS(zarrlib_array_read_encoded_chunk(array, coords, 2, &bytes_out, NULL), E);
  CHECK(bytes_out == SENTINEL_BYTES && size_out == 77);
  CHECK_STATUS(zarrlib_array_write_chunk(NULL, coords, 2, chunk, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_write_chunk(array, NULL, 2, chunk, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_write_chunk(array, coords, 2, NULL, sizeof chunk), E);
  CHECK_STATUS(zarrlib_array_delete_chunk(NULL, coords, 2), E);
  CHECK_STATUS(zarrlib_array_delete_chunk(array, NULL, 2), E);

  /* Region I/O. */
  CHECK_STATUS(zarrlib_array_read_region(NULL, start, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_read_region(array, NULL, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_read_region(array, start, NULL, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_read_region(array, start, shape, 2, NULL, 2), E);
  CHECK_STATUS(zarrlib_array_write_region(NULL, start, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_write_region(array, NULL, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_write_region(array, start, NULL, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_write_region(array, start, shape, 2, NULL, 2), E);
  CHECK(one == 0);

  /* Selection I/O. */
  int64_t step[2] = {1, 1};
  CHECK_STATUS(zarrlib_array_read_selection(NULL, start, step, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_read_selection(array, NULL, step, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_read_selection(array, start, NULL, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_read_selection(array, start, step, NULL, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_read_selection(array, start, step, shape, 2, NULL, 2), E);
  CHECK_STATUS(zarrlib_array_write_selection(NULL, start, step, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_write_selection(array, NULL, step, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_write_selection(array, start, NULL, shape, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_write_selection(array, start, step, NULL, 2, &one, 2), E);
  CHECK_STATUS(zarrlib_array_write_selection(array, start, step, shape, 2, NULL, 2), E);
  CHECK(one == 0);

  /* Settings. */
  CHECK_STATUS(zarrlib_config_thread_count(NULL), E);

  /* No failed write stored anything. */
  uint8_t *encoded = NULL;
  size_t encoded_len = 1;
  CHECK_OK(zarrlib_array_read_encoded_chunk(array, coords, 2, &encoded, &encoded_len));
  CHECK(encoded == NULL && encoded_len == 0);

  /* Functions that return a value or nothing accept NULL without failing. */
  CHECK_EQ_U64(zarrlib_last_error_message(NULL, 10), 0);
  zarrlib_array_free(NULL);
  zarrlib_store_free(NULL);
  zarrlib_string_free(NULL);
  zarrlib_bytes_free(NULL, 0);
  zarrlib_bytes_free(NULL, 8);

  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* ---- invalid handles ------------------------------------------------------------------ */

/* A zeroed, suitably aligned buffer far larger than any handle: its tag is not a live one. */
static _Alignas(16) unsigned char zeroed[8192];

static void test_invalid_handles(void) {
  const zarrlib_array *bad_array = (const zarrlib_array *)(void *)zeroed;
  const zarrlib_store *bad_store = (const zarrlib_store *)(void *)zeroed;
  const int32_t H = ZARRLIB_ERR_INVALID_HANDLE;
  size_t n = 0;
  uint64_t dims[2];
  char *s = NULL;
  uint16_t one = 0;
  uint8_t chunk[CHUNK_BYTES];
  uint64_t coords[2] = {0, 0}, start[2] = {0, 0}, shape[2] = {1, 1};
  uint8_t *data = NULL;
  int32_t kind = 0;
  zarrlib_array *array_out = NULL;

  CHECK_STATUS(zarrlib_array_ndim(bad_array, &n), H);
  CHECK_STATUS(zarrlib_array_shape(bad_array, dims, 2), H);
  CHECK_STATUS(zarrlib_array_chunk_shape(bad_array, dims, 2), H);
  CHECK_STATUS(zarrlib_array_chunk_grid_shape(bad_array, dims, 2), H);
  CHECK_STATUS(zarrlib_array_data_type(bad_array, &s), H);
  CHECK_STATUS(zarrlib_array_element_size(bad_array, &n), H);
  CHECK_STATUS(zarrlib_array_fill_value(bad_array, &one, 2), H);
  CHECK_STATUS(zarrlib_array_metadata(bad_array, &s), H);
  CHECK_STATUS(zarrlib_array_read_chunk(bad_array, coords, 2, chunk, sizeof chunk), H);
  CHECK_STATUS(zarrlib_array_read_chunks(bad_array, coords, 1, 2, chunk, sizeof chunk), H);
  CHECK_STATUS(zarrlib_array_read_encoded_chunk(bad_array, coords, 2, &data, &n), H);
  CHECK_STATUS(zarrlib_array_write_chunk(bad_array, coords, 2, chunk, sizeof chunk), H);
  CHECK_STATUS(zarrlib_array_delete_chunk(bad_array, coords, 2), H);
  CHECK_STATUS(zarrlib_array_read_region(bad_array, start, shape, 2, &one, 2), H);
  CHECK_STATUS(zarrlib_array_write_region(bad_array, start, shape, 2, &one, 2), H);
  int64_t step[2] = {1, 1};
  CHECK_STATUS(zarrlib_array_read_selection(bad_array, start, step, shape, 2, &one, 2), H);
  CHECK_STATUS(zarrlib_array_write_selection(bad_array, start, step, shape, 2, &one, 2), H);

  CHECK_STATUS(zarrlib_array_open(bad_store, "a", &array_out), H);
  CHECK_STATUS(zarrlib_array_open_with_metadata(bad_store, "a", U16_ZSTD, &array_out), H);
  CHECK_STATUS(zarrlib_group_create(bad_store, "g", GROUP_V3, false), H);
  CHECK_STATUS(zarrlib_array_create(bad_store, "a", U16_ZSTD, false), H);
  CHECK_STATUS(zarrlib_node_metadata(bad_store, "a", &s), H);
  CHECK_STATUS(zarrlib_node_kind(bad_store, "a", &kind), H);
  CHECK_STATUS(zarrlib_node_delete(bad_store, "a"), H);
  CHECK_STATUS(zarrlib_node_children(bad_store, "", &s), H);
  CHECK_STATUS(zarrlib_store_metrics(bad_store, &s), H);
  CHECK(s == NULL && array_out == NULL && data == NULL);

  /* A live handle of the other kind is caught by its tag. */
  zarrlib_store *store = tu_open_store("memory://");
  zarrlib_array *array = tu_create_and_open(store, "a", U16_ZSTD);
  CHECK_STATUS(zarrlib_array_ndim((const zarrlib_array *)(const void *)store, &n), H);
  CHECK_STATUS(zarrlib_node_kind((const zarrlib_store *)(const void *)array, "a", &kind), H);
  CHECK_STATUS(zarrlib_array_open((const zarrlib_store *)(const void *)array, "a", &array_out), H);
  CHECK(array_out == NULL);
  /* ... and freeing it as the wrong kind is ignored: both still work. */
  zarrlib_array_free((zarrlib_array *)(void *)store);
  zarrlib_store_free((zarrlib_store *)(void *)array);
  CHECK_OK(zarrlib_array_ndim(array, &n));
  CHECK_OK(zarrlib_node_kind(store, "a", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_ARRAY);
  zarrlib_array_free(array);
  zarrlib_store_free(store);

  /* A misaligned pointer is not a handle either. */
  const zarrlib_array *misaligned = (const zarrlib_array *)(void *)(zeroed + 1);
  CHECK_STATUS(zarrlib_array_ndim(misaligned, &n), H);

  /* Freeing something that is not a live handle is ignored (nothing to check but survival). */
  zarrlib_array_free((zarrlib_array *)(void *)zeroed);
  zarrlib_store_free((zarrlib_store *)(void *)zeroed);
  for (size_t i = 0; i < sizeof zeroed; i++) CHECK(zeroed[i] == 0);
}

/* ---- wrong buffer lengths, dimension counts and bounds -------------------------------- */

static void test_buffer_sizes_and_bounds(void) {
  zarrlib_store *store = tu_open_store("memory://");
  zarrlib_array *array = tu_create_and_open(store, "a", U16_ZSTD);
  const int32_t B = ZARRLIB_ERR_BUFFER_SIZE, O = ZARRLIB_ERR_OUT_OF_BOUNDS,
                A = ZARRLIB_ERR_INVALID_ARGUMENT;
  uint8_t buf[4 * CHUNK_BYTES];
  memset(buf, 0x11, sizeof buf);
  uint64_t dims[3] = {0, 0, 0};

  /* Shape getters need exactly ndim (2) values. */
  CHECK_STATUS(zarrlib_array_shape(array, dims, 1), B);
  CHECK_STATUS(zarrlib_array_shape(array, dims, 3), B);
  CHECK_STATUS(zarrlib_array_shape(array, NULL, 0), B);
  CHECK_STATUS(zarrlib_array_chunk_shape(array, dims, 1), B);
  CHECK_STATUS(zarrlib_array_chunk_shape(array, dims, 3), B);
  CHECK_STATUS(zarrlib_array_chunk_grid_shape(array, dims, 1), B);
  CHECK_STATUS(zarrlib_array_chunk_grid_shape(array, dims, 3), B);
  CHECK(dims[0] == 0 && dims[1] == 0 && dims[2] == 0);
  /* The fill value needs exactly the element size (2). */
  CHECK_STATUS(zarrlib_array_fill_value(array, buf, 1), B);
  CHECK_STATUS(zarrlib_array_fill_value(array, buf, 4), B);
  CHECK_STATUS(zarrlib_array_fill_value(array, NULL, 0), B);

  /* One chunk is 4 x 3 x 2 = 24 bytes, edge chunks included. */
  uint64_t c00[2] = {0, 0}, c22[2] = {2, 2};
  CHECK_STATUS(zarrlib_array_read_chunk(array, c00, 2, buf, CHUNK_BYTES - 1), B);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c00, 2, buf, CHUNK_BYTES + 1), B);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c00, 2, buf, CHUNK_BYTES - 2), B);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c22, 2, buf, 2 * 1 * 2), B); /* in-array part */
  CHECK_STATUS(zarrlib_array_read_chunk(array, c00, 2, NULL, 0), B);
  CHECK_STATUS(zarrlib_array_write_chunk(array, c00, 2, buf, CHUNK_BYTES - 1), B);
  CHECK_STATUS(zarrlib_array_write_chunk(array, c00, 2, buf, CHUNK_BYTES + 2), B);
  CHECK_STATUS(zarrlib_array_write_chunk(array, c22, 2, buf, 2 * 1 * 2), B);
  CHECK_STATUS(zarrlib_array_write_chunk(array, c00, 2, NULL, 0), B);
  uint64_t three[6] = {0, 0, 2, 2, 1, 1};
  CHECK_STATUS(zarrlib_array_read_chunks(array, three, 3, 2, buf, 3 * CHUNK_BYTES - 1), B);
  CHECK_STATUS(zarrlib_array_read_chunks(array, three, 3, 2, buf, 2 * CHUNK_BYTES), B);
  CHECK_STATUS(zarrlib_array_read_chunks(array, three, 3, 2, buf, 4 * CHUNK_BYTES), B);
  /* Regions need shape product x 2 bytes. */
  uint64_t start[2] = {1, 1}, shape[2] = {3, 2};
  CHECK_STATUS(zarrlib_array_read_region(array, start, shape, 2, buf, 11), B);
  CHECK_STATUS(zarrlib_array_read_region(array, start, shape, 2, buf, 13), B);
  CHECK_STATUS(zarrlib_array_write_region(array, start, shape, 2, buf, 10), B);
  CHECK_STATUS(zarrlib_array_write_region(array, start, shape, 2, buf, 14), B);

  /* Chunk coordinates outside the grid [3,3]. */
  uint64_t c30[2] = {3, 0}, c03[2] = {0, 3}, cbig[2] = {UINT64_MAX, 0};
  uint8_t *enc = NULL;
  size_t enc_len = 0;
  CHECK_STATUS(zarrlib_array_read_chunk(array, c30, 2, buf, CHUNK_BYTES), O);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c03, 2, buf, CHUNK_BYTES), O);
  CHECK_STATUS(zarrlib_array_read_chunk(array, cbig, 2, buf, CHUNK_BYTES), O);
  CHECK_STATUS(zarrlib_array_write_chunk(array, c30, 2, buf, CHUNK_BYTES), O);
  CHECK_STATUS(zarrlib_array_delete_chunk(array, c03, 2), O);
  CHECK_STATUS(zarrlib_array_read_encoded_chunk(array, c30, 2, &enc, &enc_len), O);
  uint64_t some_bad[4] = {0, 0, 0, 3};
  CHECK_STATUS(zarrlib_array_read_chunks(array, some_bad, 2, 2, buf, 2 * CHUNK_BYTES), O);
  CHECK(enc == NULL);

  /* Regions leaving the array [10,7]. */
  uint64_t s96[2] = {9, 6}, n21[2] = {2, 1};
  CHECK_STATUS(zarrlib_array_read_region(array, s96, n21, 2, buf, 4), O);
  CHECK_STATUS(zarrlib_array_write_region(array, s96, n21, 2, buf, 4), O);
  uint64_t s0[2] = {0, 0}, n_too_wide[2] = {1, 8};
  CHECK_STATUS(zarrlib_array_read_region(array, s0, n_too_wide, 2, buf, 16), O);
  uint64_t s_huge[2] = {UINT64_MAX, 0}, n11[2] = {2, 1};
  CHECK_STATUS(zarrlib_array_read_region(array, s_huge, n11, 2, buf, 4), O);
  CHECK_STATUS(zarrlib_array_write_region(array, s_huge, n11, 2, buf, 4), O);
  /* An empty region just past the end is outside too when its start is past the end. */
  uint64_t s_past[2] = {11, 0}, n_empty[2] = {0, 7};
  CHECK_STATUS(zarrlib_array_read_region(array, s_past, n_empty, 2, NULL, 0), O);
  /* ... but an empty region ending exactly at the end is inside. */
  uint64_t s_end[2] = {10, 0};
  CHECK_OK(zarrlib_array_read_region(array, s_end, n_empty, 2, NULL, 0));
  CHECK_OK(zarrlib_array_write_region(array, s_end, n_empty, 2, NULL, 0));

  /* A dimension count that is not the array's (2). */
  uint64_t c1[1] = {0}, c3[3] = {0, 0, 0};
  CHECK_STATUS(zarrlib_array_read_chunk(array, c1, 1, buf, CHUNK_BYTES), A);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c3, 3, buf, CHUNK_BYTES), A);
  CHECK_STATUS(zarrlib_array_read_chunk(array, NULL, 0, buf, CHUNK_BYTES), A);
  CHECK_STATUS(zarrlib_array_write_chunk(array, c1, 1, buf, CHUNK_BYTES), A);
  CHECK_STATUS(zarrlib_array_delete_chunk(array, c3, 3), A);
  CHECK_STATUS(zarrlib_array_read_encoded_chunk(array, c1, 1, &enc, &enc_len), A);
  CHECK_STATUS(zarrlib_array_read_chunks(array, c3, 1, 3, buf, CHUNK_BYTES), A);
  CHECK_STATUS(zarrlib_array_read_chunks(array, c3, 3, 1, buf, 3 * CHUNK_BYTES), A);
  uint64_t r3[3] = {0, 0, 0}, n3[3] = {1, 1, 1};
  CHECK_STATUS(zarrlib_array_read_region(array, r3, n3, 3, buf, 2), A);
  CHECK_STATUS(zarrlib_array_write_region(array, r3, n3, 3, buf, 2), A);
  CHECK_STATUS(zarrlib_array_read_region(array, r3, n3, 1, buf, 2), A);
  /* num_chunks * ndim overflowing is caught, not trusted. */
  CHECK_STATUS(zarrlib_array_read_chunks(array, c3, SIZE_MAX / 2 + 1, 2, buf, CHUNK_BYTES), A);

  /* None of the failed writes stored anything: the whole array is still the fill value. */
  uint16_t whole[70];
  uint64_t all[2] = {10, 7};
  CHECK_OK(zarrlib_array_read_region(array, s0, all, 2, whole, sizeof whole));
  for (size_t i = 0; i < 70; i++) CHECK_EQ_U64(whole[i], 9);

  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* ---- malformed metadata and unsupported codecs ---------------------------------------- */

static void test_bad_metadata(void) {
  zarrlib_store *store = tu_open_store("memory://");
  const int32_t M = ZARRLIB_ERR_INVALID_METADATA, U = ZARRLIB_ERR_UNSUPPORTED;
  zarrlib_array *array = NULL;

  static const char *bad_arrays[] = {
      "not json",
      "",
      "{\"zarr_format\":3,",
      "[1,2,3]",
      "42",
      "\"a string\"",
      /* missing zarr_format */
      "{\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"uint8\",\"chunk_grid\":{\"name\":"
      "\"regular\",\"configuration\":{\"chunk_shape\":[2]}},\"chunk_key_encoding\":{\"name\":"
      "\"default\"},\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\"}]}",
      /* zarr_format not an integer */
      "{\"zarr_format\":\"3\",\"node_type\":\"array\"}",
      /* wrong node_type for an array */
      "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{}}",
      "{\"zarr_format\":3,\"node_type\":\"table\"}",
      /* v3 without node_type */
      "{\"zarr_format\":3,\"shape\":[4],\"data_type\":\"uint8\",\"chunk_grid\":{\"name\":"
      "\"regular\",\"configuration\":{\"chunk_shape\":[2]}},\"chunk_key_encoding\":{\"name\":"
      "\"default\"},\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\"}]}",
      /* missing shape */
      "{\"zarr_format\":3,\"node_type\":\"array\",\"data_type\":\"uint8\",\"chunk_grid\":{"
      "\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},\"chunk_key_encoding\":{"
      "\"name\":\"default\"},\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\"}]}",
      /* attributes not an object */
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"uint8\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
      "\"codecs\":[{\"name\":\"bytes\"}],\"attributes\":[1]}",
      /* chunk shape of the wrong dimensionality */
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4,4],\"data_type\":\"uint8\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
      "\"codecs\":[{\"name\":\"bytes\"}]}",
      /* v2 missing dtype */
      "{\"zarr_format\":2,\"shape\":[4],\"chunks\":[2],\"compressor\":null,\"fill_value\":0,"
      "\"order\":\"C\",\"filters\":null}",
  };
  for (size_t i = 0; i < sizeof bad_arrays / sizeof bad_arrays[0]; i++) {
    int32_t status = zarrlib_array_create(store, "a", bad_arrays[i], false);
    if (status != M)
      FAIL("array_create(bad_arrays[%zu]) returned %s, expected ZARRLIB_ERR_INVALID_METADATA",
           i, zarrlib_status_name(status));
    tu_check_error_message(__FILE__, __LINE__, "array_create(bad)");
    CHECK_STATUS(zarrlib_array_open_with_metadata(store, "a", bad_arrays[i], &array), M);
  }

  static const char *bad_groups[] = {
      "not json",
      "[]",
      "{\"node_type\":\"group\"}",                            /* missing zarr_format */
      "{\"zarr_format\":3,\"node_type\":\"array\"}",           /* wrong node_type */
      "{\"zarr_format\":3}",                                 /* v3 needs node_type */
      "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":3}",
      "{\"zarr_format\":2,\"attributes\":\"x\"}",
  };
  for (size_t i = 0; i < sizeof bad_groups / sizeof bad_groups[0]; i++) {
    int32_t status = zarrlib_group_create(store, "g", bad_groups[i], false);
    if (status != M)
      FAIL("group_create(bad_groups[%zu]) returned %s, expected ZARRLIB_ERR_INVALID_METADATA",
           i, zarrlib_status_name(status));
    tu_check_error_message(__FILE__, __LINE__, "group_create(bad)");
  }

  /* Unsupported: an unknown codec, an unknown data type, an unknown zarr_format. */
  const char *unknown_codec =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"uint16\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
      "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
      "{\"name\":\"nosuch\"}]}";
  CHECK_STATUS(zarrlib_array_create(store, "a", unknown_codec, false), U);
  CHECK_STATUS(zarrlib_array_open_with_metadata(store, "a", unknown_codec, &array), U);
  const char *unknown_type =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"uint17\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
      "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}";
  CHECK_STATUS(zarrlib_array_create(store, "a", unknown_type, false), U);
  CHECK_STATUS(zarrlib_group_create(store, "g", "{\"zarr_format\":4,\"node_type\":\"group\"}",
                                    false),
               U);
  CHECK(array == NULL);

  /* A variable-length data type opens, but its elements do not cross in fixed-size elements:
   * the fixed-size calls refuse it (test_vlen covers the _vlen calls). */
  const char *strings =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"string\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":\"\","
      "\"codecs\":[{\"name\":\"vlen-utf8\"}]}";
  CHECK_OK(zarrlib_array_create(store, "strings", strings, false));
  CHECK_OK(zarrlib_array_open(store, "strings", &array));
  const uint64_t first_chunk[1] = {0};
  char two[2];
  CHECK_STATUS(zarrlib_array_read_chunk(array, first_chunk, 1, two, 2),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  zarrlib_array_free(array);
  array = NULL;
  CHECK_OK(zarrlib_node_delete(store, "strings"));

  /* A chunk grid that is not regular has no single chunk shape. */
  const char *rectangular =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[6,4],\"data_type\":\"uint8\","
      "\"chunk_grid\":{\"name\":\"rectangular\",\"configuration\":{\"chunk_shape\":[[1,2,3],2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
      "\"codecs\":[{\"name\":\"bytes\"}]}";
  CHECK_OK(zarrlib_array_open_with_metadata(store, "rect", rectangular, &array));
  uint64_t dims[2] = {0, 0};
  CHECK_STATUS(zarrlib_array_chunk_shape(array, dims, 2), U);
  CHECK(dims[0] == 0 && dims[1] == 0);
  CHECK_OK(zarrlib_array_chunk_grid_shape(array, dims, 2));
  CHECK(dims[0] == 3 && dims[1] == 2);
  zarrlib_array_free(array);
  array = NULL;

  /* Nothing was written by any failed create. */
  int32_t kind = -1;
  CHECK_OK(zarrlib_node_kind(store, "a", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_NONE);
  CHECK_OK(zarrlib_node_kind(store, "g", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_NONE);

  /* Malformed paths. */
  const int32_t A = ZARRLIB_ERR_INVALID_ARGUMENT;
  CHECK_STATUS(zarrlib_group_create(store, "a//b", GROUP_V3, false), A);
  CHECK_STATUS(zarrlib_group_create(store, "../up", GROUP_V3, false), A);
  CHECK_STATUS(zarrlib_array_create(store, "./a", U16_ZSTD, false), A);
  CHECK_STATUS(zarrlib_node_kind(store, "x/../y", &kind), A);
  CHECK_STATUS(zarrlib_node_kind(store, "\xff", &kind), A);
  CHECK_STATUS(zarrlib_array_open(store, "a/./b", &array), A);
  CHECK_STATUS(zarrlib_array_create(store, "a", "{\"zarr_format\":3,\xff}", false), A);

  zarrlib_store_free(store);
}

/* ---- missing nodes, existing nodes, wrong kinds --------------------------------------- */

static void test_node_errors(void) {
  zarrlib_store *store = tu_open_store("memory://");
  char *json = NULL;
  zarrlib_array *array = NULL;
  int32_t kind = -1;

  /* Nothing there. node_kind is the one query for which that is not an error. */
  CHECK_STATUS(zarrlib_node_metadata(store, "missing", &json), ZARRLIB_ERR_NOT_FOUND);
  CHECK_STATUS(zarrlib_node_delete(store, "missing"), ZARRLIB_ERR_NOT_FOUND);
  CHECK_STATUS(zarrlib_node_children(store, "missing", &json), ZARRLIB_ERR_NOT_FOUND);
  CHECK_STATUS(zarrlib_node_children(store, "", &json), ZARRLIB_ERR_NOT_FOUND); /* no root yet */
  CHECK_STATUS(zarrlib_array_open(store, "missing", &array), ZARRLIB_ERR_NOT_FOUND);
  CHECK_OK(zarrlib_node_kind(store, "missing", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_NONE);
  CHECK(json == NULL && array == NULL);

  /* Creating over an existing node needs overwrite. */
  CHECK_OK(zarrlib_group_create(store, "g", GROUP_V3, false));
  CHECK_OK(zarrlib_array_create(store, "a", U16_ZSTD, false));
  CHECK_STATUS(zarrlib_group_create(store, "g", GROUP_V3, false), ZARRLIB_ERR_ALREADY_EXISTS);
  CHECK_STATUS(zarrlib_array_create(store, "g", U16_ZSTD, false), ZARRLIB_ERR_ALREADY_EXISTS);
  CHECK_STATUS(zarrlib_array_create(store, "a", U16_ZSTD, false), ZARRLIB_ERR_ALREADY_EXISTS);
  CHECK_STATUS(zarrlib_group_create(store, "a", GROUP_V3, false), ZARRLIB_ERR_ALREADY_EXISTS);
  CHECK_STATUS(zarrlib_group_create(store, "a", "{\"zarr_format\":2,\"attributes\":{}}", false),
               ZARRLIB_ERR_ALREADY_EXISTS);
  CHECK_OK(zarrlib_node_kind(store, "a", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_ARRAY); /* the failed creates changed nothing */

  /* An array is needed, a group is there. */
  CHECK_STATUS(zarrlib_array_open(store, "g", &array), ZARRLIB_ERR_NODE_KIND);
  CHECK(array == NULL);

  /* No node can live inside an array, however deep. */
  CHECK_STATUS(zarrlib_group_create(store, "a/g", GROUP_V3, false), ZARRLIB_ERR_NODE_KIND);
  CHECK_STATUS(zarrlib_array_create(store, "a/b", U16_ZSTD, false), ZARRLIB_ERR_NODE_KIND);
  CHECK_STATUS(zarrlib_group_create(store, "a/x/y", GROUP_V3, true), ZARRLIB_ERR_NODE_KIND);
  CHECK_OK(zarrlib_node_kind(store, "a/g", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_NONE);

  zarrlib_store_free(store);
}

/* ---- corrupt chunk bytes on disk ------------------------------------------------------- */

static void test_corrupt_chunks(void) {
  char *dir = tu_make_temp_dir();
  zarrlib_store *store = tu_open_store(dir);
  zarrlib_array *array = tu_create_and_open(store, "arr", U16_ZSTD);

  uint16_t data[12], back[12];
  for (int i = 0; i < 12; i++) data[i] = (uint16_t)(1000 + i * 7);
  uint64_t c01[2] = {0, 1}, c10[2] = {1, 0};
  CHECK_OK(zarrlib_array_write_chunk(array, c01, 2, data, sizeof data));
  CHECK_OK(zarrlib_array_write_chunk(array, c10, 2, data, sizeof data));
  char *key01 = tu_join(dir, "arr/c/0/1");
  char *key10 = tu_join(dir, "arr/c/1/0");
  size_t size = 0;
  unsigned char *stored = tu_read_file(key01, &size);
  CHECK(stored != NULL && size > 4);

  /* Truncated zstd frame. */
  CHECK(truncate(key01, (off_t)(size / 2)) == 0);
  memset(back, 0, sizeof back);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c01, 2, back, sizeof back), ZARRLIB_ERR_CORRUPT_DATA);
  uint64_t start[2] = {0, 3}, shape[2] = {4, 3};
  CHECK_STATUS(zarrlib_array_read_region(array, start, shape, 2, back, sizeof back),
               ZARRLIB_ERR_CORRUPT_DATA);
  uint64_t both[4] = {1, 0, 0, 1};
  uint16_t two[24];
  CHECK_STATUS(zarrlib_array_read_chunks(array, both, 2, 2, two, sizeof two),
               ZARRLIB_ERR_CORRUPT_DATA);
  /* A partial write into a corrupt chunk must read it first, and so fails too. */
  uint64_t one_start[2] = {0, 3}, one_shape[2] = {1, 1};
  uint16_t v = 5;
  CHECK_STATUS(zarrlib_array_write_region(array, one_start, one_shape, 2, &v, sizeof v),
               ZARRLIB_ERR_CORRUPT_DATA);
  /* The encoded bytes are still readable as they are. */
  uint8_t *enc = NULL;
  size_t enc_len = 0;
  CHECK_OK(zarrlib_array_read_encoded_chunk(array, c01, 2, &enc, &enc_len));
  CHECK(enc != NULL && enc_len == size / 2);
  CHECK_BYTES(enc, stored, enc_len);
  zarrlib_bytes_free(enc, enc_len);

  /* Empty chunk file. */
  CHECK(truncate(key01, 0) == 0);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c01, 2, back, sizeof back), ZARRLIB_ERR_CORRUPT_DATA);

  /* Garbage bytes. */
  const char garbage[] = "this is not a zstd frame at all, just some garbage bytes";
  CHECK(tu_write_file(key01, garbage, sizeof garbage) == 0);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c01, 2, back, sizeof back), ZARRLIB_ERR_CORRUPT_DATA);

  /* A valid zstd frame that decodes to the wrong number of bytes (4 instead of 24): the chunk
   * of a smaller array, copied over this one. */
  const char *tiny_meta =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[2],\"data_type\":\"uint16\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":9,"
      "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
      "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}";
  zarrlib_array *tiny = tu_create_and_open(store, "tiny", tiny_meta);
  uint64_t c0[1] = {0};
  uint16_t pair[2] = {1, 2};
  CHECK_OK(zarrlib_array_write_chunk(tiny, c0, 1, pair, sizeof pair));
  char *tiny_key = tu_join(dir, "tiny/c/0");
  size_t tiny_size = 0;
  unsigned char *tiny_bytes = tu_read_file(tiny_key, &tiny_size);
  CHECK(tiny_bytes != NULL);
  CHECK(tu_write_file(key01, tiny_bytes, tiny_size) == 0);
  CHECK_STATUS(zarrlib_array_read_chunk(array, c01, 2, back, sizeof back), ZARRLIB_ERR_CORRUPT_DATA);
  free(tiny_bytes);
  free(tiny_key);
  zarrlib_array_free(tiny);

  /* The other chunk is untouched and still reads back exactly; deleting the corrupt chunk
   * makes it read as the fill value again. */
  CHECK_OK(zarrlib_array_read_chunk(array, c10, 2, back, sizeof back));
  CHECK_BYTES(back, data, sizeof data);
  CHECK_OK(zarrlib_array_delete_chunk(array, c01, 2));
  CHECK(!tu_file_exists(key01));
  CHECK_OK(zarrlib_array_read_chunk(array, c01, 2, back, sizeof back));
  for (int i = 0; i < 12; i++) CHECK_EQ_U64(back[i], 9);

  /* Corrupt stored metadata: not JSON, or JSON of the wrong shape. */
  char *meta = tu_join(dir, "arr/zarr.json");
  CHECK(tu_write_file(meta, "{broken", 7) == 0);
  zarrlib_array *reopened = NULL;
  char *json = NULL;
  int32_t kind = -1;
  CHECK_STATUS(zarrlib_array_open(store, "arr", &reopened), ZARRLIB_ERR_INVALID_METADATA);
  CHECK_STATUS(zarrlib_node_metadata(store, "arr", &json), ZARRLIB_ERR_INVALID_METADATA);
  CHECK_STATUS(zarrlib_node_kind(store, "arr", &kind), ZARRLIB_ERR_INVALID_METADATA);
  CHECK(tu_write_file(meta, "[1]", 3) == 0);
  CHECK_STATUS(zarrlib_array_open(store, "arr", &reopened), ZARRLIB_ERR_INVALID_METADATA);
  CHECK(reopened == NULL && json == NULL);
  free(meta);

  free(stored);
  free(key01);
  free(key10);
  zarrlib_array_free(array);
  zarrlib_store_free(store);
  tu_remove_temp_dir(dir);
}

/* A sharded array whose index carries a crc32c checksum: a flipped checksum byte is corrupt
 * data while checksums are validated, and reads through once validation is switched off. */
static void test_checksum_validation(void) {
  char *dir = tu_make_temp_dir();
  zarrlib_store *store = tu_open_store(dir);
  const char *meta =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[8,8],\"data_type\":\"int32\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,8]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
      TU_SHARD_4X4_CODECS;
  zarrlib_array *array = tu_create_and_open(store, "s", meta);
  int32_t data[64], back[64];
  for (int i = 0; i < 64; i++) data[i] = i * 1000 - 7;
  uint64_t c00[2] = {0, 0};
  CHECK_OK(zarrlib_array_write_chunk(array, c00, 2, data, sizeof data));

  char *key = tu_join(dir, "s/c/0/0");
  size_t size = 0;
  unsigned char *bytes = tu_read_file(key, &size);
  CHECK(bytes != NULL && size > 4);
  bytes[size - 1] ^= 0xff; /* the last byte of the index's crc32c */
  CHECK(tu_write_file(key, bytes, size) == 0);

  /* A whole-shard read and a partial read (one inner chunk, through the shard index). */
  uint64_t start[2] = {4, 4}, shape[2] = {2, 3};
  int32_t part[6], want_part[6];
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 3; c++) want_part[r * 3 + c] = data[(4 + r) * 8 + 4 + c];
  CHECK(zarrlib_config_validate_checksums());
  CHECK_STATUS(zarrlib_array_read_chunk(array, c00, 2, back, sizeof back), ZARRLIB_ERR_CORRUPT_DATA);
  CHECK_STATUS(zarrlib_array_read_region(array, start, shape, 2, part, sizeof part),
               ZARRLIB_ERR_CORRUPT_DATA);
  CHECK_OK(zarrlib_config_set_validate_checksums(false));
  memset(back, 0, sizeof back);
  CHECK_OK(zarrlib_array_read_chunk(array, c00, 2, back, sizeof back));
  CHECK_BYTES(back, data, sizeof data);
  memset(part, 0, sizeof part);
  CHECK_OK(zarrlib_array_read_region(array, start, shape, 2, part, sizeof part));
  CHECK_BYTES(part, want_part, sizeof part);
  CHECK_OK(zarrlib_config_set_validate_checksums(true));
  CHECK_STATUS(zarrlib_array_read_chunk(array, c00, 2, back, sizeof back), ZARRLIB_ERR_CORRUPT_DATA);

  free(bytes);
  free(key);
  zarrlib_array_free(array);
  zarrlib_store_free(store);
  tu_remove_temp_dir(dir);
}

int main(void) {
  test_null_arguments();
  test_invalid_handles();
  test_buffer_sizes_and_bounds();
  test_bad_metadata();
  test_node_errors();
  test_corrupt_chunks();
  test_checksum_validation();
  printf("test_errors: all checks passed\n");
  return 0;
}
