// renameat2(RENAME_EXCHANGE) for Node, which offers only rename(2). The file
// store swaps its new text with a resource file in one step: the name that
// held the new text then holds whatever the resource file was at that instant,
// so a save that lands after the store's last check is handed back to it, not
// unlinked. Built by scripts/build-native.sh; loaded by
// controller/store/rename-exchange.ts, which falls back to rename without it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <node_api.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int swap_paths(const char *a, const char *b) {
#ifdef SYS_renameat2
  return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
#else
  errno = ENOSYS;
  return -1;
#endif
}

// A path argument as a malloc'd C string, or NULL with a TypeError thrown.
static char *path_arg(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "exchange(a, b): both paths must be strings");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    napi_throw_error(env, NULL, "exchange(a, b): out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

// exchange(a, b): swaps the two names, or throws an Error whose `errno` is the system's.
static napi_value exchange(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "exchange(a, b) takes two paths");
    return NULL;
  }
  char *a = path_arg(env, argv[0]);
  if (a == NULL) return NULL;
  char *b = path_arg(env, argv[1]);
  if (b == NULL) {
    free(a);
    return NULL;
  }
  int rc = swap_paths(a, b);
  int err = errno;
  free(a);
  free(b);
  if (rc != 0) {
    napi_value msg, error, code;
    napi_create_string_utf8(env, "renameat2(RENAME_EXCHANGE) failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &error);
    napi_create_int32(env, err, &code);
    napi_set_named_property(env, error, "errno", code);
    napi_throw(env, error);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "exchange", NAPI_AUTO_LENGTH, exchange, NULL, &fn);
  napi_set_named_property(env, exports, "exchange", fn);
  return exports;
}
