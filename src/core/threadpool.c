/*
 * A small fork-join pool. Workers sleep on a condition variable between jobs;
 * a job is a task range handed out through an atomic counter, so load balances
 * itself. The calling thread works too, which is why a pool of 1 starts no
 * thread at all. Task-to-thread assignment varies run to run, so callers that
 * need bit-identical results must make each task's output independent of the
 * thread that ran it (the nn engine does: tasks own disjoint output tiles).
 */
#include "core_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct aiecg_threadpool {
    int size;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_mutex_t run_mu; /* serialises parallel_for callers */
    uint64_t generation;
    int active;    /* workers still inside the current job */
    bool quit;
    aiecg_task_fn fn;
    void *ctx;
    int ntasks;
    atomic_int next;
};

typedef struct {
    aiecg_threadpool *pool;
    int index;
} worker_arg;

static void run_tasks(aiecg_threadpool *p, int thread) {
    for (;;) {
        int t = atomic_fetch_add(&p->next, 1);
        if (t >= p->ntasks) break;
        p->fn(p->ctx, t, thread);
    }
}

static void *worker_main(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    aiecg__free(arg);
    aiecg_threadpool *p = wa.pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_tasks(p, wa.index);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

aiecg_status aiecg_threadpool_new(int nthreads, aiecg_threadpool **out) {
    *out = NULL;
    if (nthreads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (int)n : 1;
    }
    if (nthreads > 256) return AIECG_ERR_RANGE;
    aiecg_threadpool *p = aiecg__calloc(1, sizeof *p);
    if (!p) return AIECG_ERR_NOMEM;
    p->size = nthreads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->run_mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (nthreads > 1) {
        p->threads = aiecg__calloc((size_t)nthreads - 1, sizeof(pthread_t));
        if (!p->threads) {
            aiecg_threadpool_free(p);
            return AIECG_ERR_NOMEM;
        }
        for (int i = 1; i < nthreads; i++) {
            worker_arg *wa = aiecg__malloc(sizeof *wa);
            if (!wa) {
                p->size = i;
                aiecg_threadpool_free(p);
                return AIECG_ERR_NOMEM;
            }
            wa->pool = p;
            wa->index = i;
            if (pthread_create(&p->threads[i - 1], NULL, worker_main, wa) != 0) {
                aiecg__free(wa);
                p->size = i;
                aiecg_threadpool_free(p);
                return AIECG_ERR_INTERNAL;
            }
        }
    }
    *out = p;
    return AIECG_OK;
}

void aiecg_threadpool_free(aiecg_threadpool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->size; i++) pthread_join(p->threads[i - 1], NULL);
    aiecg__free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->run_mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    aiecg__free(p);
}

int aiecg_threadpool_size(const aiecg_threadpool *p) { return p ? p->size : 1; }

void aiecg_threadpool_parallel_for(aiecg_threadpool *p, int ntasks, aiecg_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    if (!p || p->size == 1 || ntasks == 1) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->run_mu);
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    atomic_store(&p->next, 0);
    p->active = p->size - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->run_mu);
}
