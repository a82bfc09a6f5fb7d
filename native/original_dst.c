/*
 * weft_native: the original destination of a connection redirected by iptables (REDIRECT/DNAT),
 * read with getsockopt(SO_ORIGINAL_DST), which Node has no API for. The sidecar's capture
 * listeners (15001, 15006) call it once per accepted connection to learn where the app was really
 * connecting (a service VIP and port outbound, the workload port inbound), as Envoy's
 * original_dst listener filter does. One syscall per connection: cheaper and simpler than per-VIP
 * capture ports (a bound port per service port, and no answer for unknown destinations) or
 * TPROXY (needs IP_TRANSPARENT on the listener, policy routing and still a native call).
 *
 * originalDestination(fd) -> { address, port } | null   (null: no NAT record for this socket)
 * Plain N-API C (node_api.h ships with Node), so any Node >= 18 loads it without a rebuild.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter_ipv4.h>

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value make_result(napi_env env, const char *address, unsigned port) {
  napi_value obj, addr, p;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &addr);
  napi_create_uint32(env, port, &p);
  napi_set_named_property(env, obj, "address", addr);
  napi_set_named_property(env, obj, "port", p);
  return obj;
}

static napi_value original_destination(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "originalDestination(fd): fd must be a non-negative integer");
    return NULL;
  }
  char text[INET6_ADDRSTRLEN];
  struct sockaddr_in v4;
  socklen_t len = sizeof v4;
  /* IPv4, including IPv4 connections on a dual-stack IPv6 socket. */
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &v4, &len) == 0) {
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return make_result(env, text, ntohs(v4.sin_port));
  }
  int err = errno;
  struct sockaddr_storage local;
  len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &len) != 0) return throw_errno(env, "getsockname", errno);
  if (local.ss_family == AF_INET6) {
    struct sockaddr_in6 v6;
    len = sizeof v6;
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &v6, &len) == 0) {
      inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
      return make_result(env, text, ntohs(v6.sin6_port));
    }
    err = errno;
  }
  /* ENOENT: conntrack has no entry (not NATed, or conntrack not loaded); ENOPROTOOPT: no netfilter. */
  if (err == ENOENT || err == ENOPROTOOPT || err == ENOTCONN) {
    napi_value null_value;
    napi_get_null(env, &null_value);
    return null_value;
  }
  return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", err);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, original_destination, NULL, &fn);
  napi_set_named_property(env, exports, "originalDestination", fn);
  return exports;
}
