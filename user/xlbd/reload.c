// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reloads read and checked off the event loop; see reload.h. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/eventfd.h>

#include "agent.h"
#include "config_dump.h"
#include "ctl.h"
#include "ctl_conn.h"
#include "ctl_diff.h"
#include "jsonw.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "state.h"

#define MAX_WAITERS (CTL_MAX_CONNS + 1) /* every connection, and SIGHUP */

struct waiter {
	struct ctl_peer peer;
	int dry;
	int sighup; /* no reply: systemd is told */
};

struct batch {
	struct waiter w[MAX_WAITERS];
	size_t n;
};

/* What the worker is given and makes; the loop reads it after the join. */
struct job {
	const char *path;
	struct xlb_hash_seed seed;
	char iface[IF_NAMESIZE];
	struct xlb_cfg cur; /* a copy of the running configuration */
	unsigned long cur_gen;
	int want_state; /* someone applies: the state text is needed */

	struct xlb_cfg next;
	int ret;
	struct xlb_err err;
	json_object *changes; /* from cur to next; NULL: made in the loop */
	int removed;
	/* The worker's changes as the reply's JSON text and as log lines:
	 * at 10,000 changes, writing them in the loop took ~40 ms of CPU. */
	char *changes_text;
	struct strbuf log;
	char digest[XLB_CFG_DIGEST_LEN];
	char *text; /* the state file's */
	size_t len;
	double read_ms, diff_ms, digest_ms, dump_ms; /* the worker's steps */
};

enum step {
	IDLE,
	READING,
	WRITING
};

struct reload {
	struct agent *ag;
	struct ctl_agent *ctl;
	int efd;
	enum step step;
	pthread_t thread;
	struct job job;
	struct batch cur, next; /* being read; waiting for the next read */
	double started_ms, apply_ms, apply_cpu_ms;
};

static double clock_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_of(CLOCK_MONOTONIC);
}

/* The loop's own CPU time: on a busy host its wall time says little. */
static double cpu_ms(void)
{
	return clock_of(CLOCK_THREAD_CPUTIME_ID);
}

static void wake(struct reload *r)
{
	__u64 one = 1;

	if (write(r->efd, &one, sizeof(one)) != sizeof(one))
		pr_warn("reload: couldn't wake the loop: %s\n", strerror(errno));
}

static void *work(void *arg)
{
	struct reload *r = arg;
	struct job *j = &r->job;
	struct sched_param idle = {0};
	double t, t1;

	/* The loop keeps its core: where xlbd is pinned to one CPU (as the
	 * bench pins it), a worker of equal weight would take half of it for
	 * the whole read and delay checks longer, not less. SCHED_IDLE runs it
	 * while the loop waits. */
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle))
		pr_debug("reload: the worker runs at normal priority\n");
	t = now_ms();
	j->ret = agent_read_file(j->path, &j->seed, j->iface, &j->next, &j->err);
	t1 = now_ms();
	j->read_ms = t1 - t;
	if (!j->ret) {
		t = t1;
		j->changes = ctl_diff_json_plain(&j->cur, &j->next, &j->removed);
		if (j->changes && !j->removed) {
			const char *text =
				json_object_to_json_string_ext(j->changes, JSON_C_TO_STRING_PLAIN);

			j->changes_text = text ? strdup(text) : NULL;
			if (xlb_log_level >= XLB_LOG_INFO)
				ctl_diff_log_text(j->changes, "reload", &j->log);
		}
		t1 = now_ms();
		j->diff_ms = t1 - t;
		if (xlb_cfg_digest(&j->next, &j->seed, j->digest))
			j->digest[0] = 0; /* the loop computes it */
		t = now_ms();
		j->digest_ms = t - t1;
		if (j->want_state)
			j->ret = xlb_cfg_dump_checked(&j->next, &j->text, &j->len, &j->err);
		j->dump_ms = now_ms() - t;
	}
	wake(r);
	return NULL;
}

static void job_clear(struct job *j)
{
	xlb_cfg_free(&j->cur);
	xlb_cfg_free(&j->next);
	json_object_put(j->changes);
	free(j->changes_text);
	sb_free(&j->log);
	free(j->text);
	memset(j, 0, sizeof(*j));
}

/* Start reading for the waiters in next (they become cur). */
static int begin(struct reload *r, struct xlb_err *err)
{
	struct job *j = &r->job;
	int ret;

	job_clear(j);
	j->path = r->ag->config_path;
	j->seed = r->ag->seed;
	snprintf(j->iface, sizeof(j->iface), "%s", r->ag->iface);
	j->cur_gen = r->ag->cfg_gen;
	for (size_t i = 0; i < r->next.n; i++)
		j->want_state |= !r->next.w[i].dry && r->ag->state_path;
	ret = xlb_cfg_copy(&j->cur, &r->ag->cfg);
	if (!ret)
		ret = -pthread_create(&r->thread, NULL, work, r);
	if (ret) {
		job_clear(j);
		snprintf(err->msg, sizeof(err->msg), "couldn't start reading the file: %s",
			 strerror(-ret));
		return ret;
	}
	r->cur = r->next;
	r->next.n = 0;
	r->step = READING;
	r->started_ms = now_ms();
	return 0;
}

/* The reply's "changes" (a reference, or a copy of the prepared text). */
static json_object *changes_member(const struct job *j)
{
	struct strbuf b = {0};

	if (!j->changes_text)
		return j->changes ? json_object_get(j->changes) : NULL;
	sb_str(&b, j->changes_text);
	return jw_raw(&b);
}

/* Answer the waiters of cur (dry ones, or those that apply). */
static void answer(struct reload *r, int dry, int applied, int ret, const struct xlb_err *err)
{
	for (size_t i = 0; i < r->cur.n; i++) {
		struct waiter *w = &r->cur.w[i];
		char *text;

		if (w->dry != dry)
			continue;
		if (w->sighup) {
			notify_reloaded(r->ag);
			continue;
		}
		text = ctl_reload_reply(r->ctl, &w->peer, dry, applied, changes_member(&r->job),
					ret, err);
		if (ctl_server_reply(r->ag->ctl, w->peer.ticket, text))
			pr_debug("reload: client pid %d went away before its reply\n",
				 (int)w->peer.pid);
	}
}

/* cur is answered: on to the next batch, if any. */
static void done(struct reload *r)
{
	struct xlb_err err = {};

	job_clear(&r->job);
	r->cur.n = 0;
	r->step = IDLE;
	if (r->next.n && begin(r, &err)) {
		r->cur = r->next;
		r->next.n = 0;
		answer(r, 1, 0, -ENOMEM, &err);
		answer(r, 0, 0, -ENOMEM, &err);
		r->cur.n = 0;
	}
}

static int applies(const struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (!b->w[i].dry)
			return 1;
	return 0;
}

/* Step 1: the worker is done: checks against what runs, apply. */
static void on_read(struct reload *r)
{
	struct job *j = &r->job;
	struct agent *ag = r->ag;
	struct agent_prepared pre = {.digest = j->digest, .defer_persist = 1};
	double t0 = now_ms(), c0 = cpu_ms();

	pthread_join(r->thread, NULL);
	if (j->ret) {
		pr_warn("reload rejected, still running the previous configuration: %s\n",
			j->err.msg);
		agent_count_reload(ag, 0);
		answer(r, 1, 0, j->ret, &j->err);
		answer(r, 0, 0, j->ret, &j->err);
		done(r);
		return;
	}
	/* The running configuration changed while the file was read, or the
	 * reply must count the live flows of what goes: diffed here. */
	if (!j->changes || j->removed || j->cur_gen != ag->cfg_gen) {
		json_object_put(j->changes);
		j->changes = ctl_diff_json(&r->ctl->view, &j->next);
		free(j->changes_text);
		j->changes_text = NULL;
		sb_free(&j->log);
	}
	answer(r, 1, 0, 0, &j->err);
	if (!applies(&r->cur)) {
		done(r);
		return;
	}
	j->ret = agent_reload_apply(ag, &j->next, &pre, &j->err);
	r->apply_ms = now_ms() - t0;
	r->apply_cpu_ms = cpu_ms() - c0;
	if (j->ret) {
		answer(r, 0, 0, j->ret, &j->err);
		done(r);
		return;
	}
	r->step = WRITING;
	wake(r); /* step 2 at the loop's next turn: checks due run first */
}

/* Step 2: the state file, then the replies. */
static void on_applied(struct reload *r)
{
	struct job *j = &r->job;
	double t0 = now_ms(), c0 = cpu_ms(), t1;

	if (j->text && r->ag->state_path)
		j->ret = state_write_text(r->ag->state_path, j->text, j->len, &j->err);
	t1 = now_ms();
	if (!j->ret && j->changes_text) {
		if (j->log.len && !j->log.oom) {
			sb_char(&j->log, 0);
			pr_info("%s", j->log.p); /* one write, not one a line */
		}
	} else if (!j->ret) {
		ctl_diff_log(j->changes, "reload");
	}
	answer(r, 0, !j->ret, j->ret, &j->err);
	pr_info("reload: %.0f ms in all; off the loop: read and checked %.0f ms, diff %.0f ms, "
		"digest %.0f ms, state text %.0f ms; in the loop (CPU): apply %.0f (%.0f) ms, then "
		"state file %.0f ms and replies %.0f ms (%.0f)\n",
		now_ms() - r->started_ms, j->read_ms, j->diff_ms, j->digest_ms, j->dump_ms,
		r->apply_ms, r->apply_cpu_ms, t1 - t0, now_ms() - t1, cpu_ms() - c0);
	done(r);
}

void reload_on_event(struct reload *r)
{
	__u64 n;

	if (read(r->efd, &n, sizeof(n)) != sizeof(n))
		return;
	if (r->step == READING)
		on_read(r);
	else if (r->step == WRITING)
		on_applied(r);
}

int reload_start(struct reload *r, const struct ctl_peer *peer, int dry, struct xlb_err *err)
{
	struct waiter w = {.dry = dry, .sighup = !peer};
	int ret;

	if (!r->ag->config_path) {
		snprintf(err->msg, sizeof(err->msg),
			 "xlbd was started without -c FILE: there is no file to reload");
		return -ENOENT;
	}
	if (peer)
		w.peer = *peer;
	if (r->next.n == MAX_WAITERS) {
		snprintf(err->msg, sizeof(err->msg),
			 "too many reloads waiting; try again when they are done");
		return -EBUSY;
	}
	r->next.w[r->next.n++] = w;
	if (r->step != IDLE)
		return 0; /* the next read, once this one is done */
	ret = begin(r, err);
	if (ret)
		r->next.n--;
	return ret;
}

struct reload *reload_new(struct agent *ag, struct ctl_agent *ctl)
{
	struct reload *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ag = ag;
	r->ctl = ctl;
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		free(r);
		return NULL;
	}
	return r;
}

void reload_free(struct reload *r)
{
	if (!r)
		return;
	if (r->step == READING)
		pthread_join(r->thread, NULL);
	job_clear(&r->job);
	close(r->efd);
	free(r);
}

int reload_fd(const struct reload *r)
{
	return r->efd;
}
