// C++ baselines for corobench: one round trip (a switch there and back)
// with Boost.Context's jump_fcontext and with glibc's swapcontext.
//
// Usage: baselines CASE N COUNT, CASE one of fcontext, swapcontext.
// Prints COUNT lines "N ELAPSED_NS TSC_TICKS" and nothing else.
//
// The harness does no floating-point arithmetic. On the machine this was
// written on, jump_fcontext (which saves and reloads MXCSR and the x87
// control word on every switch) ran about 150 ns slower per round trip
// once the process had done any floating-point work: a division in the
// timing code was enough. corobench does the arithmetic instead.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <ucontext.h>
#ifdef HAVE_BOOST_CONTEXT
#include <boost/context/detail/fcontext.hpp>
#endif
#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t ticks() { return __rdtsc(); }
#elif defined(__aarch64__)
static inline uint64_t ticks() { uint64_t v; asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v)); return v; }
#endif

static long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static void report(long n, long ns, uint64_t t) { printf("%ld %ld %llu\n", n, ns, (unsigned long long)t); }

#ifdef HAVE_BOOST_CONTEXT
namespace bctx = boost::context::detail;
static void fbody(bctx::transfer_t t) { for (;;) t = bctx::jump_fcontext(t.fctx, nullptr); }
static void run_fcontext(long n, int count) {
  static char stack[64 << 10];
  bctx::fcontext_t c = bctx::make_fcontext(stack + sizeof stack, sizeof stack, fbody);
  for (long i = 0; i < 1000; i++) c = bctx::jump_fcontext(c, nullptr).fctx;  // warm up
  for (int r = 0; r < count; r++) {
    long t0 = now_ns(); uint64_t k0 = ticks();
    for (long i = 0; i < n; i++) c = bctx::jump_fcontext(c, nullptr).fctx;
    uint64_t k1 = ticks(); long t1 = now_ns();
    report(n, t1 - t0, k1 - k0);
  }
}
#endif

static ucontext_t main_ctx, co_ctx;
static void sbody() { for (;;) swapcontext(&co_ctx, &main_ctx); }
static void run_swapcontext(long n, int count) {
  static char stack[64 << 10];
  getcontext(&co_ctx);
  co_ctx.uc_stack.ss_sp = stack;
  co_ctx.uc_stack.ss_size = sizeof stack;
  co_ctx.uc_link = &main_ctx;
  makecontext(&co_ctx, sbody, 0);
  for (long i = 0; i < 1000; i++) swapcontext(&main_ctx, &co_ctx);
  for (int r = 0; r < count; r++) {
    long t0 = now_ns(); uint64_t k0 = ticks();
    for (long i = 0; i < n; i++) swapcontext(&main_ctx, &co_ctx);
    uint64_t k1 = ticks(); long t1 = now_ns();
    report(n, t1 - t0, k1 - k0);
  }
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s fcontext|swapcontext N COUNT\n", argv[0]); return 2; }
  long n = atol(argv[2]); int count = atoi(argv[3]);
#ifdef HAVE_BOOST_CONTEXT
  if (!strcmp(argv[1], "fcontext")) { run_fcontext(n, count); return 0; }
#endif
  if (!strcmp(argv[1], "swapcontext")) { run_swapcontext(n, count); return 0; }
  fprintf(stderr, "case %s not built\n", argv[1]);
  return 2;
}
