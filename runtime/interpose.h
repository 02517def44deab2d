#ifndef CPGO_RT_INTERPOSE_H
#define CPGO_RT_INTERPOSE_H

/*
 * The calls libcpgo interposes (exported by libcpgo.so, see libcpgo.map):
 * pthread_create, so that new threads register with the sampler (and get
 * its signal unblocked), and the exec*() family, so that a new image never
 * inherits a pending profiling signal. Prefix: interpose_.
 */

#include <pthread.h>

/* Once, from the constructor: the thread-exit hook that unregisters threads. */
void interpose_init(void);

/*
 * The real pthread_create (ASan's interceptor when present), for libcpgo's
 * own threads: they must not go through the wrapper. Returns an errno value.
 */
int interpose_real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
				  void *(*start)(void *), void *arg);

#endif
