/* The listeners of `ws_fanout` in one C process: many WebSocket clients on one epoll.
 *
 * Python's `websockets` client and a json.loads per frame cost a listener process 25-30
 * us of CPU per delivered frame: at 60,000 frames a second the load generator, not the
 * server, would be the limit. This program does the same job with a recvmsg() and a
 * few memmem() per frame, and while it counts, sleeps --nap-us between rounds of reads
 * (unless a round found a full batch of ready sockets) so that it wakes once per round,
 * not once per frame. A frame's receipt is the kernel's SO_TIMESTAMPNS stamp of its
 * bytes, moved to CLOCK_MONOTONIC, so the nap does not show in the latencies.
 *
 *   lean_listener --host 127.0.0.1 --port P --path /ws --connections N
 *                 [--concurrency 32] [--header 'Name: value']... [--timeout 120]
 *                 [--join JSON --join-ref REF] [--nap-us US] --latencies FILE
 *
 * It opens N connections (at most `concurrency` handshakes at a time): TCP, the HTTP/1.1
 * upgrade with the given headers (the 101 and its Sec-WebSocket-Accept checked), then,
 * with --join, the join frame, and waits for the reply that carries "ref":"REF", which
 * must be of type "joined". Then it counts the bench interventions each connection
 * receives: text frames holding "type":"intervention" whose body reads
 * "bench <index> <send time> ...", by "seq" (a seq seen twice on a connection is a
 * duplicate), and times each from the send time (CLOCK_MONOTONIC, Python's
 * time.monotonic() on Linux) to its receipt.
 *
 * Frames: any length (16- and 64-bit extended lengths), several per read or split over
 * reads, fragmented messages reassembled, pings answered with masked pongs, a close
 * frame's code recorded (1006 when the socket ends without one). A frame the protocol
 * forbids (masked, reserved bits, unknown opcode, bad fragmentation) is reported on
 * stderr and counted as a close with code 1002.
 *
 * Talks to its parent by lines: on stdout one JSON line {"event":"ready",...} once every
 * connection is open or has failed; on stdin "go EXPECTED DEADLINE" (count EXPECTED
 * interventions per connection, stop waiting at the monotonic DEADLINE); on stdout
 * {"event":"result",...} when every connection has all of them or the deadline passed,
 * the latencies (seconds, native doubles) written to FILE before it; on stdin "exit"
 * (or the end of stdin) to quit.
 *
 * With --speak it is the speakers instead (same connections, handshake and join; each
 * connection may add its own header, line i of --headers-file for connection i, the
 * speaker's bearer token). On stdin "warm" sends one warm-up intervention from every
 * connection; "speak MESSAGES RATE START DEADLINE ACKS" sends intervention i at the
 * monotonic time START + i / RATE from connection i mod N, each a masked text frame
 * made from --frame (--warm-frame for the warm-ups), a template in which the byte \x01
 * stands for the body, \x02 for i and \x03 for i + 1. The body is "bench <i> <send
 * time> " (or "warm ..."), %.6f, padded to --body-chars with the text of --padding
 * (ASCII, nothing JSON escapes). It reads everything the server sends: a frame of
 * type "ack" whose "ref" is i acknowledges intervention i, one of type "error" with
 * that ref refuses it (its "code" kept); the first intervention frame it receives is
 * kept as the sample. Its reads come in rounds --nap-us apart, between the sends too
 * (a send is never put off for one), the answers timed by their receive stamp. With ACKS 1 it waits for an answer to every intervention (or
 * the deadline), then prints {"event":"result",...}: the send and answer times of
 * each, the refusals, the first error frames, the closes ("code reason"), and the
 * frames read and the CPU used since "speak".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CAP (256 * 1024)
#define MAX_MESSAGE (64u * 1024 * 1024)
#define MAX_HEADERS 16
#define MAX_RESPONSE 16384
#define MAX_ERRORS 3
#define MAX_CODES 32

enum state { S_IDLE, S_CONNECTING, S_HANDSHAKE, S_JOINING, S_OPEN, S_CLOSED, S_FAILED };

struct buf {
    unsigned char *data;
    size_t len, cap;
};

struct conn {
    int fd;
    int id;
    enum state state;
    int writing; /* EPOLLOUT armed */
    double started;
    char key[25];
    struct buf pending; /* bytes of an incomplete frame (or of the HTTP response) */
    struct buf message; /* a fragmented message being reassembled */
    struct buf out;     /* bytes the socket did not take yet */
    int message_op;
    int in_message;
    int64_t *seen; /* open addressing set of the seqs received */
    size_t seen_cap, unique;
    int close_code;
    char close_reason[124];
};

static struct {
    const char *host, *path, *join, *latencies_path;
    char join_mark[256];
    int port, connections, concurrency;
    const char *headers[MAX_HEADERS];
    int header_count;
    double timeout;
    long nap_us;
    int speak, body_chars;
    const char *frame, *warm_frame, *padding, *headers_file;
} opt = {"127.0.0.1", "/", NULL, NULL, "", 0, 0, 32, {0}, 0, 120.0, 0, 0, 160, NULL, NULL, "", NULL};
static char **conn_headers; /* --headers-file: one line per connection */

static struct conn *conns;
static int epfd;
static int next_to_start, in_flight, resolved, connected, failed;
static char errors[MAX_ERRORS][512];
static int error_count;
static struct {
    int code;
    long count;
} codes[MAX_CODES];
static int code_count;

/* The tally, over every connection. */
static long expected = -1; /* set by "go" */
static double deadline;
static long complete, received, duplicates;
static long long frame_bytes;
static double first_at, last_at;
static long wakeups, reads; /* epoll_wait() calls that returned events, read() calls */
static double *latencies;
static size_t latency_count, latency_cap;
static long *by_index;
static size_t by_index_cap;
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static int64_t realtime_offset; /* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns */
static unsigned char readbuf[READ_CAP];

/* The speakers (--speak). */
#define MAX_SPEAKER_ERRORS 5
static long messages = -1; /* set by "speak" */
static double rate, start_at, next_round;
static int want_acks;
static long next_send, answered, unsent, speaker_frames;
static double *sent_at, *answer_at;
static int *acked; /* 1 acked, 2 refused */
static char **refusal;
static struct buf speaker_errors[MAX_SPEAKER_ERRORS];
static int speaker_error_count;
static struct buf sample;

static double monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The CPU time this process has used in the kernel (sys) and out of it. */
static int64_t ns(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec; }

static int64_t measure_offset(void) {
    /* the narrowest of a few brackets: the offset to well under a microsecond */
    int64_t best = INT64_MAX, offset = 0;
    for (int i = 0; i < 20; i++) {
        struct timespec a, r, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_REALTIME, &r);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns(b) - ns(a) < best) {
            best = ns(b) - ns(a);
            offset = ns(r) - (ns(a) + ns(b)) / 2;
        }
    }
    return offset;
}

static double cpu_seconds(double *sys) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + *sys;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lean_listener: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (q == NULL && n) die("out of memory (%zu bytes)", n);
    return q;
}

static uint64_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void buf_append(struct buf *b, const void *data, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n) cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

static void buf_free(struct buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- SHA-1 and base64, for the handshake's key and its accept ---- */

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1(const unsigned char *msg, size_t len, unsigned char out[20]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t total = ((len + 8) / 64 + 1) * 64;
    unsigned char *m = calloc(total, 1);
    if (m == NULL) die("out of memory");
    memcpy(m, msg, len);
    m[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) m[total - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t chunk = 0; chunk < total; chunk += 64) {
        uint32_t w[80];
        for (int i = 0; i < 16; i++) {
            const unsigned char *p = m + chunk + 4 * i;
            w[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        }
        for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            uint32_t t = rol(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rol(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    free(m);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

static void base64(const unsigned char *in, size_t n, char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = '\0';
}

/* ---- output ---- */

static void json_string(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void record_code(int code) {
    for (int i = 0; i < code_count; i++)
        if (codes[i].code == code) {
            codes[i].count++;
            return;
        }
    if (code_count < MAX_CODES) {
        codes[code_count].code = code;
        codes[code_count++].count = 1;
    }
}

/* ---- connections ---- */

static void watch(struct conn *c, int writing) {
    struct epoll_event ev = {.events = EPOLLIN | (writing ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
    c->writing = writing;
}

static void drop(struct conn *c, enum state state) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->state = state;
    buf_free(&c->pending);
    buf_free(&c->message);
    buf_free(&c->out);
}

static void start_more(void);

/* A connection that never opened (or joined): counted in "failed", first errors kept. */
static void fail(struct conn *c, const char *fmt, ...) {
    if (error_count < MAX_ERRORS) {
        va_list ap;
        va_start(ap, fmt);
        int n = snprintf(errors[error_count], sizeof errors[0], "connection %d: ", c->id);
        vsnprintf(errors[error_count] + n, sizeof errors[0] - (size_t)n, fmt, ap);
        va_end(ap);
        error_count++;
    }
    drop(c, S_FAILED);
    failed++;
    resolved++;
    in_flight--;
    start_more();
}

/* An open connection that ended: its close code counted. */
static void closed(struct conn *c, int code) {
    if (c->state == S_JOINING || c->state == S_HANDSHAKE || c->state == S_CONNECTING) {
        fail(c, "closed before it was open (code %d)", code);
        return;
    }
    record_code(code);
    c->close_code = code;
    drop(c, S_CLOSED);
}

static void protocol_error(struct conn *c, const char *what) {
    fprintf(stderr, "lean_listener: connection %d: protocol error: %s\n", c->id, what);
    closed(c, 1002);
}

static void flush_out(struct conn *c) {
    while (c->out.len) {
        ssize_t n = write(c->fd, c->out.data, c->out.len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            closed(c, 1006);
            return;
        }
        memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
        c->out.len -= (size_t)n;
    }
    if (c->out.len && !c->writing) watch(c, 1);
    if (!c->out.len && c->writing && c->state != S_CONNECTING) watch(c, 0);
}

static void send_bytes(struct conn *c, const void *data, size_t n) {
    buf_append(&c->out, data, n);
    flush_out(c);
}

/* A client frame: always masked (RFC 6455 5.3). */
static void send_frame(struct conn *c, int op, const unsigned char *payload, size_t n) {
    unsigned char head[14];
    size_t h = 0;
    head[h++] = (unsigned char)(0x80 | op);
    if (n < 126) {
        head[h++] = (unsigned char)(0x80 | n);
    } else if (n < 65536) {
        head[h++] = 0x80 | 126;
        head[h++] = (unsigned char)(n >> 8);
        head[h++] = (unsigned char)n;
    } else {
        head[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) head[h++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    uint32_t mask = (uint32_t)next_random();
    memcpy(head + h, &mask, 4);
    const unsigned char *m = head + h;
    h += 4;
    unsigned char *frame = xrealloc(NULL, h + n);
    memcpy(frame, head, h);
    for (size_t i = 0; i < n; i++) frame[h + i] = payload[i] ^ m[i & 3];
    send_bytes(c, frame, h + n);
    free(frame);
}

static void start(struct conn *c) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) die("not an IPv4 address: %s", opt.host);
    c->started = monotonic();
    in_flight++;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fail(c, "socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    c->state = S_CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
    c->writing = 1;
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
        fail(c, "connect: %s", strerror(errno));
}

static void start_more(void) {
    while (in_flight < opt.concurrency && next_to_start < opt.connections)
        start(&conns[next_to_start++]);
}

static void send_request(struct conn *c) {
    unsigned char raw[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = next_random();
        memcpy(raw + i, &r, 8);
    }
    base64(raw, 16, c->key);
    char request[8192];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n",
                     opt.path, opt.host, opt.port, c->key);
    for (int i = 0; i < opt.header_count && n < (int)sizeof request; i++)
        n += snprintf(request + n, sizeof request - (size_t)n, "%s\r\n", opt.headers[i]);
    if (conn_headers && conn_headers[c->id][0] && n < (int)sizeof request)
        n += snprintf(request + n, sizeof request - (size_t)n, "%s\r\n", conn_headers[c->id]);
    if (n + 2 >= (int)sizeof request) die("request headers too long");
    memcpy(request + n, "\r\n", 2);
    c->state = S_HANDSHAKE;
    send_bytes(c, request, (size_t)n + 2);
}

static void opened(struct conn *c) {
    c->state = S_OPEN;
    connected++;
    resolved++;
    in_flight--;
    start_more();
}

/* ---- what the frames say ---- */

static int64_t parse_int(const unsigned char *p, const unsigned char *end, const unsigned char **stop) {
    int negative = p < end && *p == '-';
    if (negative) p++;
    int64_t v = 0;
    const unsigned char *digits = p;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    *stop = p == digits ? NULL : p;
    return negative ? -v : v;
}

/* "12345.678901" as time.monotonic() was formatted by the speakers (%.6f). */
static double parse_time(const unsigned char *p, const unsigned char *end, const unsigned char **stop) {
    const unsigned char *after;
    int64_t whole = parse_int(p, end, &after);
    if (after == NULL) {
        *stop = NULL;
        return 0;
    }
    double v = (double)whole, scale = 0.1;
    if (after < end && *after == '.') {
        after++;
        while (after < end && *after >= '0' && *after <= '9') {
            v += (*after++ - '0') * scale;
            scale /= 10;
        }
    }
    *stop = after;
    return v;
}

static int seen_add(struct conn *c, int64_t seq) {
    if (c->unique * 2 >= c->seen_cap) {
        size_t cap = c->seen_cap ? c->seen_cap * 2 : 256;
        int64_t *table = xrealloc(NULL, cap * sizeof *table);
        for (size_t i = 0; i < cap; i++) table[i] = INT64_MIN;
        for (size_t i = 0; i < c->seen_cap; i++) {
            if (c->seen[i] == INT64_MIN) continue;
            size_t j = ((uint64_t)c->seen[i] * 0x9E3779B97F4A7C15ull) & (cap - 1);
            while (table[j] != INT64_MIN) j = (j + 1) & (cap - 1);
            table[j] = c->seen[i];
        }
        free(c->seen);
        c->seen = table;
        c->seen_cap = cap;
    }
    size_t j = ((uint64_t)seq * 0x9E3779B97F4A7C15ull) & (c->seen_cap - 1);
    while (c->seen[j] != INT64_MIN) {
        if (c->seen[j] == seq) return 0;
        j = (j + 1) & (c->seen_cap - 1);
    }
    c->seen[j] = seq;
    c->unique++;
    return 1;
}

#define FIND(data, len, lit) ((const unsigned char *)memmem((data), (len), (lit), sizeof(lit) - 1))

static void intervention(struct conn *c, const unsigned char *p, size_t n, double now) {
    const unsigned char *end = p + n, *at, *after;
    if (FIND(p, n, "\"type\":\"intervention\"") == NULL) return;
    at = FIND(p, n, "\"body\":\"bench ");
    if (at == NULL) return; /* a warm-up or another intervention */
    at += sizeof("\"body\":\"bench ") - 1;
    int64_t index = parse_int(at, end, &after);
    if (after == NULL || index < 0 || after >= end || *after != ' ') return;
    double sent = parse_time(after + 1, end, &after);
    if (after == NULL) return;
    at = FIND(p, n, "\"seq\":");
    if (at == NULL) return;
    int64_t seq = parse_int(at + sizeof("\"seq\":") - 1, end, &after);
    if (after == NULL) return;
    if (!seen_add(c, seq)) {
        duplicates++;
        return;
    }
    if ((size_t)index >= by_index_cap) {
        size_t cap = by_index_cap ? by_index_cap : 256;
        while (cap <= (size_t)index) cap *= 2;
        by_index = xrealloc(by_index, cap * sizeof *by_index);
        memset(by_index + by_index_cap, 0, (cap - by_index_cap) * sizeof *by_index);
        by_index_cap = cap;
    }
    by_index[index]++;
    if (latency_count == latency_cap) {
        latency_cap = latency_cap ? latency_cap * 2 : 65536;
        latencies = xrealloc(latencies, latency_cap * sizeof *latencies);
    }
    latencies[latency_count++] = now - sent;
    received++;
    frame_bytes += (long long)n;
    if (first_at == 0) first_at = now;
    if (now > last_at) last_at = now;
    if (expected >= 0 && (long)c->unique == expected) complete++;
}

/* ---- the speakers ---- */

/* The string value of "key": in p[0..n), or NULL; its length in *len. */
static const unsigned char *string_value(const unsigned char *p, size_t n, const char *key, size_t *len) {
    const unsigned char *at = memmem(p, n, key, strlen(key)), *end = p + n;
    if (at == NULL) return NULL;
    at += strlen(key);
    if (at >= end || *at != '"') return NULL;
    const unsigned char *v = ++at;
    while (at < end && *at != '"') at += *at == '\\' ? 2 : 1;
    if (at >= end) return NULL;
    *len = (size_t)(at - v);
    return v;
}

/* The intervention an ack or error frame answers ("ref" an integer), or -1. */
static long answered_index(const unsigned char *p, size_t n) {
    const unsigned char *at = FIND(p, n, "\"ref\":"), *after;
    if (at == NULL) return -1;
    int64_t ref = parse_int(at + sizeof("\"ref\":") - 1, p + n, &after);
    if (after == NULL || ref < 0 || ref >= next_send) return -1;
    return (long)ref;
}

static void speaker_message(struct conn *c, const unsigned char *p, size_t n, double now) {
    (void)c;
    speaker_frames++;
    if (FIND(p, n, "\"type\":\"ack\"")) {
        long i = answered_index(p, n);
        if (i >= 0 && !acked[i]) {
            acked[i] = 1;
            answer_at[i] = now;
            answered++;
        }
    } else if (FIND(p, n, "\"type\":\"error\"")) {
        if (speaker_error_count < MAX_SPEAKER_ERRORS)
            buf_append(&speaker_errors[speaker_error_count++], p, n > 2000 ? 2000 : n);
        long i = messages >= 0 ? answered_index(p, n) : -1;
        if (i >= 0 && !acked[i]) {
            size_t len = 0;
            const unsigned char *code = string_value(p, n, "\"code\":", &len);
            acked[i] = 2;
            answer_at[i] = now;
            refusal[i] = strndup(code ? (const char *)code : "", code ? len : 0);
            answered++;
        }
    } else if (sample.len == 0 && FIND(p, n, "\"type\":\"intervention\"")) {
        buf_append(&sample, p, n);
    }
}

/* The frame of intervention `index` from --frame or --warm-frame, its body sent at `now`. */
static void speak_one(struct conn *c, const char *template, const char *kind, long index, double now) {
    static struct buf out, body;
    char head[96];
    int h = snprintf(head, sizeof head, "%s %ld %.6f ", kind, index, now);
    body.len = 0;
    buf_append(&body, head, (size_t)h);
    size_t pad = strlen(opt.padding);
    for (int j = 0; h + j < opt.body_chars && pad; j++) buf_append(&body, opt.padding + j % pad, 1);
    out.len = 0;
    char number[32];
    for (const char *t = template; *t; t++) {
        if (*t == '\x01') {
            buf_append(&out, body.data, body.len);
        } else if (*t == '\x02' || *t == '\x03') {
            int k = snprintf(number, sizeof number, "%ld", index + (*t == '\x03'));
            buf_append(&out, number, (size_t)k);
        } else {
            buf_append(&out, t, 1);
        }
    }
    send_frame(c, 1, out.data, out.len);
}

static void warm_up(void) {
    for (int i = 0; i < opt.connections; i++)
        if (conns[i].state == S_OPEN) speak_one(&conns[i], opt.warm_frame, "warm", i, monotonic());
}

/* Send every intervention whose time has come. */
static void send_due(void) {
    while (next_send < messages) {
        double now = monotonic();
        if (now < start_at + (double)next_send / rate) return;
        struct conn *c = &conns[next_send % opt.connections];
        sent_at[next_send] = now;
        if (c->state == S_OPEN) speak_one(c, opt.frame, "bench", next_send, now);
        else unsent++;
        next_send++;
    }
}

static void message(struct conn *c, int op, const unsigned char *p, size_t n, double now) {
    if (op != 1) return; /* binary: not the bench's */
    if (c->state == S_OPEN && opt.speak) {
        speaker_message(c, p, n, now);
    } else if (c->state == S_OPEN) {
        intervention(c, p, n, now);
    } else if (c->state == S_JOINING && memmem(p, n, opt.join_mark, strlen(opt.join_mark))) {
        if (FIND(p, n, "\"type\":\"joined\"") == NULL)
            fail(c, "join refused: %.*s", (int)(n > 300 ? 300 : n), (const char *)p);
        else
            opened(c);
    }
}

static void frame(struct conn *c, int fin, int op, const unsigned char *p, size_t n, double now) {
    if (op >= 8) {
        if (!fin || n > 125) {
            protocol_error(c, "fragmented or long control frame");
            return;
        }
        if (op == 8) {
            int code = n >= 2 ? (p[0] << 8 | p[1]) : 1005;
            if (n > 2) {
                size_t r = n - 2 < sizeof c->close_reason - 1 ? n - 2 : sizeof c->close_reason - 1;
                memcpy(c->close_reason, p + 2, r);
                c->close_reason[r] = '\0';
            }
            unsigned char reply[2] = {(unsigned char)(code >> 8), (unsigned char)code};
            if (n >= 2) send_frame(c, 8, reply, 2);
            else send_frame(c, 8, NULL, 0);
            if (c->fd >= 0) closed(c, code);
        } else if (op == 9) {
            send_frame(c, 10, p, n);
        } else if (op != 10) {
            protocol_error(c, "unknown control opcode");
        }
        return;
    }
    if (op == 0) {
        if (!c->in_message) {
            protocol_error(c, "continuation frame outside a message");
            return;
        }
        if (c->message.len + n > MAX_MESSAGE) {
            protocol_error(c, "message too large");
            return;
        }
        buf_append(&c->message, p, n);
        if (fin) {
            c->in_message = 0;
            /* handled from a copy: message() may drop the connection and its buffer */
            struct buf whole = c->message;
            c->message = (struct buf){0};
            message(c, c->message_op, whole.data, whole.len, now);
            free(whole.data);
        }
    } else if (op == 1 || op == 2) {
        if (c->in_message) {
            protocol_error(c, "new message inside a fragmented one");
            return;
        }
        if (fin) {
            message(c, op, p, n, now);
        } else {
            c->in_message = 1;
            c->message_op = op;
            c->message.len = 0;
            buf_append(&c->message, p, n);
        }
    } else {
        protocol_error(c, "unknown data opcode");
    }
}

/* Handle every whole frame of p[0..len); returns the bytes used. */
static size_t frames(struct conn *c, const unsigned char *p, size_t len, double now) {
    size_t off = 0;
    while (c->fd >= 0 && len - off >= 2) {
        const unsigned char *h = p + off;
        size_t head = 2;
        uint64_t n = h[1] & 0x7f;
        if (n == 126) {
            if (len - off < 4) break;
            n = (uint64_t)h[2] << 8 | h[3];
            head = 4;
        } else if (n == 127) {
            if (len - off < 10) break;
            n = 0;
            for (int i = 0; i < 8; i++) n = n << 8 | h[2 + i];
            head = 10;
        }
        if (h[1] & 0x80) {
            protocol_error(c, "masked frame from the server");
            break;
        }
        if (h[0] & 0x70) {
            protocol_error(c, "reserved bits set (no extension was agreed)");
            break;
        }
        if (n > MAX_MESSAGE) {
            protocol_error(c, "frame too large");
            break;
        }
        if (len - off - head < n) break; /* the rest comes in a later read */
        off += head + (size_t)n;
        frame(c, h[0] & 0x80, h[0] & 0x0f, h + head, (size_t)n, now);
    }
    return off;
}

/* The server's answer to the upgrade, in c->pending; frames may follow it. */
static void handshake(struct conn *c, double now) {
    unsigned char *p = c->pending.data;
    size_t n = c->pending.len;
    const unsigned char *end = memmem(p, n, "\r\n\r\n", 4);
    if (end == NULL) {
        if (n > MAX_RESPONSE) fail(c, "no end to the HTTP response");
        return;
    }
    size_t head = (size_t)(end - p) + 4;
    const unsigned char *eol = memmem(p, n, "\r\n", 2);
    if (n < 12 || memcmp(p, "HTTP/1.1 101", 12) != 0) {
        fail(c, "%.*s", (int)(eol - p), (const char *)p);
        return;
    }
    char magic[64], want[32];
    unsigned char digest[20];
    snprintf(magic, sizeof magic, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", c->key);
    sha1((unsigned char *)magic, strlen(magic), digest);
    base64(digest, 20, want);
    int accepted = 0;
    for (const unsigned char *line = eol + 2; line < end;) {
        const unsigned char *next = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        size_t l = (size_t)(next - line);
        static const char name[] = "sec-websocket-accept:";
        if (l > sizeof name - 1 && strncasecmp((const char *)line, name, sizeof name - 1) == 0) {
            const unsigned char *v = line + sizeof name - 1;
            while (v < next && *v == ' ') v++;
            accepted = (size_t)(next - v) == strlen(want) && memcmp(v, want, strlen(want)) == 0;
        }
        line = next + 2;
    }
    if (!accepted) {
        fail(c, "101 without the right Sec-WebSocket-Accept");
        return;
    }
    memmove(p, p + head, n - head);
    c->pending.len = n - head;
    if (opt.join) {
        c->state = S_JOINING;
        send_frame(c, 1, (const unsigned char *)opt.join, strlen(opt.join));
    } else {
        opened(c);
    }
    if (c->fd >= 0 && c->pending.len) {
        size_t used = frames(c, c->pending.data, c->pending.len, now);
        if (c->fd >= 0) {
            memmove(c->pending.data, c->pending.data + used, c->pending.len - used);
            c->pending.len -= used;
        }
    }
}

/* When the kernel queued the last bytes read: the SO_TIMESTAMPNS stamp of the skb
 * (CLOCK_REALTIME, taken as the server's write reached the loopback device), on the
 * monotonic clock. Without one, the time of the read. */
static double arrival(struct msghdr *msg) {
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            return (double)(ns(ts) - realtime_offset) / 1e9;
        }
    return monotonic();
}

static void readable(struct conn *c) {
    struct iovec iov = {.iov_base = readbuf, .iov_len = sizeof readbuf};
    union {
        char space[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                         .msg_controllen = sizeof control.space};
    ssize_t got = recvmsg(c->fd, &msg, 0);
    reads++;
    if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (c->state == S_HANDSHAKE || c->state == S_JOINING)
            fail(c, "the server ended the connection%s%s", got ? ": " : "", got ? strerror(errno) : "");
        else
            closed(c, 1006);
        return;
    }
    double now = arrival(&msg);
    if (c->state == S_HANDSHAKE) {
        buf_append(&c->pending, readbuf, (size_t)got);
        handshake(c, now);
        return;
    }
    if (c->pending.len == 0) {
        /* the common case: whole frames straight from the read buffer */
        size_t used = frames(c, readbuf, (size_t)got, now);
        if (c->fd >= 0 && used < (size_t)got) buf_append(&c->pending, readbuf + used, (size_t)got - used);
        return;
    }
    buf_append(&c->pending, readbuf, (size_t)got);
    size_t used = frames(c, c->pending.data, c->pending.len, now);
    if (c->fd >= 0) {
        memmove(c->pending.data, c->pending.data + used, c->pending.len - used);
        c->pending.len -= used;
    }
}

static void writable(struct conn *c) {
    if (c->state == S_CONNECTING) {
        int error = 0;
        socklen_t len = sizeof error;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error) {
            fail(c, "connect: %s", strerror(error));
            return;
        }
        watch(c, 0);
        send_request(c);
        return;
    }
    flush_out(c);
}

/* ---- the parent ---- */

static void print_ready(double connect_s) {
    printf("{\"event\":\"ready\",\"connected\":%d,\"failed\":%d,\"connect_s\":%.6f,\"errors\":[",
           connected, failed, connect_s);
    for (int i = 0; i < error_count; i++) {
        if (i) putchar(',');
        json_string(stdout, errors[i], strlen(errors[i]));
    }
    printf("]}\n");
    fflush(stdout);
}

static void print_result(double cpu_s, double sys_s) {
    FILE *f = fopen(opt.latencies_path, "wb");
    if (f == NULL ||
        (latency_count && fwrite(latencies, sizeof *latencies, latency_count, f) != latency_count) ||
        fclose(f) != 0)
        die("cannot write %s: %s", opt.latencies_path, strerror(errno));
    printf("{\"event\":\"result\",\"connections\":%d,\"complete\":%ld,\"received\":%ld,"
           "\"duplicates\":%ld,\"frame_bytes\":%lld,\"first\":%.6f,\"last\":%.6f,"
           "\"latencies\":%zu,\"cpu_s\":%.6f,\"sys_s\":%.6f,\"wakeups\":%ld,\"reads\":%ld,"
           "\"closed\":{",
           connected, complete, received, duplicates, frame_bytes, first_at, last_at,
           latency_count, cpu_s, sys_s, wakeups, reads);
    for (int i = 0; i < code_count; i++) printf("%s\"%d\":%ld", i ? "," : "", codes[i].code, codes[i].count);
    printf("},\"by_index\":{");
    int comma = 0;
    for (size_t i = 0; i < by_index_cap; i++)
        if (by_index[i]) {
            printf("%s\"%zu\":%ld", comma ? "," : "", i, by_index[i]);
            comma = 1;
        }
    printf("}}\n");
    fflush(stdout);
}

static void print_times(const char *name, const double *t, long n, int null_unless) {
    printf(",\"%s\":[", name);
    for (long i = 0; i < n; i++) {
        if (i) putchar(',');
        if (null_unless && !acked[i]) fputs("null", stdout);
        else printf("%.6f", t[i]);
    }
    putchar(']');
}

static void print_speaker_result(double cpu_s, double sys_s) {
    printf("{\"event\":\"result\",\"connections\":%d,\"received\":%ld,\"unsent\":%ld,"
           "\"cpu_s\":%.6f,\"sys_s\":%.6f,\"wakeups\":%ld,\"reads\":%ld",
           connected, speaker_frames, unsent, cpu_s, sys_s, wakeups, reads);
    print_times("sent", sent_at, next_send, 0);
    print_times("answered", answer_at, next_send, 1);
    printf(",\"refused\":{");
    int comma = 0;
    for (long i = 0; i < next_send; i++)
        if (acked[i] == 2) {
            printf("%s\"%ld\":", comma ? "," : "", i);
            json_string(stdout, refusal[i], strlen(refusal[i]));
            comma = 1;
        }
    printf("},\"errors\":[");
    for (int i = 0; i < speaker_error_count; i++) {
        if (i) putchar(',');
        json_string(stdout, (const char *)speaker_errors[i].data, speaker_errors[i].len);
    }
    printf("],\"closed\":[");
    comma = 0;
    for (int i = 0; i < opt.connections; i++)
        if (conns[i].state == S_CLOSED) {
            char text[160];
            int n = snprintf(text, sizeof text, "%d", conns[i].close_code);
            if (conns[i].close_reason[0]) snprintf(text + n, sizeof text - (size_t)n, " %s", conns[i].close_reason);
            if (comma) putchar(',');
            json_string(stdout, text, strlen(text));
            comma = 1;
        }
    printf("],\"sample\":");
    if (sample.len) json_string(stdout, (const char *)sample.data, sample.len);
    else fputs("null", stdout);
    printf("}\n");
    fflush(stdout);
}

/* One line from the parent; returns 0 on "exit". */
static int command(char *line) {
    if (strncmp(line, "go ", 3) == 0) {
        if (sscanf(line + 3, "%ld %lf", &expected, &deadline) != 2) die("bad command: %s", line);
        complete = 0;
        for (int i = 0; i < opt.connections; i++)
            if ((conns[i].state == S_OPEN || conns[i].state == S_CLOSED) &&
                (long)conns[i].unique == expected)
                complete++;
        return 1;
    }
    if (opt.speak && strcmp(line, "warm") == 0) {
        warm_up();
        return 1;
    }
    if (opt.speak && strncmp(line, "speak ", 6) == 0) {
        if (messages >= 0) die("speak twice");
        if (sscanf(line + 6, "%ld %lf %lf %lf %d", &messages, &rate, &start_at, &deadline, &want_acks) != 5 ||
            messages < 0 || rate <= 0)
            die("bad command: %s", line);
        size_t m = (size_t)messages + 1;
        sent_at = xrealloc(NULL, m * sizeof *sent_at);
        answer_at = xrealloc(NULL, m * sizeof *answer_at);
        acked = calloc(m, sizeof *acked);
        refusal = calloc(m, sizeof *refusal);
        if (acked == NULL || refusal == NULL) die("out of memory");
        speaker_frames = 0; /* counted from here on, as the CPU */
        return 1;
    }
    if (strcmp(line, "exit") == 0) return 0;
    die("unknown command: %s", line);
    return 0;
}

static void usage(void) {
    die("usage: lean_listener --port P --connections N --latencies FILE [--host H] [--path P] "
        "[--concurrency C] [--timeout S] [--header 'Name: value']... [--join JSON --join-ref REF] "
        "[--nap-us US]\n"
        "   or: lean_listener --speak 1 --port P --connections N --frame T --warm-frame T "
        "[--padding TEXT] [--body-chars N] [--headers-file FILE] [the options above]");
}

int main(int argc, char **argv) {
    const char *join_ref = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--host")) opt.host = v;
        else if (!strcmp(a, "--port")) opt.port = atoi(v);
        else if (!strcmp(a, "--path")) opt.path = v;
        else if (!strcmp(a, "--connections")) opt.connections = atoi(v);
        else if (!strcmp(a, "--concurrency")) opt.concurrency = atoi(v);
        else if (!strcmp(a, "--timeout")) opt.timeout = atof(v);
        else if (!strcmp(a, "--nap-us")) opt.nap_us = atol(v);
        else if (!strcmp(a, "--join")) opt.join = v;
        else if (!strcmp(a, "--join-ref")) join_ref = v;
        else if (!strcmp(a, "--latencies")) opt.latencies_path = v;
        else if (!strcmp(a, "--speak")) opt.speak = atoi(v);
        else if (!strcmp(a, "--frame")) opt.frame = v;
        else if (!strcmp(a, "--warm-frame")) opt.warm_frame = v;
        else if (!strcmp(a, "--padding")) opt.padding = v;
        else if (!strcmp(a, "--body-chars")) opt.body_chars = atoi(v);
        else if (!strcmp(a, "--headers-file")) opt.headers_file = v;
        else if (!strcmp(a, "--header")) {
            if (opt.header_count == MAX_HEADERS) die("more than %d headers", MAX_HEADERS);
            if (strpbrk(v, "\r\n")) die("a header holds a line break");
            opt.headers[opt.header_count++] = v;
        } else usage();
    }
    if (opt.port <= 0 || opt.connections < 0 || opt.concurrency <= 0) usage();
    if (opt.speak ? !opt.frame || !opt.warm_frame || opt.connections == 0 : !opt.latencies_path) usage();
    if (opt.headers_file) {
        FILE *f = fopen(opt.headers_file, "r");
        if (f == NULL) die("cannot read %s: %s", opt.headers_file, strerror(errno));
        conn_headers = calloc((size_t)opt.connections, sizeof *conn_headers);
        if (conn_headers == NULL) die("out of memory");
        char *text = NULL;
        size_t cap = 0;
        for (int i = 0; i < opt.connections; i++) {
            ssize_t got = getline(&text, &cap, f);
            if (got < 0) die("%s: %d lines, %d connections", opt.headers_file, i, opt.connections);
            while (got && (text[got - 1] == '\n' || text[got - 1] == '\r')) text[--got] = '\0';
            conn_headers[i] = strdup(text);
        }
        free(text);
        fclose(f);
    }
    if (opt.join && !join_ref) die("--join needs --join-ref");
    if (join_ref) snprintf(opt.join_mark, sizeof opt.join_mark, "\"ref\":\"%s\"", join_ref);
    rng ^= (uint64_t)getpid() << 32 ^ (uint64_t)(monotonic() * 1e9);
    realtime_offset = measure_offset();

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1: %s", strerror(errno));
    conns = calloc((size_t)opt.connections + 1, sizeof *conns);
    if (conns == NULL) die("out of memory");
    for (int i = 0; i < opt.connections; i++) {
        conns[i].fd = -1;
        conns[i].id = i;
    }
    double began = monotonic();
    start_more();

    struct epoll_event events[512];
    int ready_sent = 0, result_sent = 0;
    double cpu_at_go = 0, sys_at_go = 0, sys_now;
    double checked = 0; /* when the handshakes' timeouts were last looked at */
    char line[256];
    size_t line_len = 0;
    struct conn stdin_conn = {.fd = 0};
    for (;;) {
        if (!ready_sent && resolved == opt.connections) {
            print_ready(monotonic() - began);
            ready_sent = 1;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &stdin_conn};
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) < 0) die("epoll_ctl stdin: %s", strerror(errno));
        }
        if (expected >= 0 && !result_sent && (complete == connected || monotonic() >= deadline)) {
            double cpu_now = cpu_seconds(&sys_now);
            print_result(cpu_now - cpu_at_go, sys_now - sys_at_go);
            result_sent = 1;
        }
        if (messages >= 0 && !result_sent) {
            send_due();
            if (next_send == messages && ((want_acks ? answered == messages : 1) || monotonic() >= deadline)) {
                double cpu_now = cpu_seconds(&sys_now);
                print_speaker_result(cpu_now - cpu_at_go, sys_now - sys_at_go);
                result_sent = 1;
            }
        }
        int counting = (expected >= 0 || messages >= 0) && !result_sent;
        int timeout = 100;
        if (counting) {
            double left = deadline - monotonic();
            timeout = left <= 0 ? 0 : left < 0.1 ? (int)(left * 1000) + 1 : 100;
        }
        double due = messages >= 0 && next_send < messages ? start_at + (double)next_send / rate : -1;
        if (due >= 0) {
            double wait = due - monotonic();
            int ms = wait <= 0 ? 0 : (int)(wait * 1000); /* early: the nap takes the rest */
            if (ms < timeout) timeout = ms;
        }
        /* While they send, the speakers read in rounds --nap-us apart, not at every send. */
        int polling = 1;
        if (due >= 0 && opt.nap_us > 0) {
            double now = monotonic();
            if (now < next_round) polling = 0;
            else next_round = now + (double)opt.nap_us / 1e6;
        }
        int n = polling ? epoll_wait(epfd, events, 512, timeout) : 0;
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        if (n > 0) wakeups++;
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == &stdin_conn) {
                ssize_t got = read(0, line + line_len, sizeof line - 1 - line_len);
                if (got <= 0) return 0; /* the parent is gone */
                line_len += (size_t)got;
                char *nl;
                while ((nl = memchr(line, '\n', line_len)) != NULL) {
                    *nl = '\0';
                    int go_before = expected >= 0 || messages >= 0;
                    if (!command(line)) return 0;
                    if (!go_before && (expected >= 0 || messages >= 0)) cpu_at_go = cpu_seconds(&sys_at_go);
                    size_t used = (size_t)(nl - line) + 1;
                    memmove(line, line + used, line_len - used);
                    line_len -= used;
                }
                if (line_len == sizeof line - 1) die("command too long");
                continue;
            }
            if (c->fd < 0) continue;
            if (events[i].events & (EPOLLOUT | EPOLLERR)) {
                if (c->state == S_CONNECTING || c->out.len) writable(c);
                if (c->fd < 0) continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(c);
        }
        /* Let the next frames gather: one wake-up per nap, not one per frame. The speakers
         * nap from their ready on, and never past the next send or read round. */
        long nap_us = (counting || (opt.speak && ready_sent && !result_sent)) && n < 512 ? opt.nap_us : 0;
        if (due >= 0) {
            if (n == 512) next_round = 0; /* a full batch: read again at once */
            double until = opt.nap_us > 0 && next_round < due ? next_round : due;
            double wait_us = (until - monotonic()) * 1e6;
            long cap = opt.nap_us > 0 ? opt.nap_us : 1000;
            nap_us = wait_us <= 0 ? 0 : wait_us < cap ? (long)wait_us : cap;
        }
        if (nap_us > 0) {
            struct timespec nap = {nap_us / 1000000, nap_us % 1000000 * 1000};
            nanosleep(&nap, NULL);
        }
        if (!ready_sent && monotonic() - checked > 0.1) {
            double now = checked = monotonic();
            for (int i = 0; i < next_to_start; i++) {
                struct conn *c = &conns[i];
                if (c->fd >= 0 && c->state < S_OPEN && now - c->started > opt.timeout)
                    fail(c, "not open after %.0f s", opt.timeout);
            }
        }
    }
}
