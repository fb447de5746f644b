/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control socket's connections, served from the agent's event loop
 * without ever blocking it.
 *
 * A Unix stream socket, 0600 (root) or, with a group, 0660 of that group.
 * Framing: one request a line (a JSON object, then '\n'), one reply a line.
 * The connection is closed after the reply unless the handler says the
 * client wants to send another (several requests per connection, one
 * after the other). A client that stops sending after its request, or
 * shuts down its side, still gets its reply.
 *
 * Each connection is a non-blocking state machine in the server's own
 * epoll (one fd for the agent's loop):
 *   - reading: at most one read and one request per connection per turn,
 *     so no client delays another; a request must arrive whole within
 *     CTL_DEADLINE_MS of the connection (or of the previous reply), and
 *     may hold CTL_MAX_REQUEST bytes: past either, an error reply and the
 *     connection is closed (a request that waited in the socket while
 *     the loop was busy elsewhere is read, however late);
 *   - waiting: a handler may answer later (CTL_REPLY_LATER, then
 *     ctl_server_reply() with the ticket its peer carried), e.g. while a
 *     reload is read and checked off the loop; no deadline meanwhile;
 *   - writing: the reply goes out as fast as the client takes it (EAGAIN:
 *     the rest waits for EPOLLOUT, nothing more is read meanwhile, so a
 *     connection holds at most one request and one reply); a client that
 *     takes nothing of its reply for CTL_DEADLINE_MS is dropped;
 *   - at most CTL_MAX_CONNS connections: one more gets an error reply and
 *     is closed at once, unless it is root's: then the oldest connection
 *     of another user is closed to make room.
 * Replies are sent with MSG_NOSIGNAL: a client gone away costs nothing.
 */
#ifndef XLBD_CTL_CONN_H
#define XLBD_CTL_CONN_H

#include <stddef.h>

#include "ctl_req.h"

#define CTL_MAX_REQUEST 65536 /* bytes of one request, its newline excluded */
#define CTL_MAX_CONNS 32
#define CTL_DEADLINE_MS 5000

struct ctl_server;

/* One whole request (NUL-terminated at text[len]): the reply (malloc'd, no
 * newline; NULL closes the connection; CTL_REPLY_LATER: ctl_server_reply()
 * gives it, for peer->ticket); *keep_open: read another after it. */
extern char ctl_reply_later[];
#define CTL_REPLY_LATER ctl_reply_later
typedef char *(*ctl_handler_fn)(void *ctx, const struct ctl_peer *peer, const char *text,
				size_t len, int *keep_open);

/* Listen on path (a stale socket there is replaced; its directory made).
 * group: NULL for root only. 0, or -errno (logged). */
int ctl_server_open(const char *path, const char *group, ctl_handler_fn fn, void *ctx,
		    struct ctl_server **out);
/* The fd for the agent's epoll: readable when there is work. */
int ctl_server_fd(const struct ctl_server *s);
/* Do what is ready, without blocking. */
void ctl_server_run(struct ctl_server *s);
/* The reply (malloc'd, taken over; NULL closes the connection) to the
 * request whose handler said CTL_REPLY_LATER. 0, or -ENOENT when that
 * connection is gone (its client went away). */
int ctl_server_reply(struct ctl_server *s, unsigned long long ticket, char *text);
/* How long a client may stay silent (tests; CTL_DEADLINE_MS by default). */
void ctl_server_set_deadline(struct ctl_server *s, unsigned int ms);
/* Close every connection, remove the socket. */
void ctl_server_close(struct ctl_server *s);

#endif /* XLBD_CTL_CONN_H */
