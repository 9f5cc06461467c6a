/*
 * Fuzz target: selections and buffer sizes. A small array with known contents (13x11 uint16 in
 * 4x3 chunks: plain, sharded into 8x6 shards, or variable-length strings) takes one call whose
 * every argument comes from the input: the call (region, strided selection, orthogonal,
 * coordinates, chunk, chunks, resize, append; reads and writes), the dimension count given,
 * starts, extents, steps, index lists and points near the edges of 64 bits, and the buffer
 * length: the size the selection needs (computed with overflow checks) or a hostile one, or a
 * NULL pointer. A read that succeeds is then checked against the known contents where they are
 * easy to compute (regions of the plain array).
 */
#include "fuzz_common.h"

#define ROWS 13
#define COLS 11
#define MAX_NDIM 4
#define MAX_LIST 64

static const char *const ARRAYS[] = {
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[13,11],\"data_type\":\"uint16\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,3]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":7,\"codecs\":["
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]}",
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[13,11],\"data_type\":\"uint16\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,6]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":7,\"codecs\":["
    "{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,3],\"codecs\":["
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],\"index_codecs\":["
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
    "\"index_location\":\"start\"}}]}",
    ("{\"zarr_format\":2,\"shape\":[13,11],\"chunks\":[4,3],\"dtype\":\"|O\",\"fill_value\":null,"
     "\"order\":\"C\",\"filters\":[{\"id\":\"vlen-utf8\"}],\"compressor\":null}"),
};
#define NUM_ARRAYS (sizeof ARRAYS / sizeof ARRAYS[0])

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_configure();
  return 0;
}

static uint16_t value_at(uint64_t row, uint64_t col) { return (uint16_t)(row * 1000 + col); }

/* A new array `which` filled with value_at (strings: the decimal value). */
static zarrlib_array *make_array(zarrlib_store *store, size_t which) {
  zarrlib_array *array = NULL;
  if (FZ(zarrlib_array_create(store, "a", ARRAYS[which], false)) != ZARRLIB_OK ||
      FZ(zarrlib_array_open(store, "a", &array)) != ZARRLIB_OK)
    abort();
  const uint64_t start[2] = {0, 0}, shape[2] = {ROWS, COLS};
  if (which == 2) {
    uint64_t offsets[ROWS * COLS + 1] = {0};
    char text[ROWS * COLS * 6];
    size_t used = 0;
    for (uint64_t i = 0; i < ROWS * COLS; i++) {
      used += (size_t)snprintf(text + used, sizeof text - used, "%u", value_at(i / COLS, i % COLS));
      offsets[i + 1] = used;
    }
    if (FZ(zarrlib_array_write_region_vlen(array, start, shape, 2, offsets, ROWS * COLS + 1, text,
                                           used)) != ZARRLIB_OK)
      abort();
  } else {
    uint16_t data[ROWS * COLS];
    for (uint64_t i = 0; i < ROWS * COLS; i++) data[i] = value_at(i / COLS, i % COLS);
    if (FZ(zarrlib_array_write_region(array, start, shape, 2, data, sizeof data)) != ZARRLIB_OK)
      abort();
  }
  return array;
}

typedef struct {
  size_t ndim;
  uint64_t a[MAX_NDIM], b[MAX_NDIM]; /* starts and extents, counts, shapes */
  int64_t step[MAX_NDIM];
  uint64_t list[MAX_LIST]; /* orthogonal indices, coordinates, chunk lists */
  size_t list_len;
  size_t needed; /* the buffer size the selection needs, SIZE_MAX if too large */
} args_t;

static void read_args(fz_input *in, args_t *args, uint8_t op, size_t which) {
  memset(args, 0, sizeof *args);
  args->ndim = fz_u8(in) % 8 == 0 ? fz_u8(in) % (MAX_NDIM + 1) : 2;
  for (size_t i = 0; i < MAX_NDIM; i++) {
    args->a[i] = fz_edgy(in);
    args->b[i] = fz_edgy(in);
    args->step[i] = (int64_t)fz_edgy(in);
  }
  args->list_len = (size_t)(fz_small(in) % (MAX_LIST + 1));
  for (size_t i = 0; i < args->list_len; i++) args->list[i] = fz_edgy(in);
  /* The elements selected, by the call's own rule. */
  uint64_t counts[MAX_NDIM];
  size_t n = args->ndim;
  switch (op % 8) {
    case 2: /* orthogonal: counts are b, capped so that the list holds them */
      for (size_t i = 0; i < n; i++) counts[i] = args->b[i] % 9;
      break;
    case 3: /* coordinates: list_len / ndim points */
      counts[0] = n ? args->list_len / n : 0;
      n = 1;
      break;
    case 4: /* one chunk, 4x3 (8x6 sharded) */
    case 5: /* list_len / ndim chunks */
      counts[0] = (which == 1 ? 8 * 6 : 4 * 3) * (op % 8 == 5 ? (n ? args->list_len / n : 0) : 1);
      n = 1;
      break;
    default:
      for (size_t i = 0; i < n; i++) counts[i] = args->b[i];
  }
  memcpy(args->b, counts, sizeof counts);
  args->needed = fz_product(counts, n, 2, FZ_MAX_BUFFER);
}

/* Region reads of the plain array hold value_at. */
static void verify_region(const args_t *args, const uint16_t *out) {
  size_t k = 0;
  for (uint64_t r = 0; r < args->b[0]; r++)
    for (uint64_t c = 0; c < args->b[1]; c++, k++)
      if (out[k] != value_at(args->a[0] + r, args->a[1] + c)) {
        fprintf(stderr, "BUG: region read (%llu, %llu) wrong\n", (unsigned long long)r,
                (unsigned long long)c);
        abort();
      }
}

static void call(zarrlib_array *array, uint8_t op, const args_t *args, void *buf, size_t len,
                 bool write, size_t which) {
  const uint64_t *a = args->a, *b = args->b, *list = args->list;
  size_t n = args->ndim;
  zarrlib_array *out = NULL;
  switch (op % 8) {
    case 0:
      if (write)
        FZ(zarrlib_array_write_region(array, a, b, n, buf, len));
      else if (FZ(zarrlib_array_read_region(array, a, b, n, buf, len)) == ZARRLIB_OK &&
               which == 0 && n == 2)
        verify_region(args, buf);
      break;
    case 1:
      if (write) FZ(zarrlib_array_write_selection(array, a, args->step, b, n, buf, len));
      else FZ(zarrlib_array_read_selection(array, a, args->step, b, n, buf, len));
      break;
    case 2:
      if (write) FZ(zarrlib_array_write_orthogonal(array, list, b, n, buf, len));
      else FZ(zarrlib_array_read_orthogonal(array, list, b, n, buf, len));
      break;
    case 3: {
      size_t points = n ? args->list_len / n : args->list_len;
      if (write) FZ(zarrlib_array_write_coordinates(array, list, points, n, buf, len));
      else FZ(zarrlib_array_read_coordinates(array, list, points, n, buf, len));
      break;
    }
    case 4:
      if (write) FZ(zarrlib_array_write_chunk(array, a, n, buf, len));
      else FZ(zarrlib_array_read_chunk(array, a, n, buf, len));
      FZ(zarrlib_array_delete_chunk(array, list, n));
      break;
    case 5:
      FZ(zarrlib_array_read_chunks(array, list, n ? args->list_len / n : 0, n, buf, len));
      break;
    case 6:
      if (FZ(zarrlib_array_resize(array, b, n, &out)) == ZARRLIB_OK) {
        fz_exercise_array(out, a[0], 4, write);
        zarrlib_array_free(out);
      }
      break;
    default:
      if (FZ(zarrlib_array_append(array, (size_t)a[0], b, n, buf, len, &out)) == ZARRLIB_OK) {
        fz_exercise_array(out, a[1], 4, false);
        zarrlib_array_free(out);
      }
  }
}

/* Which variable-length call an op makes. */
typedef enum { VLEN_CHUNK, VLEN_REGION, VLEN_STRIDED, VLEN_ORTHOGONAL, VLEN_POINTS } vlen_call;

static vlen_call vlen_call_of(uint8_t op) {
  if (op & 1) return VLEN_CHUNK;
  if (op & 4) return (op & 2) ? VLEN_POINTS : VLEN_ORTHOGONAL;
  return (op & 2) ? VLEN_STRIDED : VLEN_REGION;
}

/* An orthogonal selection's counts: b, capped so that the list holds them (as for op 2). */
static const uint64_t *orthogonal_counts(const args_t *args, uint64_t counts[MAX_NDIM]) {
  for (size_t i = 0; i < MAX_NDIM; i++) counts[i] = args->b[i] % 9;
  return counts;
}

/* Write `offsets` and `bytes` to the selection `kind` takes from `args` (a chunk is written as
 * the region (a, b)). */
static void write_vlen(zarrlib_array *array, vlen_call kind, const args_t *args,
                       const uint64_t *offsets, size_t offsets_len, const char *bytes,
                       size_t bytes_len) {
  size_t n = args->ndim;
  uint64_t counts[MAX_NDIM];
  switch (kind) {
    case VLEN_STRIDED:
      FZ(zarrlib_array_write_selection_vlen(array, args->a, args->step, args->b, n, offsets,
                                            offsets_len, bytes, bytes_len));
      break;
    case VLEN_ORTHOGONAL:
      FZ(zarrlib_array_write_orthogonal_vlen(array, args->list, orthogonal_counts(args, counts), n,
                                             offsets, offsets_len, bytes, bytes_len));
      break;
    case VLEN_POINTS:
      FZ(zarrlib_array_write_coordinates_vlen(array, args->list, n ? args->list_len / n : 0, n,
                                              offsets, offsets_len, bytes, bytes_len));
      break;
    default:
      FZ(zarrlib_array_write_region_vlen(array, args->a, args->b, n, offsets, offsets_len, bytes,
                                         bytes_len));
  }
}

/* The variable-length calls take no buffer length: chunks, regions, strided, orthogonal and
 * coordinate selections, read and written. */
static void call_vlen(zarrlib_array *array, uint8_t op, const args_t *args, bool write) {
  zarrlib_vlen *vlen = NULL;
  vlen_call kind = vlen_call_of(op);
  size_t n = args->ndim;
  uint64_t counts[MAX_NDIM];
  int32_t status;
  switch (kind) {
    case VLEN_CHUNK:
      status = FZ(zarrlib_array_read_chunk_vlen(array, args->a, n, &vlen));
      break;
    case VLEN_STRIDED:
      status = FZ(zarrlib_array_read_selection_vlen(array, args->a, args->step, args->b, n, &vlen));
      break;
    case VLEN_ORTHOGONAL:
      status = FZ(zarrlib_array_read_orthogonal_vlen(array, args->list,
                                                     orthogonal_counts(args, counts), n, &vlen));
      break;
    case VLEN_POINTS:
      status = FZ(zarrlib_array_read_coordinates_vlen(array, args->list, n ? args->list_len / n : 0,
                                                      n, &vlen));
      break;
    default:
      status = FZ(zarrlib_array_read_region_vlen(array, args->a, args->b, n, &vlen));
  }
  if (status != ZARRLIB_OK) {
    if (write) {
      /* Offsets from the input, hostile or not, over a few bytes. */
      static const char bytes[] = "0123456789abcdef";
      write_vlen(array, kind, args, args->list, args->list_len, bytes, sizeof bytes - 1);
    }
    return;
  }
  size_t elements = 0, total = 0;
  FZ(zarrlib_vlen_sizes(vlen, &elements, &total));
  uint64_t offsets[MAX_LIST + 1];
  char bytes[MAX_LIST * 8];
  if (elements <= MAX_LIST && total <= sizeof bytes &&
      FZ(zarrlib_vlen_copy(vlen, offsets, elements + 1, bytes, total)) == ZARRLIB_OK && write)
    write_vlen(array, kind, args, offsets, elements + 1, bytes, total);
  zarrlib_vlen_free(vlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_input in = {data, size};
  size_t which = fz_u8(&in) % NUM_ARRAYS;
  uint8_t op = fz_u8(&in);
  uint8_t length_kind = fz_u8(&in);
  uint64_t hostile_length = fz_edgy(&in);
  args_t args;
  read_args(&in, &args, op, which);
  bool write = op & 0x80;

  zarrlib_store *store = NULL;
  if (FZ(zarrlib_store_open("memory://", NULL, &store)) != ZARRLIB_OK) abort();
  zarrlib_array *array = make_array(store, which);
  if (which == 2) {
    call_vlen(array, op, &args, write);
  } else {
    /* The needed length, one off it, or the input's own (within what is allocated). */
    size_t len = args.needed;
    if (length_kind % 4 == 3 || args.needed == SIZE_MAX)
      len = (size_t)(hostile_length % (FZ_MAX_BUFFER + 1));
    else if (length_kind % 4 == 1)
      len = args.needed + 1;
    else if (length_kind % 4 == 2)
      len = args.needed ? args.needed - 1 : 0;
    {
      uint8_t *buf = malloc(len ? len : 1);
      if (buf == NULL) abort();
      memset(buf, 0x33, len);
      call(array, op, &args, (length_kind & 4) ? NULL : buf, len, write, which);
      free(buf);
    }
  }
  zarrlib_array_free(array);
  zarrlib_store_free(store);
  return 0;
}
