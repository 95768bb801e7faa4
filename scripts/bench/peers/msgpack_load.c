// The native msgpack-rpc load generator: what msgpack_load.js does, in C, so that the
// generator costs far less CPU per call than the server it drives (on a machine whose cores
// it shares with the server, a generator as costly as the server caps any speed-up).
// N connections on one epoll thread, each keeping `depth` calls in flight: requests are
// pre-encoded (`tail`, the bytes after the id, base64), each read's whole answers are
// counted (a msgpack value skipper, no decoding) and replaced by as many new calls in one
// write. The first answer's result must be `expected` (an integer). Announces "window open"
// and "window closed", then prints one JSON line (the fields of load.ts's CellResult).
//
// Built by scripts/bench/native_generator.ts: cc -O2 -o msgpack_load msgpack_load.c
// Argument: the cell as JSON ({"port", "connections", "depth", "warmupMs", "durationMs",
// "tail", "expected"}), as msgpack_load.js takes it.

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAX_CONNECTIONS 1024
#define BUFFER (1 << 16)

typedef struct {
  int fd;
  uint32_t next_id;
  int in_flight;
  size_t have; // unparsed bytes kept in buf
  unsigned char buf[BUFFER];
  double sent_at[65536];
} Conn;

static unsigned char tail[4096];
static size_t tail_len;
static long expected;
static int checked, measuring, stopped;
static long errors;
static const char *wrong;
static double *latencies;
static size_t latency_count, latency_cap;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long number_field(const char *json, const char *key) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *at = strstr(json, pattern);
  if (!at) {
    fprintf(stderr, "msgpack_load: the cell has no %s\n", key);
    exit(2);
  }
  return strtol(at + strlen(pattern), NULL, 10);
}

static size_t base64_decode(const char *in, unsigned char *out, size_t cap) {
  static const char *alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *in && *in != '"'; in++) {
    const char *p = strchr(alphabet, *in);
    if (!p || *in == '=') continue;
    acc = (acc << 6) | (uint32_t)(p - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < cap) out[n++] = (unsigned char)(acc >> bits);
    }
  }
  return n;
}

// The size of the msgpack value at p (at most len bytes): >0 its size, 0 incomplete, -1 bad.
static long skip(const unsigned char *p, size_t len);

static long skip_items(const unsigned char *p, size_t len, size_t head, uint64_t count) {
  size_t at = head;
  for (uint64_t i = 0; i < count; i++) {
    if (at >= len) return 0;
    long n = skip(p + at, len - at);
    if (n <= 0) return n;
    at += (size_t)n;
  }
  return (long)at;
}

static uint64_t be(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v = (v << 8) | p[i];
  return v;
}

static long sized(size_t len, size_t head, uint64_t body) {
  return head + body <= len ? (long)(head + body) : 0;
}

static long skip(const unsigned char *p, size_t len) {
  if (len == 0) return 0;
  unsigned char b = p[0];
  if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return 1;
  if ((b & 0xf0) == 0x80) return skip_items(p, len, 1, 2u * (b & 0x0f));
  if ((b & 0xf0) == 0x90) return skip_items(p, len, 1, b & 0x0f);
  if ((b & 0xe0) == 0xa0) return sized(len, 1, b & 0x1f);
  switch (b) {
  case 0xcc: case 0xd0: return sized(len, 1, 1);
  case 0xcd: case 0xd1: return sized(len, 1, 2);
  case 0xca: case 0xce: case 0xd2: return sized(len, 1, 4);
  case 0xcb: case 0xcf: case 0xd3: return sized(len, 1, 8);
  case 0xd4: return sized(len, 1, 2);
  case 0xd5: return sized(len, 1, 3);
  case 0xd6: return sized(len, 1, 5);
  case 0xd7: return sized(len, 1, 9);
  case 0xd8: return sized(len, 1, 17);
  case 0xc4: case 0xd9: return len < 2 ? 0 : sized(len, 2, p[1]);
  case 0xc5: case 0xda: return len < 3 ? 0 : sized(len, 3, be(p + 1, 2));
  case 0xc6: case 0xdb: return len < 5 ? 0 : sized(len, 5, be(p + 1, 4));
  case 0xc7: return len < 3 ? 0 : sized(len, 3, p[1]);
  case 0xc8: return len < 4 ? 0 : sized(len, 4, be(p + 1, 2));
  case 0xc9: return len < 6 ? 0 : sized(len, 6, be(p + 1, 4));
  case 0xdc: return len < 3 ? 0 : skip_items(p, len, 3, be(p + 1, 2));
  case 0xdd: return len < 5 ? 0 : skip_items(p, len, 5, be(p + 1, 4));
  case 0xde: return len < 3 ? 0 : skip_items(p, len, 3, 2 * be(p + 1, 2));
  case 0xdf: return len < 5 ? 0 : skip_items(p, len, 5, 2 * be(p + 1, 4));
  }
  return -1;
}

// An unsigned or signed integer at p, if it is one.
static int read_int(const unsigned char *p, size_t len, long *out) {
  unsigned char b = p[0];
  if (b <= 0x7f) return *out = b, 1;
  if (b >= 0xe0) return *out = (signed char)b, 1;
  if (b == 0xcc && len >= 2) return *out = p[1], 1;
  if (b == 0xcd && len >= 3) return *out = (long)be(p + 1, 2), 1;
  if (b == 0xce && len >= 5) return *out = (long)be(p + 1, 4), 1;
  if (b == 0xd0 && len >= 2) return *out = (signed char)p[1], 1;
  return 0;
}

static void fail(const char *why) {
  if (!wrong) wrong = why;
  if (measuring) errors++;
}

static int send_requests(Conn *c, int count) {
  static unsigned char out[BUFFER * 4];
  size_t size = 7 + tail_len, at = 0;
  double t = now_ms();
  for (int k = 0; k < count && at + size <= sizeof out; k++) {
    uint32_t id = c->next_id;
    c->next_id = c->next_id + 1 ? c->next_id + 1 : 1;
    out[at] = 0x94, out[at + 1] = 0x00, out[at + 2] = 0xce;
    out[at + 3] = id >> 24, out[at + 4] = id >> 16, out[at + 5] = id >> 8, out[at + 6] = id;
    memcpy(out + at + 7, tail, tail_len);
    c->sent_at[id & 0xffff] = t;
    at += size;
  }
  for (size_t sent = 0; sent < at;) {
    ssize_t n = write(c->fd, out + sent, at - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) continue; // the server reads: wait for room
    if (n <= 0) return -1;
    sent += (size_t)n;
  }
  c->in_flight += count;
  return 0;
}

// Reads what is there; returns the answers completed, or -1 when the connection is done.
static int on_readable(Conn *c) {
  ssize_t n = read(c->fd, c->buf + c->have, BUFFER - c->have);
  if (n == 0) return -1;
  if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  c->have += (size_t)n;
  double t = now_ms();
  size_t at = 0;
  int done = 0;
  while (at < c->have) {
    const unsigned char *p = c->buf + at;
    size_t len = c->have - at;
    long size = skip(p, len);
    if (size == 0) break;
    if (size < 0 || p[0] != 0x94 || len < 2 || p[1] != 0x01) {
      fail("an answer that is not a msgpack-rpc response");
      return -1;
    }
    long id = 0;
    long id_size = skip(p + 2, len - 2);
    if (id_size <= 0 || !read_int(p + 2, len - 2, &id)) {
      fail("an answer without an id");
      return -1;
    }
    const unsigned char *error = p + 2 + id_size;
    if (error[0] != 0xc0) {
      fail("error reply");
    } else if (!checked) {
      long result;
      checked = 1;
      long error_size = 1;
      if (!read_int(error + error_size, len - 2 - id_size - error_size, &result) ||
          result != expected) {
        fail("unexpected result");
      }
    }
    if (measuring) {
      if (latency_count == latency_cap) {
        latency_cap = latency_cap ? latency_cap * 2 : 1 << 20;
        latencies = realloc(latencies, latency_cap * sizeof *latencies);
        if (!latencies) exit(3);
      }
      latencies[latency_count++] = t - c->sent_at[id & 0xffff];
    }
    at += (size_t)size;
    done++;
  }
  memmove(c->buf, c->buf + at, c->have - at);
  c->have -= at;
  if (c->have == BUFFER) {
    fail("an answer larger than the buffer");
    return -1;
  }
  c->in_flight -= done;
  return done;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: msgpack_load CELL_JSON\n");
    return 2;
  }
  const char *json = argv[argc - 1];
  int port = (int)number_field(json, "port");
  int connections = (int)number_field(json, "connections");
  int depth = (int)number_field(json, "depth");
  long warmup = number_field(json, "warmupMs"), duration = number_field(json, "durationMs");
  expected = number_field(json, "expected");
  const char *t = strstr(json, "\"tail\":\"");
  if (!t || connections < 1 || connections > MAX_CONNECTIONS || depth < 1) {
    fprintf(stderr, "msgpack_load: a bad cell\n");
    return 2;
  }
  tail_len = base64_decode(t + 8, tail, sizeof tail);

  int ep = epoll_create1(0);
  Conn **conns = calloc((size_t)connections, sizeof *conns);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  for (int i = 0; i < connections; i++) {
    Conn *c = calloc(1, sizeof *c);
    c->next_id = 1;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
      perror("msgpack_load: connect");
      return 1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    conns[i] = c;
    if (send_requests(c, depth) != 0) return 1;
  }

  double start = now_ms(), opened = 0, closed = 0;
  int open = connections;
  struct epoll_event events[256];
  while (open > 0) {
    double t = now_ms();
    if (!measuring && !opened && t - start >= warmup) {
      latency_count = 0;
      errors = 0;
      measuring = 1;
      opened = t;
      printf("window open\n");
      fflush(stdout);
    } else if (measuring && t - opened >= duration) {
      measuring = 0;
      stopped = 1;
      closed = t;
      printf("window closed\n");
      fflush(stdout);
    }
    // A server that stopped answering must not hold the generator.
    if (stopped && t - closed > 10000) return 3;
    int n = epoll_wait(ep, events, 256, 10);
    for (int i = 0; i < n; i++) {
      Conn *c = events[i].data.ptr;
      int done = on_readable(c);
      if (done > 0 && !stopped) {
        if (send_requests(c, done) != 0) done = -1;
      }
      if (done < 0 || (stopped && c->in_flight == 0)) {
        if (done < 0 && !stopped) fail("connection closed");
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        open--;
      }
    }
  }
  qsort(latencies, latency_count, sizeof *latencies, compare);
  double elapsed = closed - opened;
  double p50 = latency_count ? latencies[latency_count / 2] : 0;
  size_t q99 = (size_t)(latency_count * 0.99);
  double p99 = latency_count ? latencies[q99 < latency_count ? q99 : latency_count - 1] : 0;
  printf("{\"cps\":%.1f,\"p50\":%.4f,\"p99\":%.4f,\"calls\":%zu,\"errors\":%ld%s%s%s}\n",
    latency_count / (elapsed / 1000), p50, p99, latency_count, errors,
    wrong ? ",\"wrong\":\"" : "", wrong ? wrong : "", wrong ? "\"" : "");
  return 0;
}
