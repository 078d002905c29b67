/* Stopping the "process" at a chosen step. Every mutating operation of the
 * kernel model, the in-memory xenstore and the test hypervisor asks
 * crash_step() first; from the chosen step on, everything fails with
 * ECANCELED, as if the process had died there. With after=true the chosen
 * operation itself still takes effect (the process died after the kernel
 * applied it, before it learned the result). */
#ifndef TESTS_PCI_CRASH_H
#define TESTS_PCI_CRASH_H

#include <stdbool.h>

struct crash_plan {
	int at;       /* 1-based step to die at; 0 = never */
	bool after;
	int steps;    /* mutating steps seen so far */
	bool crashed;
};

/* Returns 0: go ahead, 1: go ahead and die right after, -1: dead already. */
static inline int crash_step(struct crash_plan *c)
{
	if (!c)
		return 0;
	if (c->crashed)
		return -1;
	c->steps++;
	if (c->at && c->steps == c->at) {
		c->crashed = true;
		return c->after ? 1 : -1;
	}
	return 0;
}

static inline bool crash_dead(const struct crash_plan *c)
{
	return c && c->crashed;
}

#endif
