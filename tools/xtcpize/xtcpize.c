// SPDX-License-Identifier: GPL-2.0
/*
 * libxtcpize.so - run an unmodified program over xtcp (LD_PRELOAD).
 *
 * Wraps socket(): socket(AF_INET or AF_INET6,
 * SOCK_STREAM[|SOCK_NONBLOCK|SOCK_CLOEXEC], 0 or IPPROTO_TCP) creates an
 * xtcp socket instead. Every other socket (AF_UNIX, datagram, raw, other
 * protocols) is left alone.
 *
 * The protocol number is XTCPIZE_PROTO if set, else the module's
 * /sys/module/xtcp/parameters/proto, else 253. When the kernel does not know
 * that protocol (EPROTONOSUPPORT: the module is not loaded), one line goes
 * to stderr, once per process, and the call fails with that error, or,
 * with XTCPIZE_FALLBACK=1, creates a plain TCP socket.
 *
 * The wrapper allocates nothing and makes only async-signal-safe calls;
 * the protocol number, the fallback flag and the real socket() are found
 * once, in the constructor (or by the first call that comes before it).
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define XTCPIZE_DEFAULT_PROTO	253
#define XTCPIZE_PROTO_PARAM	"/sys/module/xtcp/parameters/proto"

typedef int (*socket_fn)(int domain, int type, int protocol);

static socket_fn real_socket;
static int xtcp_proto;
static int fallback;
static int ready;
static int warned;

/* A protocol number from decimal text, or 0 if it is not one (1..255). */
static int parse_proto(const char *s)
{
	int v = 0;

	if (!s || !*s)
		return 0;
	for (; *s && *s != '\n'; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (*s - '0');
		if (v > 255)
			return 0;
	}
	return v;
}

static int module_proto(void)
{
	char buf[16];
	ssize_t n;
	int fd;

	fd = open(XTCPIZE_PROTO_PARAM, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return parse_proto(buf);
}

static void xtcpize_init(void)
{
	const char *env;

	if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		return;
	if (!real_socket)
		real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
	xtcp_proto = parse_proto(getenv("XTCPIZE_PROTO"));
	if (!xtcp_proto)
		xtcp_proto = module_proto();
	if (!xtcp_proto)
		xtcp_proto = XTCPIZE_DEFAULT_PROTO;
	env = getenv("XTCPIZE_FALLBACK");
	fallback = env && !strcmp(env, "1");
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

__attribute__((constructor))
static void xtcpize_ctor(void)
{
	xtcpize_init();
}

static int call_socket(int domain, int type, int protocol)
{
	if (real_socket)
		return real_socket(domain, type, protocol);
	return syscall(SYS_socket, domain, type, protocol);
}

/* "12" -> buf, for the message; no stdio in the wrapper. */
static char *fmt_uint(char *end, unsigned int v)
{
	*--end = '\0';
	do {
		*--end = '0' + v % 10;
		v /= 10;
	} while (v);
	return end;
}

static void warn_once(void)
{
	static const char head[] = "xtcpize: xtcp module not loaded (protocol ";
	const char *tail = fallback ?
		" not supported); using plain TCP (fallback)\n" :
		" not supported); TCP sockets fail (xtcpize run --fallback uses plain TCP)\n";
	char num[8];
	char line[160];
	const char *p;
	size_t len;

	if (__atomic_exchange_n(&warned, 1, __ATOMIC_ACQ_REL))
		return;
	p = fmt_uint(num + sizeof(num), (unsigned int)xtcp_proto);
	len = sizeof(head) - 1;
	memcpy(line, head, len);
	memcpy(line + len, p, strlen(p));
	len += strlen(p);
	memcpy(line + len, tail, strlen(tail));
	len += strlen(tail);
	/* One write, so that the line is not torn by other writers. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

int socket(int domain, int type, int protocol)
{
	int saved = errno;
	int fd;

	xtcpize_init();
	if ((domain != AF_INET && domain != AF_INET6) ||
	    (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return call_socket(domain, type, protocol);

	fd = call_socket(domain, type, xtcp_proto);
	if (fd >= 0 || errno != EPROTONOSUPPORT)
		return fd;
	warn_once();
	if (!fallback) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	errno = saved;
	return call_socket(domain, type, protocol);
}
