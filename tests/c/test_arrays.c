/*
 * Array data paths, checked byte for byte against an in-memory model of the array: v3 uint16
 * with zstd, v3 float64 with gzip, v3 int32 sharded (zstd inside, crc32c on the index) and a v2
 * float32 array with zlib and Fortran order, each in a memory store and a directory store.
 * Also: the array getters, missing chunks reading as the fill value, empty chunks not being
 * stored (unless configured), deleting chunks, encoded chunk bytes, reopening, and 0-dimensional
 * and zero-length arrays.
 */
#include "test_util.h"

/* ---- the arrays under test ------------------------------------------------------------ */

typedef enum { VT_U16, VT_I32, VT_F32, VT_F64 } value_type;

typedef struct {
  const char *name;
  const char *metadata;
  value_type type;
  const char *dtype_name; /* zarrlib_array_data_type */
  size_t esize;
  uint64_t shape[2];
  uint64_t chunk[2];
  int v2; /* chunk keys are <array>/<i>/<j> (v2, "/" separator), else <array>/c/<i>/<j> */
  union {
    uint16_t u16;
    int32_t i32;
    float f32;
    double f64;
    unsigned char bytes[8];
  } fill;
} spec_t;

static const spec_t SPECS[] = {
    {"u16_zstd",
     "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[10,7],\"data_type\":\"uint16\","
     "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,3]}},"
     "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":9,"
     "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
     "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}],"
     "\"attributes\":{\"description\":\"uint16 zstd\"}}",
     VT_U16, "uint16", 2, {10, 7}, {4, 3}, 0, {.u16 = 9}},
    {"f64_gzip",
     "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[7,9],\"data_type\":\"float64\","
     "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[3,4]}},"
     "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":-1.25,"
     "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
     "{\"name\":\"gzip\",\"configuration\":{\"level\":5}}]}",
     VT_F64, "float64", 8, {7, 9}, {3, 4}, 0, {.f64 = -1.25}},
    {"i32_sharded",
     "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[20,12],\"data_type\":\"int32\","
     "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,8]}},"
     "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":-1,"
     TU_SHARD_4X4_CODECS,
     VT_I32, "int32", 4, {20, 12}, {8, 8}, 0, {.i32 = -1}},
    {"f32_v2_zlib_F",
     "{\"zarr_format\":2,\"shape\":[9,5],\"chunks\":[4,3],\"dtype\":\"<f4\","
     "\"compressor\":{\"id\":\"zlib\",\"level\":1},\"fill_value\":0.0,\"order\":\"F\","
     "\"filters\":null,\"dimension_separator\":\"/\"}",
     VT_F32, "float32", 4, {9, 5}, {4, 3}, 1, {.f32 = 0.0f}},
};

/* Element `k` of a block written with `seed`: never the fill value, different per seed. */
static void gen_value(const spec_t *s, unsigned seed, size_t k, unsigned char *dst) {
  switch (s->type) {
    case VT_U16: {
      uint16_t v = (uint16_t)(1000 + (seed * 97u + (unsigned)k) % 60000u);
      memcpy(dst, &v, 2);
      break;
    }
    case VT_I32: {
      int32_t v = (int32_t)(seed * 100003u + (unsigned)k + 1u);
      memcpy(dst, &v, 4);
      break;
    }
    case VT_F32: {
      float v = (float)(seed * 1000u + (unsigned)k) + 0.5f;
      memcpy(dst, &v, 4);
      break;
    }
    case VT_F64: {
      double v = seed * 1000.0 + (double)k * 0.25 + 0.125;
      memcpy(dst, &v, 8);
      break;
    }
  }
}

static unsigned char *make_block(const spec_t *s, unsigned seed, size_t count) {
  unsigned char *block = tu_xmalloc(count * s->esize);
  for (size_t k = 0; k < count; k++) gen_value(s, seed, k, block + k * s->esize);
  return block;
}

static unsigned char *make_fill_block(const spec_t *s, size_t count) {
  unsigned char *block = tu_xmalloc(count * s->esize);
  for (size_t k = 0; k < count; k++) memcpy(block + k * s->esize, s->fill.bytes, s->esize);
  return block;
}

/* ---- the model: what the whole array must hold --------------------------------------- */

typedef struct {
  const spec_t *s;
  unsigned char *data; /* shape[0] x shape[1] elements, C order */
} model_t;

static unsigned char *model_at(const model_t *m, uint64_t r, uint64_t c) {
  return m->data + (size_t)(r * m->s->shape[1] + c) * m->s->esize;
}

static void model_init(model_t *m, const spec_t *s) {
  m->s = s;
  m->data = make_fill_block(s, (size_t)(s->shape[0] * s->shape[1]));
}

static void model_write(model_t *m, const uint64_t start[2], const uint64_t shape[2],
                        const unsigned char *src) {
  for (uint64_t r = 0; r < shape[0]; r++)
    for (uint64_t c = 0; c < shape[1]; c++)
      memcpy(model_at(m, start[0] + r, start[1] + c), src + (size_t)(r * shape[1] + c) * m->s->esize,
             m->s->esize);
}

static void model_region(const model_t *m, const uint64_t start[2], const uint64_t shape[2],
                         unsigned char *dst) {
  for (uint64_t r = 0; r < shape[0]; r++)
    for (uint64_t c = 0; c < shape[1]; c++)
      memcpy(dst + (size_t)(r * shape[1] + c) * m->s->esize, model_at(m, start[0] + r, start[1] + c),
             m->s->esize);
}

/* A chunk at its full shape; elements outside the array are the fill value. */
static void model_chunk(const model_t *m, uint64_t ci, uint64_t cj, unsigned char *dst) {
  const spec_t *s = m->s;
  for (uint64_t r = 0; r < s->chunk[0]; r++)
    for (uint64_t c = 0; c < s->chunk[1]; c++) {
      uint64_t ar = ci * s->chunk[0] + r, ac = cj * s->chunk[1] + c;
      const unsigned char *src =
          (ar < s->shape[0] && ac < s->shape[1]) ? model_at(m, ar, ac) : s->fill.bytes;
      memcpy(dst + (size_t)(r * s->chunk[1] + c) * s->esize, src, s->esize);
    }
}

/* Whether the in-array part of a chunk holds anything but the fill value. */
static int model_chunk_has_data(const model_t *m, uint64_t ci, uint64_t cj) {
  const spec_t *s = m->s;
  for (uint64_t r = ci * s->chunk[0]; r < (ci + 1) * s->chunk[0] && r < s->shape[0]; r++)
    for (uint64_t c = cj * s->chunk[1]; c < (cj + 1) * s->chunk[1] && c < s->shape[1]; c++)
      if (memcmp(model_at(m, r, c), s->fill.bytes, s->esize) != 0) return 1;
  return 0;
}

/* ---- the array under test plus its model ------------------------------------------- */

typedef struct {
  const spec_t *s;
  zarrlib_array *array;
  model_t model;
  const char *path; /* the array's node path */
  const char *dir;  /* the store directory, or NULL for memory:// */
  uint64_t grid[2];
  size_t chunk_bytes;
} fixture_t;

static char *chunk_file(const fixture_t *f, uint64_t ci, uint64_t cj) {
  char key[512];
  snprintf(key, sizeof key, f->s->v2 ? "%s/%s/%" PRIu64 "/%" PRIu64 : "%s/%s/c/%" PRIu64 "/%" PRIu64,
           f->dir, f->path, ci, cj);
  return strdup(key);
}

static void do_write_region(fixture_t *f, uint64_t r0, uint64_t c0, uint64_t nr, uint64_t nc,
                            unsigned seed) {
  uint64_t start[2] = {r0, c0}, shape[2] = {nr, nc};
  size_t count = (size_t)(nr * nc);
  unsigned char *block = seed ? make_block(f->s, seed, count) : make_fill_block(f->s, count);
  CHECK_OK(zarrlib_array_write_region(f->array, start, shape, 2, block, count * f->s->esize));
  model_write(&f->model, start, shape, block);
  free(block);
}

/* Write a whole chunk; an edge chunk's out-of-array part is written as the fill value. */
static void do_write_chunk(fixture_t *f, uint64_t ci, uint64_t cj, unsigned seed) {
  const spec_t *s = f->s;
  size_t count = (size_t)(s->chunk[0] * s->chunk[1]);
  unsigned char *block = seed ? make_block(s, seed, count) : make_fill_block(s, count);
  for (uint64_t r = 0; r < s->chunk[0]; r++)
    for (uint64_t c = 0; c < s->chunk[1]; c++)
      if (ci * s->chunk[0] + r >= s->shape[0] || cj * s->chunk[1] + c >= s->shape[1])
        memcpy(block + (size_t)(r * s->chunk[1] + c) * s->esize, s->fill.bytes, s->esize);
  uint64_t coords[2] = {ci, cj};
  CHECK_OK(zarrlib_array_write_chunk(f->array, coords, 2, block, f->chunk_bytes));
  /* The model takes the in-array part. */
  for (uint64_t r = 0; r < s->chunk[0] && ci * s->chunk[0] + r < s->shape[0]; r++)
    for (uint64_t c = 0; c < s->chunk[1] && cj * s->chunk[1] + c < s->shape[1]; c++)
      memcpy(model_at(&f->model, ci * s->chunk[0] + r, cj * s->chunk[1] + c),
             block + (size_t)(r * s->chunk[1] + c) * s->esize, s->esize);
  free(block);
}

static void do_delete_chunk(fixture_t *f, uint64_t ci, uint64_t cj) {
  uint64_t coords[2] = {ci, cj};
  CHECK_OK(zarrlib_array_delete_chunk(f->array, coords, 2));
  const spec_t *s = f->s;
  for (uint64_t r = ci * s->chunk[0]; r < (ci + 1) * s->chunk[0] && r < s->shape[0]; r++)
    for (uint64_t c = cj * s->chunk[1]; c < (cj + 1) * s->chunk[1] && c < s->shape[1]; c++)
      memcpy(model_at(&f->model, r, c), s->fill.bytes, s->esize);
}

/* Is the chunk stored? Checked through read_encoded_chunk and, for a directory, on disk: the
 * encoded bytes are exactly the chunk file's bytes. */
static int chunk_stored(const fixture_t *f, uint64_t ci, uint64_t cj) {
  uint64_t coords[2] = {ci, cj};
  uint8_t *data = (uint8_t *)(uintptr_t)1;
  size_t len = 12345;
  CHECK_OK(zarrlib_array_read_encoded_chunk(f->array, coords, 2, &data, &len));
  CHECK((data == NULL) == (len == 0));
  if (f->dir) {
    char *file = chunk_file(f, ci, cj);
    size_t size = 0;
    unsigned char *on_disk = tu_read_file(file, &size);
    if ((on_disk != NULL) != (data != NULL))
      FAIL("%s: chunk (%" PRIu64 ",%" PRIu64 ") encoded=%p but file %s %s", f->s->name, ci, cj,
           (void *)data, file, on_disk ? "exists" : "is missing");
    if (on_disk) {
      CHECK_EQ_U64(size, len);
      CHECK_BYTES(data, on_disk, len);
      free(on_disk);
    }
    free(file);
  }
  int stored = data != NULL;
  zarrlib_bytes_free(data, len);
  return stored;
}

/* Everything the array holds matches the model: the whole array as one region, a few
 * sub-regions, every chunk on its own, all chunks in one read_chunks call (in reverse order,
 * with a repeat), and exactly the chunks holding data are stored. */
static void check_all(const fixture_t *f, const char *when) {
  const spec_t *s = f->s;
  const model_t *m = &f->model;
  size_t total = (size_t)(s->shape[0] * s->shape[1]) * s->esize;
  unsigned char *got = tu_xmalloc(total);
  memset(got, 0xA5, total);
  uint64_t origin[2] = {0, 0};
  CHECK_OK(zarrlib_array_read_region(f->array, origin, s->shape, 2, got, total));
  for (size_t i = 0; i < total; i++)
    if (got[i] != m->data[i])
      FAIL("%s (%s, %s): whole-array byte %zu (element [%zu,%zu]) is 0x%02x, want 0x%02x", s->name,
           f->dir ? "directory" : "memory", when, i, i / s->esize / (size_t)s->shape[1],
           i / s->esize % (size_t)s->shape[1], got[i], m->data[i]);
  free(got);

  /* Sub-regions at awkward offsets. */
  const uint64_t regions[][4] = {
      {1, 1, s->shape[0] - 2, s->shape[1] - 2},
      {s->shape[0] - 1, 0, 1, s->shape[1]},
      {0, s->shape[1] - 1, s->shape[0], 1},
      {s->chunk[0] - 1, s->chunk[1] - 1, 2, 2},
      {2, 1, 1, 1},
  };
  for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
    uint64_t start[2] = {regions[i][0], regions[i][1]}, shape[2] = {regions[i][2], regions[i][3]};
    size_t n = (size_t)(shape[0] * shape[1]) * s->esize;
    unsigned char *want = tu_xmalloc(n), *have = tu_xmalloc(n);
    model_region(m, start, shape, want);
    CHECK_OK(zarrlib_array_read_region(f->array, start, shape, 2, have, n));
    CHECK_BYTES(have, want, n);
    free(want);
    free(have);
  }

  /* Every chunk at its full shape; the stored set is exactly the chunks holding data. */
  size_t nchunks = (size_t)(f->grid[0] * f->grid[1]);
  unsigned char *want = tu_xmalloc(f->chunk_bytes * (nchunks + 1));
  unsigned char *have = tu_xmalloc(f->chunk_bytes * (nchunks + 1));
  uint64_t *coords = tu_xmalloc(sizeof(uint64_t) * 2 * (nchunks + 1));
  size_t k = 0;
  for (uint64_t ci = 0; ci < f->grid[0]; ci++)
    for (uint64_t cj = 0; cj < f->grid[1]; cj++) {
      uint64_t c[2] = {ci, cj};
      model_chunk(m, ci, cj, want);
      memset(have, 0x5A, f->chunk_bytes);
      CHECK_OK(zarrlib_array_read_chunk(f->array, c, 2, have, f->chunk_bytes));
      for (size_t i = 0; i < f->chunk_bytes; i++)
        if (have[i] != want[i])
          FAIL("%s (%s, %s): chunk (%" PRIu64 ",%" PRIu64 ") byte %zu is 0x%02x, want 0x%02x",
               s->name, f->dir ? "directory" : "memory", when, ci, cj, i, have[i], want[i]);
      int stored = chunk_stored(f, ci, cj);
      if (stored != model_chunk_has_data(m, ci, cj))
        FAIL("%s (%s, %s): chunk (%" PRIu64 ",%" PRIu64 ") stored=%d, but it %s data", s->name,
             f->dir ? "directory" : "memory", when, ci, cj, stored,
             stored ? "holds no" : "holds");
      /* Reverse order for read_chunks. */
      coords[2 * (nchunks - 1 - k)] = ci;
      coords[2 * (nchunks - 1 - k) + 1] = cj;
      k++;
    }
  /* ... plus the first chunk again at the end. */
  coords[2 * nchunks] = coords[0];
  coords[2 * nchunks + 1] = coords[1];
  for (size_t i = 0; i <= nchunks; i++)
    model_chunk(m, coords[2 * i], coords[2 * i + 1], want + i * f->chunk_bytes);
  memset(have, 0x5A, f->chunk_bytes * (nchunks + 1));
  CHECK_OK(zarrlib_array_read_chunks(f->array, coords, nchunks + 1, 2, have,
                                     f->chunk_bytes * (nchunks + 1)));
  CHECK_BYTES(have, want, f->chunk_bytes * (nchunks + 1));
  free(want);
  free(have);
  free(coords);
}

/* The getters report what the metadata says. */
static void check_getters(const fixture_t *f) {
  const spec_t *s = f->s;
  size_t ndim = 0, esize = 0;
  uint64_t dims[2];
  char *name = NULL, *json = NULL;
  CHECK_OK(zarrlib_array_ndim(f->array, &ndim));
  CHECK_EQ_U64(ndim, 2);
  CHECK_OK(zarrlib_array_shape(f->array, dims, 2));
  CHECK(dims[0] == s->shape[0] && dims[1] == s->shape[1]);
  CHECK_OK(zarrlib_array_chunk_shape(f->array, dims, 2));
  CHECK(dims[0] == s->chunk[0] && dims[1] == s->chunk[1]);
  CHECK_OK(zarrlib_array_chunk_grid_shape(f->array, dims, 2));
  CHECK_EQ_U64(dims[0], (s->shape[0] + s->chunk[0] - 1) / s->chunk[0]);
  CHECK_EQ_U64(dims[1], (s->shape[1] + s->chunk[1] - 1) / s->chunk[1]);
  CHECK_OK(zarrlib_array_data_type(f->array, &name));
  CHECK_STREQ(name, s->dtype_name);
  zarrlib_string_free(name);
  CHECK_OK(zarrlib_array_element_size(f->array, &esize));
  CHECK_EQ_U64(esize, s->esize);
  unsigned char fill[8];
  memset(fill, 0xEE, sizeof fill);
  CHECK_OK(zarrlib_array_fill_value(f->array, fill, s->esize));
  CHECK_BYTES(fill, s->fill.bytes, s->esize);
  CHECK_OK(zarrlib_array_metadata(f->array, &json));
  CHECK(json != NULL && strlen(json) > 10 && json[0] == '{');
  CHECK(strstr(json, s->v2 ? "\"zarr_format\":2" : "\"zarr_format\":3") != NULL);
  zarrlib_string_free(json);
}

/* ---- the suite, for one array spec in one store ---------------------------------------- */

static void run_array_suite(const spec_t *s, const char *url, const char *dir) {
  zarrlib_store *store = tu_open_store(url);
  CHECK_OK(zarrlib_group_create(store, "", "{\"zarr_format\":3,\"node_type\":\"group\"}", false));
  CHECK_OK(zarrlib_group_create(store, "data", "{\"zarr_format\":3,\"node_type\":\"group\"}", false));
  char path[128];
  snprintf(path, sizeof path, "data/%s", s->name);

  fixture_t f;
  memset(&f, 0, sizeof f);
  f.s = s;
  f.path = path;
  f.dir = dir;
  f.array = tu_create_and_open(store, path, s->metadata);
  f.grid[0] = (s->shape[0] + s->chunk[0] - 1) / s->chunk[0];
  f.grid[1] = (s->shape[1] + s->chunk[1] - 1) / s->chunk[1];
  f.chunk_bytes = (size_t)(s->chunk[0] * s->chunk[1]) * s->esize;
  model_init(&f.model, s);
  uint64_t last[2] = {f.grid[0] - 1, f.grid[1] - 1};

  check_getters(&f);
  /* A new array: every chunk is missing and reads as the fill value. */
  check_all(&f, "new");

  /* A region covering parts of every chunk (read, updated, written back). */
  do_write_region(&f, 1, 1, s->shape[0] - 2, s->shape[1] - 2, 1);
  check_all(&f, "after a large region write");

  /* Whole chunks: an interior one and the last (edge) one, padded with the fill value. */
  do_write_chunk(&f, 0, 0, 2);
  do_write_chunk(&f, last[0], last[1], 3);
  check_all(&f, "after chunk writes");

  /* Small regions: one inside a chunk, one across a chunk corner, one single element. */
  do_write_region(&f, 1, 1, 2, 1, 4);
  do_write_region(&f, s->chunk[0] - 1, s->chunk[1] - 1, 2, 2, 5);
  do_write_region(&f, s->shape[0] - 1, s->shape[1] - 1, 1, 1, 6);
  check_all(&f, "after small region writes");

  /* A chunk written as all fill value is erased, not stored. */
  do_write_chunk(&f, 0, 0, 0);
  CHECK(!chunk_stored(&f, 0, 0));
  /* So is a chunk that a region write covering it (its in-array part) fills... */
  uint64_t ncols = s->shape[1] - s->chunk[1] < s->chunk[1] ? s->shape[1] - s->chunk[1] : s->chunk[1];
  CHECK(chunk_stored(&f, 0, 1));
  do_write_region(&f, 0, s->chunk[1], s->chunk[0], ncols, 0);
  CHECK(!chunk_stored(&f, 0, 1));
  /* ... and one that a partial write turns back into all fill value (read, updated, and then
   * erased rather than written back). */
  do_write_region(&f, 1, s->chunk[1] + 1, 1, 1, 8);
  CHECK(chunk_stored(&f, 0, 1));
  do_write_region(&f, 1, s->chunk[1] + 1, 1, 1, 0);
  CHECK(!chunk_stored(&f, 0, 1));
  check_all(&f, "after writing fill values");

  /* delete_chunk erases a stored chunk; erasing a missing chunk succeeds. */
  CHECK(chunk_stored(&f, 1, 0));
  do_delete_chunk(&f, 1, 0);
  CHECK(!chunk_stored(&f, 1, 0));
  do_delete_chunk(&f, 1, 0);
  check_all(&f, "after deleting a chunk");

  /* With store_empty_chunks on, an all-fill chunk is stored, and still reads as fill. */
  CHECK_OK(zarrlib_config_set_store_empty_chunks(true));
  do_write_chunk(&f, 0, 0, 0);
  CHECK(chunk_stored(&f, 0, 0));
  unsigned char *chunk = tu_xmalloc(f.chunk_bytes), *want = tu_xmalloc(f.chunk_bytes);
  uint64_t c00[2] = {0, 0};
  CHECK_OK(zarrlib_array_read_chunk(f.array, c00, 2, chunk, f.chunk_bytes));
  model_chunk(&f.model, 0, 0, want);
  CHECK_BYTES(chunk, want, f.chunk_bytes);
  CHECK_OK(zarrlib_config_set_store_empty_chunks(false));
  do_delete_chunk(&f, 0, 0);
  check_all(&f, "after store_empty_chunks");

  /* The same per handle: a handle with the option stores an all-fill chunk while the
   * process-wide setting is off, and the original handle still erases it. */
  fixture_t h = f;
  CHECK_OK(zarrlib_array_with_options(f.array, "{\"store_empty_chunks\": true}", &h.array));
  do_write_chunk(&h, 0, 0, 0);
  CHECK(chunk_stored(&f, 0, 0));
  do_write_chunk(&f, 0, 0, 0);
  CHECK(!chunk_stored(&f, 0, 0));
  zarrlib_array_free(h.array);
  zarrlib_array *bad = NULL;
  CHECK_STATUS(zarrlib_array_with_options(f.array, "{\"write_empty_chunks\": true}", &bad),
               ZARRLIB_ERR_INVALID_ARGUMENT);
  CHECK(bad == NULL);
  char message[512];
  CHECK(strstr(tu_last_error(message, sizeof message), "write_empty_chunks") != NULL);
  check_all(&f, "after a handle with options");

  /* Another handle on the same node sees the same data: through the stored metadata, and
   * through the caller's metadata. */
  fixture_t g = f;
  CHECK_OK(zarrlib_array_open(store, path, &g.array));
  check_getters(&g);
  check_all(&g, "through a second handle");
  zarrlib_array_free(g.array);
  g.array = NULL;
  CHECK_OK(zarrlib_array_open_with_metadata(store, path, s->metadata, &g.array));
  check_getters(&g);
  check_all(&g, "through open_with_metadata");
  zarrlib_array_free(g.array);

  /* The array handle keeps its store alive after the store handle is freed. */
  zarrlib_store_free(store);
  do_write_region(&f, 0, 0, s->shape[0], 2, 7);
  check_all(&f, "after the store handle was freed");
  zarrlib_array_free(f.array);

  /* A directory store keeps the data: a new store on it reads the same. */
  if (dir) {
    store = tu_open_store(dir);
    CHECK_OK(zarrlib_array_open(store, path, &f.array));
    check_all(&f, "after reopening the directory");
    zarrlib_array_free(f.array);
    zarrlib_store_free(store);
  }

  free(chunk);
  free(want);
  free(f.model.data);
}

/* ---- overwrite ------------------------------------------------------------------------- */

/* Creating with overwrite replaces the array: its old chunks are gone. */
static void test_overwrite(const char *url, const char *dir) {
  const spec_t *s = &SPECS[0];
  zarrlib_store *store = tu_open_store(url);
  zarrlib_array *array = tu_create_and_open(store, "arr", s->metadata);
  uint16_t data[12];
  for (int i = 0; i < 12; i++) data[i] = (uint16_t)(500 + i);
  uint64_t c11[2] = {1, 1};
  CHECK_OK(zarrlib_array_write_chunk(array, c11, 2, data, sizeof data));
  char *file = dir ? tu_join(dir, "arr/c/1/1") : NULL;
  if (file) CHECK(tu_file_exists(file));
  zarrlib_array_free(array);

  CHECK_STATUS(zarrlib_array_create(store, "arr", s->metadata, false), ZARRLIB_ERR_ALREADY_EXISTS);
  /* Same shape and chunks, a new fill value. */
  const char *replacement =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[10,7],\"data_type\":\"uint16\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,3]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":77,"
      "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}";
  CHECK_OK(zarrlib_array_create(store, "arr", replacement, true));
  if (file) CHECK(!tu_file_exists(file));
  CHECK_OK(zarrlib_array_open(store, "arr", &array));
  uint8_t *enc = (uint8_t *)(uintptr_t)1;
  size_t enc_len = 1;
  CHECK_OK(zarrlib_array_read_encoded_chunk(array, c11, 2, &enc, &enc_len));
  CHECK(enc == NULL && enc_len == 0);
  uint16_t back[12];
  CHECK_OK(zarrlib_array_read_chunk(array, c11, 2, back, sizeof back));
  for (int i = 0; i < 12; i++) CHECK_EQ_U64(back[i], 77);
  uint16_t fill = 0;
  CHECK_OK(zarrlib_array_fill_value(array, &fill, sizeof fill));
  CHECK_EQ_U64(fill, 77);
  zarrlib_array_free(array);
  free(file);
  zarrlib_store_free(store);
}

/* ---- special shapes --------------------------------------------------------------------- */

/* A 0-dimensional array: one element in one chunk; coordinates are empty (NULL with ndim 0). */
static void test_zero_dimensional(const char *url, const char *dir) {
  zarrlib_store *store = tu_open_store(url);
  const char *meta =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[],\"data_type\":\"float64\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":1.5,"
      "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
      "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}";
  zarrlib_array *array = tu_create_and_open(store, "scalar", meta);

  size_t ndim = 9;
  CHECK_OK(zarrlib_array_ndim(array, &ndim));
  CHECK_EQ_U64(ndim, 0);
  CHECK_OK(zarrlib_array_shape(array, NULL, 0));
  CHECK_OK(zarrlib_array_chunk_shape(array, NULL, 0));
  CHECK_OK(zarrlib_array_chunk_grid_shape(array, NULL, 0));
  uint64_t one[1];
  CHECK_STATUS(zarrlib_array_shape(array, one, 1), ZARRLIB_ERR_BUFFER_SIZE);

  double v = 0;
  CHECK_OK(zarrlib_array_read_chunk(array, NULL, 0, &v, sizeof v));
  CHECK(v == 1.5);
  CHECK_OK(zarrlib_array_read_region(array, NULL, NULL, 0, &v, sizeof v));
  CHECK(v == 1.5);

  double x = 3.25;
  CHECK_OK(zarrlib_array_write_chunk(array, NULL, 0, &x, sizeof x));
  v = 0;
  CHECK_OK(zarrlib_array_read_chunk(array, NULL, 0, &v, sizeof v));
  CHECK(v == 3.25);
  if (dir) {
    char *file = tu_join(dir, "scalar/c");
    CHECK(tu_file_exists(file));
    free(file);
  }
  uint8_t *enc = NULL;
  size_t enc_len = 0;
  CHECK_OK(zarrlib_array_read_encoded_chunk(array, NULL, 0, &enc, &enc_len));
  CHECK(enc != NULL && enc_len > 0);
  zarrlib_bytes_free(enc, enc_len);

  x = -8.5;
  CHECK_OK(zarrlib_array_write_region(array, NULL, NULL, 0, &x, sizeof x));
  double two[2] = {0, 0};
  CHECK_OK(zarrlib_array_read_chunks(array, NULL, 2, 0, two, sizeof two));
  CHECK(two[0] == -8.5 && two[1] == -8.5);
  CHECK_STATUS(zarrlib_array_read_chunk(array, NULL, 0, &v, 4), ZARRLIB_ERR_BUFFER_SIZE);
  uint64_t c0[1] = {0};
  CHECK_STATUS(zarrlib_array_read_chunk(array, c0, 1, &v, sizeof v), ZARRLIB_ERR_INVALID_ARGUMENT);

  CHECK_OK(zarrlib_array_delete_chunk(array, NULL, 0));
  CHECK_OK(zarrlib_array_read_region(array, NULL, NULL, 0, &v, sizeof v));
  CHECK(v == 1.5);
  CHECK_OK(zarrlib_array_read_encoded_chunk(array, NULL, 0, &enc, &enc_len));
  CHECK(enc == NULL && enc_len == 0);

  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* An array with a zero-length dimension holds no elements and has no chunks. */
static void test_zero_length_dimension(const char *url) {
  zarrlib_store *store = tu_open_store(url);
  const char *meta =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[0,5],\"data_type\":\"int32\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2,2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":3,"
      "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}";
  zarrlib_array *array = tu_create_and_open(store, "empty", meta);

  uint64_t dims[2] = {9, 9};
  CHECK_OK(zarrlib_array_shape(array, dims, 2));
  CHECK(dims[0] == 0 && dims[1] == 5);
  CHECK_OK(zarrlib_array_chunk_shape(array, dims, 2));
  CHECK(dims[0] == 2 && dims[1] == 2);
  CHECK_OK(zarrlib_array_chunk_grid_shape(array, dims, 2));
  CHECK(dims[0] == 0 && dims[1] == 3);

  /* The whole array is an empty region: zero bytes, a NULL buffer is fine. */
  uint64_t origin[2] = {0, 0}, all[2] = {0, 5};
  CHECK_OK(zarrlib_array_read_region(array, origin, all, 2, NULL, 0));
  CHECK_OK(zarrlib_array_write_region(array, origin, all, 2, NULL, 0));
  int32_t junk[10];
  CHECK_STATUS(zarrlib_array_read_region(array, origin, all, 2, junk, 4), ZARRLIB_ERR_BUFFER_SIZE);
  /* Any region with a row leaves the array; there is no chunk (0, 0). */
  uint64_t row[2] = {1, 5};
  CHECK_STATUS(zarrlib_array_read_region(array, origin, row, 2, junk, 20), ZARRLIB_ERR_OUT_OF_BOUNDS);
  CHECK_STATUS(zarrlib_array_write_region(array, origin, row, 2, junk, 20), ZARRLIB_ERR_OUT_OF_BOUNDS);
  uint64_t c00[2] = {0, 0};
  int32_t chunk[4] = {1, 2, 3, 4};
  CHECK_STATUS(zarrlib_array_read_chunk(array, c00, 2, chunk, sizeof chunk), ZARRLIB_ERR_OUT_OF_BOUNDS);
  CHECK_STATUS(zarrlib_array_write_chunk(array, c00, 2, chunk, sizeof chunk), ZARRLIB_ERR_OUT_OF_BOUNDS);
  /* Reading no chunks at all is fine. */
  CHECK_OK(zarrlib_array_read_chunks(array, NULL, 0, 2, NULL, 0));

  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* Empty regions inside an ordinary array read and write nothing. */
static void test_empty_regions(void) {
  zarrlib_store *store = tu_open_store("memory://");
  zarrlib_array *array = tu_create_and_open(store, "a", SPECS[0].metadata);
  uint64_t start[2] = {3, 2}, none[2] = {0, 4}, none2[2] = {4, 0};
  CHECK_OK(zarrlib_array_write_region(array, start, none, 2, NULL, 0));
  CHECK_OK(zarrlib_array_read_region(array, start, none2, 2, NULL, 0));
  uint64_t c[2] = {0, 0};
  uint8_t *enc = NULL;
  size_t enc_len = 0;
  CHECK_OK(zarrlib_array_read_encoded_chunk(array, c, 2, &enc, &enc_len));
  CHECK(enc == NULL);
  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* A rectangular chunk grid: chunks of different shapes, each read and written at its own
 * shape (rows split 1+2+3, columns 2+2). */
static void test_rectangular_grid(void) {
  zarrlib_store *store = tu_open_store("memory://");
  const char *meta =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[6,4],\"data_type\":\"uint8\","
      "\"chunk_grid\":{\"name\":\"rectangular\",\"configuration\":{\"chunk_shape\":[[1,2,3],2]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":7,"
      "\"codecs\":[{\"name\":\"bytes\"}]}";
  zarrlib_array *array = tu_create_and_open(store, "rect", meta);
  uint64_t c21[2] = {2, 1}, c00[2] = {0, 0};
  uint8_t big[6] = {1, 2, 3, 4, 5, 6}, small[2] = {8, 9}, back[6];
  CHECK_STATUS(zarrlib_array_write_chunk(array, c21, 2, big, 4), ZARRLIB_ERR_BUFFER_SIZE);
  CHECK_OK(zarrlib_array_write_chunk(array, c21, 2, big, 6)); /* rows 3..5, columns 2..3 */
  CHECK_OK(zarrlib_array_write_chunk(array, c00, 2, small, 2)); /* row 0, columns 0..1 */
  CHECK_OK(zarrlib_array_read_chunk(array, c21, 2, back, 6));
  CHECK_BYTES(back, big, 6);
  uint8_t all[24];
  uint64_t origin[2] = {0, 0}, shape[2] = {6, 4};
  CHECK_OK(zarrlib_array_read_region(array, origin, shape, 2, all, sizeof all));
  const uint8_t want[24] = {8, 9, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                            7, 7, 1, 2, 7, 7, 3, 4, 7, 7, 5, 6};
  CHECK_BYTES(all, want, sizeof want);
  zarrlib_array_free(array);
  zarrlib_store_free(store);
}

/* Elements cross the API in native byte order whatever the stored order: with no compression
 * the chunk file holds the value 0x0102 as 01 02 when big-endian, 02 01 when little-endian. */
static void test_byte_order(void) {
  char *dir = tu_make_temp_dir();
  zarrlib_store *store = tu_open_store(dir);
  static const struct {
    const char *path, *metadata, *key;
    unsigned char want[2];
  } cases[] = {
      {"big",
       "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[1],\"data_type\":\"uint16\","
       "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[1]}},"
       "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
       "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]}",
       "big/c/0", {0x01, 0x02}},
      {"little",
       "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[1],\"data_type\":\"uint16\","
       "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[1]}},"
       "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
       "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}",
       "little/c/0", {0x02, 0x01}},
      {"v2big",
       "{\"zarr_format\":2,\"shape\":[1],\"chunks\":[1],\"dtype\":\">u2\",\"compressor\":null,"
       "\"fill_value\":0,\"order\":\"C\",\"filters\":null}",
       "v2big/0", {0x01, 0x02}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    zarrlib_array *array = tu_create_and_open(store, cases[i].path, cases[i].metadata);
    uint16_t v = 0x0102, back = 0;
    uint64_t c0[1] = {0};
    CHECK_OK(zarrlib_array_write_chunk(array, c0, 1, &v, sizeof v));
    CHECK_OK(zarrlib_array_read_chunk(array, c0, 1, &back, sizeof back));
    CHECK_EQ_U64(back, 0x0102);
    char *file = tu_join(dir, cases[i].key);
    size_t size = 0;
    unsigned char *bytes = tu_read_file(file, &size);
    if (!bytes) FAIL("%s was not written", file);
    CHECK_EQ_U64(size, 2);
    CHECK_BYTES(bytes, cases[i].want, 2);
    char *type = NULL;
    CHECK_OK(zarrlib_array_data_type(array, &type));
    CHECK_STREQ(type, "uint16");
    zarrlib_string_free(type);
    free(bytes);
    free(file);
    zarrlib_array_free(array);
  }
  zarrlib_store_free(store);
  tu_remove_temp_dir(dir);
}

/* open_with_metadata does not read the store's metadata: the caller's document decides the fill
 * value and the metadata reported, and a path with no node at all can be opened. */
static void test_open_with_metadata_is_authoritative(void) {
  zarrlib_store *store = tu_open_store("memory://");
  const spec_t *s = &SPECS[0]; /* fill value 9 */
  zarrlib_array *stored = tu_create_and_open(store, "a", s->metadata);
  uint16_t data[12];
  for (int i = 0; i < 12; i++) data[i] = (uint16_t)(300 + i);
  uint64_t c00[2] = {0, 0}, c11[2] = {1, 1};
  CHECK_OK(zarrlib_array_write_chunk(stored, c00, 2, data, sizeof data));

  const char *other_fill =
      "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[10,7],\"data_type\":\"uint16\","
      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,3]}},"
      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":4242,"
      "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
      "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}";
  zarrlib_array *mine = NULL;
  CHECK_OK(zarrlib_array_open_with_metadata(store, "a", other_fill, &mine));
  uint16_t back[12];
  CHECK_OK(zarrlib_array_read_chunk(mine, c00, 2, back, sizeof back));
  CHECK_BYTES(back, data, sizeof data);
  CHECK_OK(zarrlib_array_read_chunk(mine, c11, 2, back, sizeof back));
  for (int i = 0; i < 12; i++) CHECK_EQ_U64(back[i], 4242);
  char *json = NULL;
  CHECK_OK(zarrlib_array_metadata(mine, &json));
  CHECK(strstr(json, "4242") != NULL);
  zarrlib_string_free(json);
  /* The store's own document is unchanged. */
  CHECK_OK(zarrlib_node_metadata(store, "a", &json));
  CHECK(strstr(json, "4242") == NULL && strstr(json, "\"fill_value\":9") != NULL);
  zarrlib_string_free(json);
  zarrlib_array_free(mine);

  /* No node at the path: opening with metadata still works, and writes create only chunks. */
  CHECK_OK(zarrlib_array_open_with_metadata(store, "nowhere", other_fill, &mine));
  CHECK_OK(zarrlib_array_write_chunk(mine, c11, 2, data, sizeof data));
  CHECK_OK(zarrlib_array_read_chunk(mine, c11, 2, back, sizeof back));
  CHECK_BYTES(back, data, sizeof data);
  int32_t kind = -1;
  CHECK_OK(zarrlib_node_kind(store, "nowhere", &kind));
  CHECK_EQ_U64(kind, ZARRLIB_NODE_NONE);
  zarrlib_array_free(mine);
  zarrlib_array_free(stored);
  zarrlib_store_free(store);
}

/* ---- whole chunks decoded straight into the caller's buffer ------------------------------ */

/* Chunks stored as little-endian bytes then zstd or blosc (maybe crc32c-wrapped) decode straight
 * into the caller's buffer: every whole-chunk read gives what was written, a missing chunk reads
 * as the fill value, and a stored value cut short is ZARRLIB_ERR_CORRUPT_DATA for every way of
 * reading the chunk while the other chunks still read. */
static void test_direct_chunk_decode(const char *dir) {
  static const char *const CODECS[] = {
      "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":true}}",
      "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":\"shuffle\","
      "\"typesize\":2,\"blocksize\":0}}",
      "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}},{\"name\":\"crc32c\"}",
  };
  static const char *const NAMES[] = {"direct_zstd", "direct_blosc", "direct_zstd_crc32c"};
  zarrlib_store *store = tu_open_store(dir);
  for (size_t v = 0; v < sizeof CODECS / sizeof CODECS[0]; v++) {
    char meta[1024];
    snprintf(meta, sizeof meta,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[16,32],\"data_type\":\"uint16\","
             "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,32]}},"
             "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":5,"
             "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},%s]}",
             CODECS[v]);
    zarrlib_array *array = tu_create_and_open(store, NAMES[v], meta);
    uint16_t data[16 * 32], back[16 * 32];
    for (size_t k = 0; k < 16 * 32; k++) data[k] = (uint16_t)(k * 37 % 1000 + 100);
    uint64_t c0[2] = {0, 0}, c1[2] = {1, 0};
    uint64_t start[2] = {0, 0}, whole[2] = {16, 32}, one[2] = {8, 32};

    /* Missing chunks read as the fill value. */
    CHECK_OK(zarrlib_array_read_chunk(array, c1, 2, back, 8 * 32 * 2));
    for (size_t k = 0; k < 8 * 32; k++) CHECK_EQ_U64(back[k], 5);

    CHECK_OK(zarrlib_array_write_region(array, start, whole, 2, data, sizeof data));
    memset(back, 0, sizeof back);
    CHECK_OK(zarrlib_array_read_chunk(array, c1, 2, back, 8 * 32 * 2));
    CHECK_BYTES(back, data + 8 * 32, 8 * 32 * 2);
    memset(back, 0, sizeof back);
    CHECK_OK(zarrlib_array_read_region(array, start, one, 2, back, 8 * 32 * 2));
    CHECK_BYTES(back, data, 8 * 32 * 2);
    memset(back, 0, sizeof back);
    uint64_t both[4] = {1, 0, 0, 0};
    CHECK_OK(zarrlib_array_read_chunks(array, both, 2, 2, back, sizeof back));
    CHECK_BYTES(back, data + 8 * 32, 8 * 32 * 2);
    CHECK_BYTES(back + 8 * 32, data, 8 * 32 * 2);
    memset(back, 0, sizeof back);
    CHECK_OK(zarrlib_array_read_region(array, start, whole, 2, back, sizeof back));
    CHECK_BYTES(back, data, sizeof data);

    /* Chunk (0, 0) cut short. */
    char rel[64];
    snprintf(rel, sizeof rel, "%s/c/0/0", NAMES[v]);
    char *file = tu_join(dir, rel);
    size_t size = 0;
    unsigned char *stored = tu_read_file(file, &size);
    CHECK(tu_write_file(file, stored, size / 2) == 0);
    CHECK_STATUS(zarrlib_array_read_chunk(array, c0, 2, back, 8 * 32 * 2), ZARRLIB_ERR_CORRUPT_DATA);
    CHECK_STATUS(zarrlib_array_read_region(array, start, one, 2, back, 8 * 32 * 2),
                 ZARRLIB_ERR_CORRUPT_DATA);
    CHECK_STATUS(zarrlib_array_read_chunks(array, both, 2, 2, back, sizeof back), ZARRLIB_ERR_CORRUPT_DATA);
    CHECK_STATUS(zarrlib_array_read_region(array, start, whole, 2, back, sizeof back),
                 ZARRLIB_ERR_CORRUPT_DATA);
    memset(back, 0, sizeof back);
    CHECK_OK(zarrlib_array_read_chunk(array, c1, 2, back, 8 * 32 * 2));
    CHECK_BYTES(back, data + 8 * 32, 8 * 32 * 2);
    free(stored);
    free(file);
    zarrlib_array_free(array);
  }
  zarrlib_store_free(store);
}

int main(void) {
  for (size_t i = 0; i < sizeof SPECS / sizeof SPECS[0]; i++) {
    run_array_suite(&SPECS[i], "memory://", NULL);
    char *dir = tu_make_temp_dir();
    run_array_suite(&SPECS[i], dir, dir);
    tu_remove_temp_dir(dir);
  }

  test_overwrite("memory://", NULL);
  test_zero_dimensional("memory://", NULL);
  test_zero_length_dimension("memory://");
  char *dir = tu_make_temp_dir();
  test_overwrite(dir, dir);
  test_zero_dimensional(dir, dir);
  test_zero_length_dimension(dir);
  test_direct_chunk_decode(dir);
  tu_remove_temp_dir(dir);
  test_empty_regions();
  test_rectangular_grid();
  test_byte_order();
  test_open_with_metadata_is_authoritative();

  printf("test_arrays: all checks passed\n");
  return 0;
}
