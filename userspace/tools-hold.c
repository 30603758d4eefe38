// SPDX-License-Identifier: GPL-2.0
/*
 * tools-hold: the wait of --hold (alloc, attach, export, import), which
 * keeps what the command holds until the user says to let go.
 *
 * A holder is often a background job ("cmamem alloc frame0 4M --hold &").
 * It must then never stop on the terminal: a stopped process cannot run
 * its signal handler, so SIGTERM would wait for a SIGCONT that nobody
 * sends, and the block would stay held. So it reads the terminal only
 * while it is the terminal's foreground job, and it ignores SIGTTIN and
 * SIGTTOU, the signals that stop a background job touching the terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools-common.h"

/*
 * Set by the signal handlers, read by the waiting loop: volatile
 * sig_atomic_t is the type C guarantees for exactly this.
 */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t continued;

static void note_stop_signal(int signal_number)
{
	stop_signal = signal_number;
}

/*
 * SIGCONT: the job may have changed between foreground and background
 * ("fg", "bg"); its only task is to end ppoll() so that the loop looks.
 */
static void note_continued(int signal_number)
{
	(void)signal_number;
	continued = 1;
}

/* Whether stdin, a terminal, belongs to another (foreground) job. */
static bool terminal_is_elsewhere(void)
{
	pid_t foreground = tcgetpgrp(STDIN_FILENO);

	/* No controlling terminal (-1): reading it cannot stop us. */
	return foreground > 0 && foreground != getpgrp();
}

static void catch_signal(int signal_number, void (*handler)(int))
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = handler;
	sigemptyset(&action.sa_mask);
	sigaction(signal_number, &action, NULL);
}

/*
 * Read and discard what stdin has: returns true at end of input, and
 * clears *@watch when stdin cannot say anything any more.
 */
static bool input_ended(short revents, bool terminal, bool *paused,
			bool *watch)
{
	char discard[256];
	ssize_t got = read(STDIN_FILENO, discard, sizeof(discard));

	if (got == 0)
		return true;
	if (got < 0 && errno == EIO && terminal) {
		/*
		 * Moved to the background since the last look (SIGTTIN is
		 * ignored, so the read failed instead of stopping us): wait
		 * for the SIGCONT of "fg" before reading again.
		 */
		*paused = true;
		return false;
	}
	if (got < 0 && errno != EINTR && errno != EAGAIN)
		*watch = false;	/* unreadable input cannot tell us to stop */
	return revents & (POLLHUP | POLLERR) && got <= 0;
}

/**
 * hold_until_told() - wait until the user says to let go of what is held
 * @messages: where to say what it waits for (stderr when stdout carries
 *	JSON)
 *
 * Waits until SIGINT, SIGTERM or SIGHUP, or end of input when stdin is a
 * pipe or a terminal (the terminal only while this is its foreground job:
 * Ctrl-D). Stdin that is /dev/null or a file (as for a background job of a
 * script) would end at once, so it is not watched: then only a signal ends
 * the wait. SIGINT is caught even when inherited as ignored (as shells do
 * for background jobs), so that "kill -INT" works as documented; SIGHUP
 * inherited as ignored (nohup) stays ignored. SIGTTIN and SIGTTOU stay
 * ignored afterwards, so that the caller's last messages cannot stop it
 * either.
 *
 * Return: 0, or a negative errno when waiting failed.
 */
int hold_until_told(FILE *messages)
{
	static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
	bool watch_input, terminal, paused = false;
	sigset_t blocked, wait_mask;
	struct stat input;
	unsigned int i;
	int err = 0;

	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	sigemptyset(&blocked);
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(&blocked, stop_signals[i]);
	sigaddset(&blocked, SIGCONT);
	/* Blocked except inside ppoll(), so no signal slips in between. */
	if (sigprocmask(SIG_BLOCK, &blocked, &wait_mask) != 0)
		return -errno;
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		struct sigaction previous;

		if (stop_signals[i] == SIGHUP &&
		    sigaction(SIGHUP, NULL, &previous) == 0 &&
		    previous.sa_handler == SIG_IGN)
			continue;
		catch_signal(stop_signals[i], note_stop_signal);
		sigdelset(&wait_mask, stop_signals[i]);
	}
	catch_signal(SIGCONT, note_continued);
	sigdelset(&wait_mask, SIGCONT);

	terminal = isatty(STDIN_FILENO);
	watch_input = fstat(STDIN_FILENO, &input) == 0 &&
		      (terminal || S_ISFIFO(input.st_mode) ||
		       S_ISSOCK(input.st_mode));
	if (watch_input && !(terminal && terminal_is_elsewhere()))
		fprintf(messages,
			"waiting for Ctrl-C, SIGTERM, SIGHUP or end of input (pid %ld)\n",
			(long)getpid());
	else
		fprintf(messages,
			"waiting for SIGINT, SIGTERM or SIGHUP (pid %ld: kill %ld lets go)\n",
			(long)getpid(), (long)getpid());
	fflush(messages);

	while (!stop_signal) {
		struct pollfd input_poll = { .fd = STDIN_FILENO, .events = POLLIN };
		bool poll_input;
		int ready;

		if (continued) {
			continued = 0;
			paused = false;
		}
		/* In the background the terminal is the foreground job's. */
		poll_input = watch_input && !paused &&
			     !(terminal && terminal_is_elsewhere());
		ready = ppoll(poll_input ? &input_poll : NULL, poll_input ? 1 : 0,
			      NULL, &wait_mask);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (ready > 0 && input_ended(input_poll.revents, terminal,
					     &paused, &watch_input))
			break;
	}
	sigprocmask(SIG_UNBLOCK, &blocked, NULL);
	if (stop_signal)
		fprintf(messages, "got %s\n", strsignal(stop_signal));
	return err;
}
