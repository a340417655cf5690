// SPDX-License-Identifier: GPL-2.0
/*
 * xtcpize-bpf - run a program over xtcp through BPF (xtcpize run --bpf).
 *
 * For programs LD_PRELOAD cannot reach (static binaries, Go programs).
 * Makes a fresh cgroup v2, /sys/fs/cgroup/xtcpize-PID, attaches
 * xtcpize.bpf.c to update_socket_protocol() with that cgroup as its
 * filter, and runs the command in it as a child. The TCP sockets, IPv4
 * and IPv6, that the command and its descendants create become xtcp
 * sockets; nothing outside the cgroup is touched. When the command has
 * exited and the cgroup is empty (processes it left behind are waited
 * for), the program is detached, the cgroup removed, and xtcpize-bpf
 * exits with the command's status (or dies of the signal that killed it).
 *
 * Signals sent to xtcpize-bpf with kill(2) are passed on to the command
 * (to every process in the cgroup once the command is gone); those the
 * terminal sends reach the command by themselves and are ignored here.
 *
 * Usage: xtcpize-bpf [--fallback] [--] CMD [ARGS...]
 * Environment: XTCPIZE_PROTO, XTCPIZE_FALLBACK=1, XTCPIZE_CGROUP_ROOT.
 * Exit status: CMD's; 1 if xtcpize-bpf cannot set up (before CMD runs),
 * 2 for a usage error, 126 or 127 if CMD cannot be run.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "xtcpize.skel.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __noreturn		__attribute__((noreturn))

#define XTCPIZE_DEFAULT_PROTO	253
#define XTCPIZE_PROTO_PARAM	"/sys/module/xtcp/parameters/proto"
#define XTCPIZE_HOOK		"update_socket_protocol"
#define XTCPIZE_CGROUP_ROOT	"/sys/fs/cgroup"
#define XTCPIZE_KERNEL_BTF	"/sys/kernel/btf/vmlinux"

/* Exit statuses of xtcpize-bpf itself. */
enum {
	XTCPIZE_EXIT_SETUP = 1,
	XTCPIZE_EXIT_USAGE = 2,
	XTCPIZE_EXIT_NOEXEC = 126,
	XTCPIZE_EXIT_NOTFOUND = 127,
};

/* The signals passed on to the command. */
static const int xtcpize_fwd_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
};

#define XTCPIZE_NR_FWD		ARRAY_SIZE(xtcpize_fwd_signals)

static struct sigaction xtcpize_old_actions[XTCPIZE_NR_FWD];
/* Shared with the signal handler: volatile sig_atomic_t (C11 7.14.1.1). */
static volatile sig_atomic_t xtcpize_child;
static volatile sig_atomic_t xtcpize_pending;

static void xtcpize_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xtcpize: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fputs("Usage: xtcpize run --bpf [--fallback] [--] CMD [ARGS...]\n",
	      f);
}

/* A protocol number from decimal text, or 0 if it is not one (1..255). */
static int parse_proto(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || (*end && *end != '\n') || v < 1 || v > 255)
		return 0;
	return (int)v;
}

static int xtcp_proto(void)
{
	char buf[16] = "";
	FILE *f;
	int proto;

	proto = parse_proto(getenv("XTCPIZE_PROTO"));
	if (proto)
		return proto;
	f = fopen(XTCPIZE_PROTO_PARAM, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		proto = parse_proto(buf);
	}
	return proto ? proto : XTCPIZE_DEFAULT_PROTO;
}

/* Does the kernel know protocol @proto for IPv4 stream sockets? */
static bool xtcp_available(int proto)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return errno != EPROTONOSUPPORT;
	close(fd);
	return true;
}

/*
 * Has the running kernel the hook, described in its BTF? Checked before
 * loading so that the message can say what is missing.
 */
static bool xtcpize_hook_present(void)
{
	struct btf *btf;
	bool found;

	if (access(XTCPIZE_KERNEL_BTF, R_OK)) {
		xtcpize_err("run --bpf: this kernel has no BTF (%s: %s); use xtcpize run without --bpf",
			    XTCPIZE_KERNEL_BTF, strerror(errno));
		return false;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		xtcpize_err("run --bpf: cannot read the kernel's BTF: %s",
			    strerror(errno));
		return false;
	}
	found = btf__find_by_name_kind(btf, XTCPIZE_HOOK, BTF_KIND_FUNC) > 0;
	btf__free(btf);
	if (!found)
		xtcpize_err("run --bpf: this kernel has no %s() hook (Linux 6.6 or later with MPTCP); use xtcpize run without --bpf",
			    XTCPIZE_HOOK);
	return found;
}

/*
 * libbpf's warnings, kept until we know whether they help: without the
 * capabilities, our one line says more than libbpf's several.
 */
static char *xtcpize_libbpf_log;
static size_t xtcpize_libbpf_len;
static FILE *xtcpize_libbpf_out;

static int xtcpize_libbpf_print(enum libbpf_print_level level,
				const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !xtcpize_libbpf_out)
		return 0;
	return vfprintf(xtcpize_libbpf_out, fmt, ap);
}

/* Print (or with @show false, drop) what libbpf said so far. */
static void xtcpize_libbpf_flush(bool show)
{
	char *line, *next;

	if (!xtcpize_libbpf_out)
		return;
	fflush(xtcpize_libbpf_out);
	for (line = xtcpize_libbpf_log; show && line && *line; line = next) {
		next = strchrnul(line, '\n');
		fprintf(stderr, "xtcpize: %.*s\n", (int)(next - line), line);
		if (*next)
			next++;
	}
	rewind(xtcpize_libbpf_out);
	if (xtcpize_libbpf_log)
		xtcpize_libbpf_log[0] = '\0';
}

/* The directory of the cgroup v2 hierarchy, or NULL. */
static const char *cgroup_root(void)
{
	static const char *const roots[] = {
		XTCPIZE_CGROUP_ROOT, XTCPIZE_CGROUP_ROOT "/unified",
	};
	const char *env = getenv("XTCPIZE_CGROUP_ROOT");
	struct statfs st;
	size_t i;

	if (env && *env)
		return statfs(env, &st) || st.f_type != CGROUP2_SUPER_MAGIC ?
			NULL : env;
	for (i = 0; i < ARRAY_SIZE(roots); i++)
		if (!statfs(roots[i], &st) && st.f_type == CGROUP2_SUPER_MAGIC)
			return roots[i];
	return NULL;
}

/*
 * The id BPF sees for the cgroup at @path: its kernfs node id, which is
 * what a file handle of the directory carries (and, on 64-bit, its inode
 * number).
 */
static uint64_t cgroup_id(const char *path)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	struct stat st;
	uint64_t id;
	int mount_id;

	h.fh.handle_bytes = sizeof(uint64_t);
	if (!name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(&id, h.fh.f_handle, sizeof(id));
		return id;
	}
	if (stat(path, &st))
		return 0;
	return st.st_ino;
}

/* Write @text to the file @dir/@name. */
static int write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	ssize_t len = strlen(text);
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len)
		err = -errno;
	close(fd);
	return err;
}

/* Is any process left in the cgroup? Reads its cgroup.events. */
static bool cgroup_populated(int events_fd)
{
	char buf[256];
	ssize_t n;

	n = pread(events_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return !strstr(buf, "populated 0");
}

/* Send @sig to every process in the cgroup @dir. */
static void cgroup_signal(const char *dir, int sig)
{
	char path[PATH_MAX];
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		kill(pid, sig);
	fclose(f);
}

/*
 * Pass on signals sent with kill(2) (si_code <= 0): to the command while
 * it runs, else remembered for the loop that waits for the cgroup to
 * empty. Signals from the kernel (the terminal's ^C, ^\, hang-up) went to
 * the whole process group, the command included.
 */
static void xtcpize_on_signal(int sig, siginfo_t *info, void *ctx)
{
	pid_t child = xtcpize_child;

	(void)ctx;
	if (info->si_code > 0)
		return;
	if (child > 0)
		kill(child, sig);
	else
		xtcpize_pending = sig;
}

static void signals_install(sigset_t *blocked)
{
	struct sigaction sa = {
		.sa_sigaction = xtcpize_on_signal,
		.sa_flags = SA_SIGINFO | SA_RESTART,
	};
	size_t i;

	sigemptyset(blocked);
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < XTCPIZE_NR_FWD; i++) {
		sigaddset(blocked, xtcpize_fwd_signals[i]);
		sigaddset(&sa.sa_mask, xtcpize_fwd_signals[i]);
	}
	for (i = 0; i < XTCPIZE_NR_FWD; i++)
		sigaction(xtcpize_fwd_signals[i], &sa, &xtcpize_old_actions[i]);
}

/* In the child: the dispositions the command would have had without us. */
static void signals_restore(void)
{
	size_t i;

	for (i = 0; i < XTCPIZE_NR_FWD; i++)
		sigaction(xtcpize_fwd_signals[i], &xtcpize_old_actions[i],
			  NULL);
}

/* In the child: join the cgroup and become the command. */
static void __noreturn
run_child(const char *cgroup, char **argv, const sigset_t *oldmask)
{
	int err;

	signals_restore();
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	err = write_file(cgroup, "cgroup.procs", "0");
	if (err) {
		xtcpize_err("run --bpf: cannot move into %s: %s", cgroup,
			    strerror(-err));
		_exit(XTCPIZE_EXIT_SETUP);
	}
	execvp(argv[0], argv);
	err = errno;
	xtcpize_err("%s: %s", argv[0], strerror(err));
	_exit(err == ENOENT ? XTCPIZE_EXIT_NOTFOUND : XTCPIZE_EXIT_NOEXEC);
}

/*
 * Wait until no process is left in the cgroup, passing on the signals
 * xtcpize_on_signal() remembered to all of them.
 */
static void cgroup_wait_empty(const char *cgroup, const sigset_t *blocked)
{
	char path[PATH_MAX];
	struct pollfd pfd;
	sigset_t waitmask;
	bool told = false;
	int sig;

	snprintf(path, sizeof(path), "%s/cgroup.events", cgroup);
	pfd.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pfd.fd < 0)
		return;
	pfd.events = POLLPRI;
	sigprocmask(SIG_BLOCK, blocked, &waitmask);
	while (cgroup_populated(pfd.fd)) {
		if (!told) {
			xtcpize_err("waiting for the processes left in %s",
				    cgroup);
			told = true;
		}
		sig = xtcpize_pending;
		xtcpize_pending = 0;
		if (sig)
			cgroup_signal(cgroup, sig);
		/* The signal mask opens only while ppoll() sleeps. */
		if (ppoll(&pfd, 1, NULL, &waitmask) < 0 && errno != EINTR)
			break;
	}
	sigprocmask(SIG_SETMASK, &waitmask, NULL);
	close(pfd.fd);
}

static void cgroup_remove(const char *cgroup)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int tries;

	/* The last task may still be on its way out of the cgroup. */
	for (tries = 0; tries < 100; tries++) {
		if (!rmdir(cgroup) || errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	if (access(cgroup, F_OK) == 0)
		xtcpize_err("cannot remove %s: %s", cgroup, strerror(errno));
}

/* Leave the way the command did: with its status or of its signal. */
static void __noreturn exit_like(int status)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t set;
	int sig;

	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	signal(sig, SIG_DFL);
	/* The command may have dumped core; xtcpize-bpf has nothing to add. */
	setrlimit(RLIMIT_CORE, &no_core);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(128 + sig);
}

/* Run @argv without BPF, over plain TCP. */
static void __noreturn run_plain(char **argv)
{
	int err;

	execvp(argv[0], argv);
	err = errno;
	xtcpize_err("%s: %s", argv[0], strerror(err));
	exit(err == ENOENT ? XTCPIZE_EXIT_NOTFOUND : XTCPIZE_EXIT_NOEXEC);
}

int main(int argc, char **argv)
{
	const char *env = getenv("XTCPIZE_FALLBACK");
	bool fallback = env && !strcmp(env, "1");
	char cgroup[PATH_MAX] = "";
	sigset_t blocked, oldmask;
	struct xtcpize_bpf *skel;
	const char *root;
	int i, err, proto, status = 0;
	uint64_t id;
	pid_t pid;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--fallback")) {
			fallback = true;
			continue;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return XTCPIZE_EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return XTCPIZE_EXIT_USAGE;
	}
	argv += i;

	proto = xtcp_proto();
	if (!xtcp_available(proto)) {
		if (fallback) {
			xtcpize_err("xtcp module not loaded (protocol %d not supported); using plain TCP (fallback)",
				    proto);
			run_plain(argv);
		}
		xtcpize_err("xtcp module not loaded (protocol %d not supported); not running %s (xtcpize run --bpf --fallback uses plain TCP)",
			    proto, argv[0]);
		return XTCPIZE_EXIT_SETUP;
	}
	if (!xtcpize_hook_present())
		return XTCPIZE_EXIT_SETUP;

	xtcpize_libbpf_out = open_memstream(&xtcpize_libbpf_log,
					    &xtcpize_libbpf_len);
	libbpf_set_print(xtcpize_libbpf_print);
	skel = xtcpize_bpf__open();
	if (!skel) {
		err = errno;
		xtcpize_libbpf_flush(true);
		xtcpize_err("run --bpf: cannot open the BPF program: %s",
			    strerror(err));
		return XTCPIZE_EXIT_SETUP;
	}
	skel->rodata->xtcp_proto = proto;
	err = xtcpize_bpf__load(skel);
	if (err) {
		if (err == -EPERM || err == -EACCES) {
			xtcpize_libbpf_flush(false);
			xtcpize_err("run --bpf needs root (CAP_BPF and CAP_PERFMON) to load its BPF program: %s",
				    strerror(-err));
		} else {
			xtcpize_libbpf_flush(true);
			xtcpize_err("run --bpf: cannot load the BPF program: %s",
				    strerror(-err));
		}
		goto out_destroy;
	}
	xtcpize_libbpf_flush(true);

	root = cgroup_root();
	if (!root) {
		xtcpize_err("run --bpf: no cgroup v2 hierarchy at %s (mount -t cgroup2 none %s)",
			    getenv("XTCPIZE_CGROUP_ROOT") ?: XTCPIZE_CGROUP_ROOT,
			    XTCPIZE_CGROUP_ROOT);
		goto out_destroy;
	}
	snprintf(cgroup, sizeof(cgroup), "%s/xtcpize-%d", root, (int)getpid());
	if (mkdir(cgroup, 0755)) {
		err = errno;
		xtcpize_err("run --bpf: cannot make the cgroup %s: %s%s", cgroup,
			    strerror(err),
			    err == EACCES || err == EPERM ? " (needs root)" : "");
		cgroup[0] = '\0';
		goto out_destroy;
	}
	id = cgroup_id(cgroup);
	if (!id) {
		xtcpize_err("run --bpf: no id for the cgroup %s", cgroup);
		goto out_rmdir;
	}
	skel->bss->target_cgroup_id = id;
	err = xtcpize_bpf__attach(skel);
	xtcpize_libbpf_flush(true);
	if (err) {
		xtcpize_err("run --bpf: cannot attach the BPF program to %s(): %s",
			    XTCPIZE_HOOK, strerror(-err));
		goto out_rmdir;
	}

	signals_install(&blocked);
	sigprocmask(SIG_BLOCK, &blocked, &oldmask);
	pid = fork();
	if (pid < 0) {
		xtcpize_err("run --bpf: fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		goto out_rmdir;
	}
	if (pid == 0)
		run_child(cgroup, argv, &oldmask);
	xtcpize_child = pid;
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	xtcpize_child = 0;
	cgroup_wait_empty(cgroup, &blocked);

	xtcpize_bpf__destroy(skel);
	cgroup_remove(cgroup);
	exit_like(status);

out_rmdir:
	rmdir(cgroup);
out_destroy:
	xtcpize_bpf__destroy(skel);
	return XTCPIZE_EXIT_SETUP;
}
