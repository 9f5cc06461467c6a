/*
 * Fuzz target: stored chunk bytes under each codec chain. The input is one byte choosing an
 * array from the table below (a 7x5 array in 3x2 chunks, or 6x4 shards of 3x2 inner chunks, as
 * the fixtures under tests/data are), one byte of options (which chunk: the first or the edge
 * one; checksums validated or not; whether writes follow), then the chunk's stored bytes. The
 * bytes are put under the chunk's key in a callback store, and the array is read every way the
 * ABI has: the chunk, its encoded bytes, a partial region, a strided selection, coordinates,
 * the variable-length calls, then a partial write over it (read, modify, write back).
 *
 * With the environment variable ZARRLIB_FUZZ_WRITE_SEEDS=DIR, the harness instead writes one
 * valid input per table entry into DIR (a pattern encoded by the engine itself) and exits:
 * tools/fuzz_seeds.py seeds the corpus so.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <sys/stat.h>

#define V3_HEAD(dtype, fill)                                                                 \
  "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[7,5],\"data_type\":\"" dtype "\","   \
  "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[3,2]}},"        \
  "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":" fill ","
#define V3_U16(codecs) V3_HEAD("uint16", "0") "\"codecs\":[" codecs "]}"
#define V3_F32(codecs) V3_HEAD("float32", "0.0") "\"codecs\":[" codecs "]}"
#define BYTES_LE "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}"
#define NC_FIRST(name, config) "{\"name\":\"numcodecs." name "\",\"configuration\":{" config "}}"
#define NC(name, config) "," NC_FIRST(name, config)
#define SHARD(location, inner, index)                                                         \
  "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[7,5],\"data_type\":\"uint16\","       \
  "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[6,4]}},"          \
  "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,\"codecs\":["               \
  "{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[3,2],\"codecs\":["      \
  inner "],\"index_codecs\":[" index "],\"index_location\":\"" location "\"}}]}"
#define V2(dtype, order, compressor, filters)                                                 \
  "{\"zarr_format\":2,\"shape\":[7,5],\"chunks\":[3,2],\"dtype\":\"" dtype "\","               \
  "\"fill_value\":0,\"order\":\"" order "\",\"filters\":" filters ",\"compressor\":" compressor "}"
#define V2_VLEN(filter)                                                                       \
  "{\"zarr_format\":2,\"shape\":[7,5],\"chunks\":[3,2],\"dtype\":\"|O\",\"fill_value\":null,"  \
  "\"order\":\"C\",\"filters\":[{\"id\":\"" filter "\"}],\"compressor\":null}"

static const char *const ARRAYS[] = {
    V3_U16(BYTES_LE),
    V3_U16("{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}"),
    V3_U16(BYTES_LE ",{\"name\":\"gzip\",\"configuration\":{\"level\":5}}"),
    V3_U16(BYTES_LE ",{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}"),
    V3_U16(BYTES_LE ",{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":true}}"),
    V3_U16(BYTES_LE ",{\"name\":\"blosc\",\"configuration\":{\"typesize\":2,\"cname\":\"lz4\","
                    "\"clevel\":5,\"shuffle\":\"shuffle\",\"blocksize\":0}}"),
    V3_U16(BYTES_LE ",{\"name\":\"blosc\",\"configuration\":{\"typesize\":2,\"cname\":\"zstd\","
                    "\"clevel\":3,\"shuffle\":\"bitshuffle\",\"blocksize\":0}}"),
    V3_U16(BYTES_LE ",{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}},"
                    "{\"name\":\"crc32c\"}"),
    V3_U16("{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}}," BYTES_LE
           ",{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}"),
    SHARD("end", BYTES_LE ",{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}",
          BYTES_LE ",{\"name\":\"crc32c\"}"),
    SHARD("start", BYTES_LE, BYTES_LE),
    SHARD("start", BYTES_LE ",{\"name\":\"gzip\",\"configuration\":{\"level\":1}}",
          BYTES_LE ",{\"name\":\"crc32c\"}"),
    V3_U16(BYTES_LE NC("zlib", "\"level\":4")),
    V3_U16(BYTES_LE NC("bz2", "\"level\":2")),
    V3_U16(BYTES_LE NC("shuffle", "\"elementsize\":2") NC("zlib", "\"level\":1")),
    V3_U16(BYTES_LE NC("fletcher32", "")),
    V3_U16(BYTES_LE NC("adler32", "")),
    V3_U16(BYTES_LE NC("lz4", "\"acceleration\":1")),
    V3_U16(BYTES_LE NC("crc32", "")),
    V3_U16(BYTES_LE NC("crc32", "\"location\":\"end\"")),
    V3_F32(NC_FIRST("bitround", "\"keepbits\":6") "," BYTES_LE),
    V3_F32(NC_FIRST("fixedscaleoffset", "\"offset\":10,\"scale\":100,\"dtype\":\"<f4\",\"astype\":\"<i4\"")
               "," BYTES_LE),
    V3_HEAD("string", "\"\"") "\"codecs\":[{\"name\":\"vlen-utf8\"}]}",
    V3_HEAD("bytes", "\"\"") "\"codecs\":[{\"name\":\"vlen-bytes\"},"
                             "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}]}",
    V2("<u2", "C", "null", "null"),
    V2(">u2", "C", "null", "null"),
    V2("<u2", "C", "{\"id\":\"zlib\",\"level\":5}", "null"),
    V2("<u2", "C", "{\"id\":\"gzip\",\"level\":5}", "null"),
    V2("<u2", "C", "{\"id\":\"bz2\",\"level\":5}", "null"),
    V2("<u2", "C", "{\"id\":\"zstd\",\"level\":1}", "null"),
    V2("<u2", "C", "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"blocksize\":0}",
       "null"),
    V2("<u2", "C", "{\"id\":\"lz4\",\"acceleration\":1}", "null"),
    V2("<u2", "F", "{\"id\":\"zstd\",\"level\":1}", "null"),
    V2("<u2", "C", "{\"id\":\"zlib\",\"level\":1}", "[{\"id\":\"shuffle\",\"elementsize\":2}]"),
    V2("<u2", "C", "null", "[{\"id\":\"crc32\"}]"),
    V2("<f4", "C", "{\"id\":\"zlib\",\"level\":1}",
       "[{\"id\":\"fixedscaleoffset\",\"offset\":1,\"scale\":10,\"dtype\":\"<f4\",\"astype\":\"<i2\"}]"),
    V2_VLEN("vlen-utf8"),
    V2_VLEN("vlen-bytes"),
};
#define NUM_ARRAYS (sizeof ARRAYS / sizeof ARRAYS[0])

/* The stored key of chunk (row, col) of array `i`. */
static void chunk_key(size_t i, uint64_t row, uint64_t col, char *key, size_t len) {
  if (strncmp(ARRAYS[i], "{\"zarr_format\":2", 16) == 0)
    snprintf(key, len, "a/%llu.%llu", (unsigned long long)row, (unsigned long long)col);
  else
    snprintf(key, len, "a/c/%llu/%llu", (unsigned long long)row, (unsigned long long)col);
}

/* Read the chunk every way, then write part of it. */
static void exercise(zarrlib_array *array, const uint64_t *chunk, bool write) {
  fz_exercise_array(array, chunk[0] * 3 + 1, 3, false);
  size_t element_size = 0;
  FZ(zarrlib_array_element_size(array, &element_size));
  uint8_t *encoded = NULL;
  size_t encoded_len = 0;
  if (FZ(zarrlib_array_read_encoded_chunk(array, chunk, 2, &encoded, &encoded_len)) == ZARRLIB_OK)
    zarrlib_bytes_free(encoded, encoded_len);
  uint64_t origin[2] = {chunk[0] * 3, chunk[1] * 2};
  if (element_size == 0) {
    zarrlib_vlen *vlen = NULL;
    if (FZ(zarrlib_array_read_chunk_vlen(array, chunk, 2, &vlen)) == ZARRLIB_OK)
      zarrlib_vlen_free(vlen);
    return;
  }
  uint8_t buffer[6 * 4 * 8];
  uint64_t chunk_shape[2] = {3, 2};
  if (FZ(zarrlib_array_chunk_shape(array, chunk_shape, 2)) != ZARRLIB_OK) return;
  size_t chunk_bytes = fz_product(chunk_shape, 2, element_size, sizeof buffer);
  if (chunk_bytes != SIZE_MAX)
    FZ(zarrlib_array_read_chunk(array, chunk, 2, buffer, chunk_bytes));
  /* A strided selection backwards over the chunk's rows, and two coordinates inside it. */
  const uint64_t start[2] = {origin[0] < 7 ? 6 : 0, origin[1] < 5 ? origin[1] : 0};
  const int64_t step[2] = {-2, 1};
  const uint64_t count[2] = {3, 1};
  FZ(zarrlib_array_read_selection(array, start, step, count, 2, buffer, 3 * element_size));
  const uint64_t points[4] = {origin[0] % 7, origin[1] % 5, 6, 4};
  FZ(zarrlib_array_read_coordinates(array, points, 2, 2, buffer, 2 * element_size));
  const uint64_t one[2] = {1, 1};
  memset(buffer, 0x5a, element_size);
  if (write) FZ(zarrlib_array_write_region(array, points, one, 2, buffer, element_size));
}

static void write_seeds(const char *dir) {
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) abort();
  for (size_t i = 0; i < NUM_ARRAYS; i++) {
    fz_kv *kv = NULL;
    zarrlib_store *store = fz_kv_store(&kv, NULL);
    zarrlib_array *array = NULL;
    if (FZ(zarrlib_array_create(store, "a", ARRAYS[i], false)) != ZARRLIB_OK ||
        FZ(zarrlib_array_open(store, "a", &array)) != ZARRLIB_OK) {
      char message[1024] = "";
      zarrlib_last_error_message(message, sizeof message);
      fprintf(stderr, "fuzz_chunks: table entry %zu does not open: %s\n", i, message);
      abort();
    }
    size_t element_size = 0;
    FZ(zarrlib_array_element_size(array, &element_size));
    const uint64_t start[2] = {0, 0}, shape[2] = {7, 5};
    if (element_size == 0) {
      uint64_t offsets[36];
      char text[35 * 3];
      for (size_t e = 0; e <= 35; e++) offsets[e] = e * 3 - (e ? e % 3 : 0);
      for (size_t c = 0; c < sizeof text; c++) text[c] = (char)('a' + c % 26);
      FZ(zarrlib_array_write_region_vlen(array, start, shape, 2, offsets, 36, text, offsets[35]));
    } else {
      uint8_t data[35 * 4];
      for (size_t b = 0; b < sizeof data; b++) data[b] = (uint8_t)(b % 4 == 3 ? 0x40 : b * 7);
      FZ(zarrlib_array_write_region(array, start, shape, 2, data, 35 * element_size));
    }
    for (int edge = 0; edge < 2; edge++) {
      const uint64_t chunk[2] = {edge ? 2 : 0, edge ? 2 : 0};
      const uint64_t shard[2] = {edge, edge};
      uint8_t *encoded = NULL;
      size_t len = 0;
      bool sharded = strstr(ARRAYS[i], "sharding_indexed") != NULL;
      if (FZ(zarrlib_array_read_encoded_chunk(array, sharded ? shard : chunk, 2, &encoded, &len)) !=
              ZARRLIB_OK ||
          encoded == NULL)
        abort();
      char path[4096];
      snprintf(path, sizeof path, "%s/engine-%02zu-%s", dir, i, edge ? "edge" : "first");
      FILE *file = fopen(path, "wb");
      uint8_t head[2] = {(uint8_t)i, (uint8_t)(edge ? 5 : 4)};
      if (file == NULL || fwrite(head, 1, 2, file) != 2 || fwrite(encoded, 1, len, file) != len ||
          fclose(file) != 0)
        abort();
      zarrlib_bytes_free(encoded, len);
    }
    zarrlib_array_free(array);
    zarrlib_store_free(store);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_configure();
  const char *seeds = getenv("ZARRLIB_FUZZ_WRITE_SEEDS");
  if (seeds != NULL) {
    write_seeds(seeds);
    exit(0);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_input in = {data, size};
  size_t index = fz_u8(&in) % NUM_ARRAYS;
  uint8_t options = fz_u8(&in);
  fz_kv *kv = NULL;
  zarrlib_store *store = fz_kv_store(&kv, NULL);
  zarrlib_array *array = NULL;
  if (FZ(zarrlib_array_create(store, "a", ARRAYS[index], false)) != ZARRLIB_OK ||
      FZ(zarrlib_array_open(store, "a", &array)) != ZARRLIB_OK)
    abort(); /* the table is valid */
  bool sharded = strstr(ARRAYS[index], "sharding_indexed") != NULL;
  bool edge = options & 1;
  /* The chunk (for a sharded array, the shard) the bytes are stored as. */
  const uint64_t chunk[2] = {edge ? (sharded ? 1 : 2) : 0, edge ? (sharded ? 1 : 2) : 0};
  char key[64];
  chunk_key(index, chunk[0], chunk[1], key, sizeof key);
  fz_kv_put(kv, key, in.data, in.len);
  if (zarrlib_config_set_validate_checksums(!(options & 2)) != ZARRLIB_OK) abort();
  exercise(array, chunk, options & 4);
  if (zarrlib_config_set_validate_checksums(true) != ZARRLIB_OK) abort();
  zarrlib_array_free(array);
  zarrlib_store_free(store);
  return 0;
}
