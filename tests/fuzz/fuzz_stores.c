/*
 * Fuzz target: store URLs and options JSON, through zarrlib_store_open. The input is a control
 * byte, a URL tail and an options document (NUL-separated), then bytes for a zip file. Nothing
 * here reaches the network or a path outside one temporary directory:
 *   0: "memory://" followed by the tail, the options as given;
 *   1: a directory inside the temporary directory (a plain path, or a file:// URL), the options
 *      as given; then a group, an array and a listing are written and read there;
 *   2: the zip file made of the input's last bytes, inside the temporary directory, opened as
 *      a path, a file:// URL or a zip+file:// URL, and read as a hierarchy;
 *   3: an object store URL (s3, gs, az, abfs, http, https, zip+s3) with the tail as its bucket
 *      and path, the options as given: opened and freed only (opening makes no request);
 *   4: s3:// or http://127.0.0.1:1/ with the tail, and options that send every request to
 *      127.0.0.1 port 1 (refused at once) with no retries and a 200 ms timeout; then reads.
 * Tails holding "..", "%", "\\" or, for URLs with a host, "@", "?" and "#" are skipped, so
 * they cannot lead out of the temporary directory or to another host. The process's cloud
 * credentials and proxies are removed from its environment first.
 */

#include "fuzz_common.h"

#include <ftw.h>
#include <unistd.h>

extern char **environ;

static char scratch[256]; /* the temporary directory, made once */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

/* Remove what the last input left in the temporary directory. */
static void clear_scratch(void) {
  char path[300];
  snprintf(path, sizeof path, "%s/t", scratch);
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_scratch(void) {
  nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* No cloud credentials, metadata endpoints or proxies from the environment. */
static void clean_environment(void) {
  static const char *const prefixes[] = {"AWS_", "GOOGLE_", "AZURE_", "http_proxy", "https_proxy",
                                         "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
  for (bool again = true; again;) {
    again = false;
    for (char **env = environ; *env != NULL && !again; env++)
      for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(*env, prefixes[i], strlen(prefixes[i])) == 0) {
          char name[256];
          size_t n = strcspn(*env, "=");
          if (n >= sizeof name) abort();
          memcpy(name, *env, n);
          name[n] = '\0';
          unsetenv(name);
          again = true;
          break;
        }
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_configure();
  clean_environment();
  const char *tmp = getenv("TMPDIR");
  snprintf(scratch, sizeof scratch, "%s/zarrlib-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(scratch) == NULL) abort();
  atexit(remove_scratch);
  return 0;
}

static bool safe_tail(const char *tail, bool has_host) {
  if (strstr(tail, "..") || strpbrk(tail, "%\\")) return false;
  return !has_host || !strpbrk(tail, "@?#");
}

#define GROUP "{\"zarr_format\":3,\"node_type\":\"group\"}"
#define ARRAY                                                                               \
  "{\"zarr_format\":2,\"shape\":[5],\"chunks\":[2],\"dtype\":\"<i4\",\"fill_value\":0,"      \
  "\"order\":\"C\",\"filters\":null,\"compressor\":{\"id\":\"zlib\",\"level\":1}}"

/* Read the hierarchy at the root of `store`, and write one if `write`. */
static void exercise_store(zarrlib_store *store, bool write) {
  char *json = NULL;
  int32_t kind = 0;
  if (write && FZ(zarrlib_group_create(store, "", GROUP, true)) == ZARRLIB_OK &&
      FZ(zarrlib_array_create(store, "x/y", ARRAY, false)) == ZARRLIB_OK) {
    zarrlib_array *array = NULL;
    if (FZ(zarrlib_array_open(store, "x/y", &array)) == ZARRLIB_OK) {
      fz_exercise_array(array, 1, 3, true);
      zarrlib_array_free(array);
    }
  }
  FZ(zarrlib_node_kind(store, "", &kind));
  if (FZ(zarrlib_node_children(store, "", &json)) == ZARRLIB_OK) zarrlib_string_free(json);
  if (FZ(zarrlib_node_metadata(store, "", &json)) == ZARRLIB_OK) zarrlib_string_free(json);
  if (FZ(zarrlib_store_metrics(store, &json)) == ZARRLIB_OK) zarrlib_string_free(json);
  /* Every array the root lists, opened and read. */
  if (FZ(zarrlib_node_children(store, "", &json)) != ZARRLIB_OK) return;
  for (const char *p = json; (p = strstr(p, "[\"")) != NULL;) {
    p += 2;
    size_t n = strcspn(p, "\"");
    char path[256];
    if (n >= sizeof path) continue;
    memcpy(path, p, n);
    path[n] = '\0';
    zarrlib_array *array = NULL;
    if (FZ(zarrlib_array_open(store, path, &array)) == ZARRLIB_OK) {
      fz_exercise_array(array, 0, 4, false);
      zarrlib_array_free(array);
    }
  }
  zarrlib_string_free(json);
}

static void open_and_exercise(const char *url, const char *options, int mode) {
  zarrlib_store *store = NULL;
  if (FZ(zarrlib_store_open(url, options, &store)) != ZARRLIB_OK) return;
  if (mode != 3) exercise_store(store, mode == 1);
  zarrlib_store_free(store);
}

#define NO_RETRIES \
  "\"retries\":0,\"timeout\":\"200ms\",\"connect_timeout\":\"200ms\",\"retry_timeout\":\"200ms\""

static void write_file(const char *path, const uint8_t *data, size_t len) {
  FILE *file = fopen(path, "wb");
  if (file == NULL || fwrite(data, 1, len, file) != len || fclose(file) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_input in = {data, size};
  uint8_t control = fz_u8(&in);
  char *tail = fz_cstring(&in);
  char *options = fz_cstring(&in);
  const char *opts = (control & 0x80) ? NULL : options;
  size_t n = strlen(tail) + 512;
  char *url = malloc(n);
  char dir[300];
  if (url == NULL) abort();
  snprintf(dir, sizeof dir, "%s/t", scratch);
  int mode = (control & 7) % 5;
  switch (mode) {
    case 0:
      snprintf(url, n, "memory://%s", tail);
      open_and_exercise(url, opts, mode);
      break;
    case 1:
      if (!safe_tail(tail, false) || mkdir(dir, 0700) != 0) break;
      snprintf(url, n, "%s%s/%s", (control & 8) ? "file://" : "", dir, tail);
      open_and_exercise(url, opts, mode);
      break;
    case 2: {
      static const char *const forms[] = {"%s/%s", "file://%s/%s", "zip+file://%s/%s"};
      if (mkdir(dir, 0700) != 0) break;
      char path[400];
      snprintf(path, sizeof path, "%s/data.zip", dir);
      write_file(path, in.data, in.len);
      snprintf(url, n, forms[(control >> 3) % 3], dir, "data.zip");
      open_and_exercise(url, opts, mode);
      break;
    }
    case 3: {
      static const char *const schemes[] = {"s3",    "gs",       "az",         "abfs",
                                            "http",  "https",    "zip+s3",     "zip+https"};
      snprintf(url, n, "%s://%s", schemes[(control >> 3) % 8], tail);
      open_and_exercise(url, opts, mode);
      break;
    }
    default:
      /* Both refuse every connection at once: nothing listens on port 1. */
      if (!safe_tail(tail, true)) break;
      if (control & 8) {
        snprintf(url, n, "http://127.0.0.1:1/%s", tail);
        open_and_exercise(url, "{\"allow_http\":true," NO_RETRIES "}", mode);
      } else {
        snprintf(url, n, "s3://%s", tail);
        open_and_exercise(url,
                          "{\"endpoint\":\"http://127.0.0.1:1\",\"allow_http\":true,"
                          "\"region\":\"us-east-1\",\"access_key_id\":\"k\","
                          "\"secret_access_key\":\"s\"," NO_RETRIES "}",
                          mode);
      }
  }
  clear_scratch();
  free(url);
  free(options);
  free(tail);
  return 0;
}
