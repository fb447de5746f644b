// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The child of an exec health check (exec_child.h).
 *
 * fork() rather than posix_spawn(): posix_spawn cannot change the user,
 * the groups or no_new_privs. Everything the child needs (argv, envp, the
 * program's path) is prepared before the fork, so the child only makes
 * async-signal-safe system calls until execve(). A close-on-exec pipe
 * carries the errno of a failed step back: its EOF means the program runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "exec_child.h"

static struct {
	int set;
	uid_t uid;
	gid_t gid;
	char name[64];
} user;

int xlb_exec_set_user(const char *name)
{
	struct passwd *pw = getpwnam(name);
	char *end;

	if (!pw) {
		unsigned long u = strtoul(name, &end, 10);

		if (!*name || *end || u > 0xfffffffe)
			return -ENOENT;
		pw = getpwuid((uid_t)u);
		user.uid = (uid_t)u;
		user.gid = pw ? pw->pw_gid : (gid_t)u;
	} else {
		user.uid = pw->pw_uid;
		user.gid = pw->pw_gid;
	}
	snprintf(user.name, sizeof(user.name), "%s", name);
	user.set = 1;
	return 0;
}

const char *xlb_exec_user(void)
{
	return user.set ? user.name : XLB_EXEC_DEFAULT_USER;
}

int xlb_exec_needs_shell(const char *cmd, char *c)
{
	/* Characters sh treats specially inside or between words; '~' and
	 * '#' only at the start of a word. */
	static const char special[] = "'\"\\$`|&;<>()*?[{}\n";

	for (const char *s = cmd; *s; s++) {
		int word_start = s == cmd || *(s - 1) == ' ' || *(s - 1) == '\t';

		if (strchr(special, *s) || (word_start && (*s == '~' || *s == '#'))) {
			*c = *s;
			return 1;
		}
	}
	return 0;
}

/* Words of cmd, split on blanks, into buf; argv points into it. */
static int split(const char *cmd, char *buf, size_t len, char **argv)
{
	int n = 0;

	snprintf(buf, len, "%s", cmd);
	for (char *save, *s = strtok_r(buf, " \t", &save); s; s = strtok_r(NULL, " \t", &save)) {
		if (n == XLB_EXEC_MAX_ARGS)
			return -E2BIG;
		argv[n++] = s;
	}
	argv[n] = NULL;
	return n ? 0 : -EINVAL;
}

/* The file execve() runs for prog: as given with a '/', else from PATH. */
static int find_program(const char *prog, char *out, size_t len)
{
	const char *path = XLB_EXEC_PATH;
	struct stat st;

	if (strchr(prog, '/')) {
		snprintf(out, len, "%s", prog);
		return 0;
	}
	while (*path) {
		size_t d = strcspn(path, ":");

		snprintf(out, len, "%.*s/%s", (int)d, path, prog);
		if (!stat(out, &st) && S_ISREG(st.st_mode))
			return 0;
		path += d + (path[d] == ':');
	}
	snprintf(out, len, "%s", prog);
	return -ENOENT;
}

/* What failed in the child, sent up the pipe. */
enum {
	STEP_SETUP = 1,
	STEP_USER,
	STEP_EXEC
};

static void __attribute__((noreturn)) child(int errfd, const char *file, char **argv, char **envp)
{
	int step = STEP_SETUP, fd, err;
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	if (setpgid(0, 0))
		goto fail;
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL); /* EINVAL for KILL, STOP: fine */
	if (sigprocmask(SIG_SETMASK, &none, NULL))
		goto fail;
	fd = open("/dev/null", O_RDWR);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		goto fail;
	/* Every other fd goes, but the error pipe (close-on-exec). */
	if (errfd > 3)
		syscall(SYS_close_range, 3, errfd - 1, 0);
	syscall(SYS_close_range, errfd + 1, ~0U, 0);
	if (chdir("/"))
		goto fail;
	step = STEP_USER;
	if (getuid() != user.uid || geteuid() != user.uid) {
		/* Raw system calls: glibc's wrappers would try to change every
		 * thread's ids, and a forked child has only this one. */
		if (syscall(SYS_setgroups, 0, NULL) ||
		    syscall(SYS_setresgid, user.gid, user.gid, user.gid) ||
		    syscall(SYS_setresuid, user.uid, user.uid, user.uid))
			goto fail;
	}
	/* From uid 0 to another uid the kernel clears every capability set
	 * but the bounding set; ambient capabilities go explicitly too. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		goto fail;
	step = STEP_EXEC;
	execve(file, argv, envp);
fail:
	err = errno;
	fd = step * 65536 + err;
	if (write(errfd, &fd, sizeof(fd)) < 0)
		_exit(127);
	_exit(127);
}

int xlb_exec_spawn(const char *command, int shell, const char *addr, unsigned int port, pid_t *pid,
		   char *why, size_t len)
{
	char words[1024], file[4096], addr_var[80], port_var[32];
	char *argv[XLB_EXEC_MAX_ARGS + 1];
	char *envp[] = {"PATH=" XLB_EXEC_PATH, addr_var, port_var, NULL};
	int pfd[2], code = 0, err;
	ssize_t n;

	if (!user.set && xlb_exec_set_user(XLB_EXEC_DEFAULT_USER)) {
		snprintf(why, len, "no user '%s' to run checks as", XLB_EXEC_DEFAULT_USER);
		return -ENOENT;
	}
	if (shell) {
		argv[0] = "sh";
		argv[1] = "-c";
		argv[2] = (char *)command;
		argv[3] = NULL;
		snprintf(file, sizeof(file), "/bin/sh");
	} else {
		err = split(command, words, sizeof(words), argv);
		if (err) {
			snprintf(why, len, "bad command: %s", strerror(-err));
			return err;
		}
		if (find_program(argv[0], file, sizeof(file))) {
			snprintf(why, len, "couldn't find '%s' in " XLB_EXEC_PATH, argv[0]);
			return -ENOENT;
		}
	}
	snprintf(addr_var, sizeof(addr_var), "XLB_BACKEND_ADDR=%s", addr);
	snprintf(port_var, sizeof(port_var), "XLB_BACKEND_PORT=%u", port);
	if (pipe2(pfd, O_CLOEXEC)) {
		err = -errno;
		snprintf(why, len, "pipe: %s", strerror(errno));
		return err;
	}
	*pid = fork();
	if (*pid < 0) {
		err = -errno;
		snprintf(why, len, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (!*pid)
		child(pfd[1], file, argv, envp);
	close(pfd[1]);
	/* EOF once the program runs (execve closed the pipe); short: ms. */
	do
		n = read(pfd[0], &code, sizeof(code));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n != sizeof(code))
		return 0;
	waitpid(*pid, NULL, 0);
	*pid = 0;
	err = code % 65536;
	switch (code / 65536) {
	case STEP_USER:
		snprintf(why, len, "couldn't become user '%s': %s", user.name, strerror(err));
		break;
	case STEP_EXEC:
		snprintf(why, len, "couldn't run '%s': %s", file, strerror(err));
		break;
	default:
		snprintf(why, len, "couldn't set up the child: %s", strerror(err));
	}
	return -err;
}
