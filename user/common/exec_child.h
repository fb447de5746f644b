/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The child process of an exec health check, started with as little as
 * a program needs and nothing of the agent's:
 *
 *  - as the exec user (xlb_exec_set_user(), default "nobody"), no
 *    supplementary groups, no capabilities, no_new_privs (a setuid program
 *    it runs gains nothing);
 *  - argv from the command split on blanks, no shell: quotes, $, |, ;, &,
 *    <, >, backquotes and globs mean nothing (xlb_exec_needs_shell() says
 *    whether a command relies on them, config validation refuses those);
 *    with shell set, `/bin/sh -c command` instead;
 *  - environment PATH (XLB_EXEC_PATH), XLB_BACKEND_ADDR, XLB_BACKEND_PORT
 *    and nothing else;
 *  - fds 0, 1, 2 on /dev/null, every other fd closed, cwd /, default
 *    signal dispositions and an empty mask;
 *  - its own process group, so that a timeout kills whatever it started.
 *
 * Killing the child (another uid) needs CAP_KILL, becoming the user
 * CAP_SETUID and CAP_SETGID: xlbd keeps those (privs.c).
 */
#ifndef XLB_EXEC_CHILD_H
#define XLB_EXEC_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#define XLB_EXEC_DEFAULT_USER "nobody"
#define XLB_EXEC_MAX_ARGS 32
/* The child's PATH, also where validation looks for a bare program name. */
#define XLB_EXEC_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Run checks as this user (a name, or a numeric uid): 0, or -ENOENT when
 * the system has no such user. Until called, the default user is looked
 * up at the first check. */
int xlb_exec_set_user(const char *name);
const char *xlb_exec_user(void);

/* 1 when cmd means something else to /bin/sh than split on blanks (quotes,
 * expansions, pipes, redirections, lists, globs, subshells), with the first
 * such character in *c. */
int xlb_exec_needs_shell(const char *cmd, char *c);

/*
 * Start command against addr:port. Returns 0 with *pid, or -errno with
 * the reason in why ("couldn't run '/x': No such file or directory",
 * "couldn't become user 'nobody': Operation not permitted"): a failure
 * before the program runs is reported here, never as an exit code.
 */
int xlb_exec_spawn(const char *command, int shell, const char *addr, unsigned int port, pid_t *pid,
		   char *why, size_t len);

#endif /* XLB_EXEC_CHILD_H */
