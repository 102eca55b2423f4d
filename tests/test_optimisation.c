/*
 * test_optimisation.c -- the L-BFGS driver on named reference problems
 * (Rosenbrock, an ill-conditioned quadratic), its convergence report,
 * infeasible regions, and cancellation through the progress callback; the
 * finite-difference Hessian and the damped Newton polish.
 */
#include "harness.h"
#include "kernel/optimise.h"
#include "kernel/newton.h"

static int rosenbrock(void *ctx, const double *x, double *f, double *g)
{
    (void)ctx;
    double a = 1 - x[0], b = x[1] - x[0] * x[0];
    *f = a * a + 100 * b * b;
    g[0] = -2 * a - 400 * x[0] * b;
    g[1] = 200 * b;
    return LS_OK;
}

static int quadratic(void *ctx, const double *x, double *f, double *g)
{
    size_t n = *(size_t *)ctx;
    *f = 0;
    for (size_t i = 0; i < n; i++) {
        double c = pow(10.0, 3.0 * (double)i / (double)(n - 1)), e = x[i] - 1.0 / (double)(i + 1);
        *f += 0.5 * c * e * e;
        g[i] = c * e;
    }
    return LS_OK;
}

/* infeasible for x0 < 0; minimum at x0 = 0.5 */
static int walled(void *ctx, const double *x, double *f, double *g)
{
    (void)ctx;
    if (x[0] < 0) return LS_ERR_NUMERIC;
    *f = (x[0] - 0.5) * (x[0] - 0.5) - log(x[0] + 1e-3) * 1e-6;
    g[0] = 2 * (x[0] - 0.5) - 1e-6 / (x[0] + 1e-3);
    return LS_OK;
}

static int cancel_at_5(void *ctx, const char *stage, double done, double total)
{
    (void)ctx; (void)stage; (void)total;
    return done >= 5;
}

static void rosenbrock_is_solved_to_the_gradient_tolerance(void)
{
    double x[2] = {-1.2, 1.0};
    ls_opt_options o;
    ls_opt_options_init(&o);
    o.gtol = 1e-8;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_minimise(rosenbrock, NULL, x, 2, &o, &r, &e) == LS_OK);
    CHECK(r.converged);
    CHECK(r.gmax <= 1e-8);
    CHECK_NEAR(x[0], 1, 1e-6);
    CHECK_NEAR(x[1], 1, 1e-6);
    CHECK(r.iter > 10);
}

static void ill_conditioned_quadratic_converges(void)
{
    size_t n = 50;
    double x[50] = {0};
    ls_opt_options o;
    ls_opt_options_init(&o);
    o.gtol = 1e-9;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_minimise(quadratic, &n, x, n, &o, &r, &e) == LS_OK);
    CHECK(r.converged);
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(x[i] - 1.0 / (double)(i + 1)));
    CHECK_MSG(worst < 1e-6, "worst %.3g", worst);
}

static void infeasible_steps_are_stepped_back_from(void)
{
    double x[1] = {3};
    ls_opt_options o;
    ls_opt_options_init(&o);
    o.gtol = 1e-7;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_minimise(walled, NULL, x, 1, &o, &r, &e) == LS_OK);
    CHECK_NEAR(x[0], 0.5, 1e-4);
    double bad[1] = {-1};
    CHECK(ls_minimise(walled, NULL, bad, 1, &o, &r, &e) == LS_ERR_NUMERIC);
}

static void progress_callback_cancels(void)
{
    double x[2] = {-1.2, 1.0};
    ls_opt_options o;
    ls_opt_options_init(&o);
    o.gtol = 1e-12;
    o.progress = cancel_at_5;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_minimise(rosenbrock, NULL, x, 2, &o, &r, &e) == LS_ERR_CANCEL);
    CHECK(r.iter == 5);
    CHECK(!r.converged);
}

/* f = |x|^2 / 2 with the gradient's sign flipped: no line search can end */
static int uphill(void *ctx, const double *x, double *f, double *g)
{
    (void)ctx;
    *f = 0.5 * (x[0] * x[0] + x[1] * x[1]);
    g[0] = -x[0];
    g[1] = -x[1];
    return LS_OK;
}

static int cancel_on_call_20(void *ctx, const char *stage, double done, double total)
{
    (void)stage; (void)done; (void)total;
    return ++*(int *)ctx >= 20;
}

static void cancel_reaches_a_line_search_that_never_ends(void)
{
    /* no iteration completes, so the per-iteration progress callback alone
     * would never see the interrupt (a K = 10 fit once spun like this) */
    double x[2] = {1.0, -2.0};
    int calls = 0;
    ls_opt_options o;
    ls_opt_options_init(&o);
    o.progress = cancel_on_call_20;
    o.progress_ctx = &calls;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_minimise(uphill, NULL, x, 2, &o, &r, &e) == LS_ERR_CANCEL);
    CHECK_MSG(calls == 20, "progress called %d times", calls);
    CHECK(r.iter == 0);
}

static void iteration_limit_is_reported_as_not_converged(void)
{
    double x[2] = {-1.2, 1.0};
    ls_opt_options o;
    ls_opt_options_init(&o);
    o.gtol = 1e-12;
    o.max_iter = 4;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_minimise(rosenbrock, NULL, x, 2, &o, &r, &e) == LS_OK);
    CHECK(!r.converged);
    CHECK(r.iter == 4);
    CHECK(strstr(r.reason, "limit") != NULL);
}

/* Rosenbrock's Hessian: [[2 - 400 (x1 - 3 x0^2), -400 x0], [-400 x0, 200]]. */
static void fd_hessian_matches_the_analytic_hessian(void)
{
    double x[2] = {-0.7, 1.3}, H[4], Hf[4], g0[2], f;
    double ex[4] = {2 - 400 * (x[1] - 3 * x[0] * x[0]), -400 * x[0], -400 * x[0], 200};
    ls_error e;
    CHECK(ls_fd_hessian(rosenbrock, NULL, x, 2, 1e-5, NULL, H, &e) == LS_OK);
    rosenbrock(NULL, x, &f, g0);
    CHECK(ls_fd_hessian(rosenbrock, NULL, x, 2, 1e-6, g0, Hf, &e) == LS_OK);
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(H[i], ex[i], 1e-5 * fabs(ex[i]) + 1e-6);
        CHECK_NEAR(Hf[i], ex[i], 1e-3 * fabs(ex[i]) + 1e-3);
    }
    CHECK(x[0] == -0.7 && x[1] == 1.3); /* restored */
}

/* Damped Newton: Rosenbrock from the classic start, and the quadratic (one
 * step once the damping has relaxed), each to a tight gradient tolerance. */
static void damped_newton_converges_quadratically(void)
{
    double x[2] = {-1.2, 1.0};
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.gtol = 1e-10;
    o.max_iter = 100;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_newton(rosenbrock, NULL, x, 2, &o, &r, &e) == LS_OK);
    CHECK_MSG(r.converged, "%s, max |g| %.3g", r.reason, r.gmax);
    CHECK_NEAR(x[0], 1, 1e-8);
    CHECK_NEAR(x[1], 1, 1e-8);
    CHECK_MSG(r.iter < 60, "%u Newton steps", r.iter);
    size_t n = 20;
    double q[20] = {0};
    CHECK(ls_newton(quadratic, &n, q, n, &o, &r, &e) == LS_OK);
    CHECK(r.converged);
    CHECK_MSG(r.iter <= 6, "%u Newton steps on a quadratic", r.iter);
    for (size_t i = 0; i < n; i++) CHECK_NEAR(q[i], 1.0 / (double)(i + 1), 1e-9);
    /* L-BFGS on the same problems needs many more gradient calls */
    printf("  Newton: %u steps, %u gradient calls on the 20-d quadratic\n", r.iter, r.evals);
}

/* f = x^4/4 - x^2/2 + y^2: a saddle at the origin, minima at (+-1, 0).
 * From (0, 1) the gradient has no x component, so only a step along the
 * negative curvature (the trust region's hard case) leaves the saddle. */
static int saddle(void *ctx, const double *x, double *f, double *g)
{
    (void)ctx;
    *f = 0.25 * pow(x[0], 4) - 0.5 * x[0] * x[0] + x[1] * x[1];
    g[0] = x[0] * x[0] * x[0] - x[0];
    g[1] = 2 * x[1];
    return LS_OK;
}

static void trust_region_leaves_a_saddle(void)
{
    double x[2] = {0, 1};
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.gtol = 1e-7;
    o.max_iter = 100;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_newton(saddle, NULL, x, 2, &o, &r, &e) == LS_OK);
    CHECK_MSG(r.converged, "%s (max |g| %.3g)", r.reason, r.gmax);
    CHECK_NEAR(fabs(x[0]), 1, 1e-7);
    CHECK_NEAR(x[1], 0, 1e-7);
    CHECK_NEAR(r.f, -0.25, 1e-12);
}

/* Curvature beyond 2^53: f = -5e17 x0^2 + 1e12 x0 + x1^2 / 2 + (x0^4 + x1^4) / 4.
 * The trust-region bracket for the shift mu starts at -lambda_min = 1e18,
 * where adding 1 changes nothing; it used to loop for ever there (found by
 * the fit fuzzer on a degenerate leaderboard). */
static int huge_negative_curvature(void *ctx, const double *x, double *f, double *g)
{
    (void)ctx;
    *f = -5e17 * x[0] * x[0] + 1e12 * x[0] + 0.5 * x[1] * x[1] +
         0.25 * (x[0] * x[0] * x[0] * x[0] + x[1] * x[1] * x[1] * x[1]);
    g[0] = -1e18 * x[0] + 1e12 + x[0] * x[0] * x[0];
    g[1] = x[1] + x[1] * x[1] * x[1];
    return LS_OK;
}

static void trust_region_bracket_survives_huge_curvature(void)
{
    double x[2] = {0, 1};
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.max_iter = 5;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_newton(huge_negative_curvature, NULL, x, 2, &o, &r, &e) == LS_OK);
    CHECK(r.iter >= 1);
    CHECK(isfinite(x[0]) && isfinite(x[1]));
    CHECK_MSG(r.f < 0.75, "no descent: f = %.6g", r.f);
}

/* Chained Rosenbrock in 20 dimensions: a forward-difference Hessian costs
 * 20 gradient calls, a step one or two. */
static int chained_rosenbrock(void *ctx, const double *x, double *f, double *g)
{
    size_t n = *(size_t *)ctx;
    *f = 0;
    for (size_t i = 0; i < n; i++) g[i] = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double a = 1 - x[i], b = x[i + 1] - x[i] * x[i];
        *f += a * a + 100 * b * b;
        g[i] += -2 * a - 400 * x[i] * b;
        g[i + 1] += 200 * b;
    }
    return LS_OK;
}

/* Reusing the Hessian with SR1 updates reaches the same tight optimum
 * with fewer gradient calls than a fresh difference Hessian every step. */
static void hessian_reuse_saves_gradient_calls(void)
{
    size_t n = 20;
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.gtol = 1e-8;
    o.max_iter = 500;
    ls_opt_report rf, rr;
    ls_error e;
    double x[20], y[20];
    for (size_t i = 0; i < n; i++) x[i] = y[i] = i % 2 ? 1.0 : -1.2;
    CHECK(ls_newton(chained_rosenbrock, &n, x, n, &o, &rf, &e) == LS_OK);
    o.hessian_reuse = 8;
    CHECK(ls_newton(chained_rosenbrock, &n, y, n, &o, &rr, &e) == LS_OK);
    CHECK_MSG(rf.converged, "fresh: %s, max |g| %.3g", rf.reason, rf.gmax);
    CHECK_MSG(rr.converged, "reuse: %s, max |g| %.3g", rr.reason, rr.gmax);
    /* (the chained function has a second local minimum near x_1 = -1;
     * either run may end there: both must be stationary) */
    printf("  chained Rosenbrock (n = 20): %u gradient calls, %u steps with a fresh Hessian every "
           "step; %u calls, %u steps with reuse\n", rf.evals, rf.iter, rr.evals, rr.iter);
    CHECK_MSG(rr.evals < rf.evals, "%u calls with reuse, %u fresh", rr.evals, rf.evals);
}

/* A Hessian carried from an earlier run (ls_newton_options.carry) is used
 * for the next run's first steps: on the chained Rosenbrock function, a
 * second run from a nearby point needs fewer gradient calls with it than
 * with a fresh difference Hessian, and ends at the same minimum; a carried
 * matrix that is wrong (the identity times 1e6, a step far too short) is
 * given two tries and then replaced, so the run still converges. */
static void carried_hessian_starts_the_next_run(void)
{
    size_t n = 20;
    double *carry = calloc(n * n, sizeof(double));
    CHECK(carry != NULL);
    if (!carry) return;
    int valid = 0;
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.gtol = 1e-8;
    o.max_iter = 500;
    o.hessian_reuse = 3;
    o.carry = carry;
    o.carry_valid = &valid;
    ls_opt_report r0, rc, rf;
    ls_error e;
    double x[20], y[20], z[20];
    for (size_t i = 0; i < n; i++) x[i] = i % 2 ? 1.0 : -1.2;
    CHECK(ls_newton(chained_rosenbrock, &n, x, n, &o, &r0, &e) == LS_OK);
    CHECK_MSG(r0.converged && valid, "first run: %s, carried %d", r0.reason, valid);
    for (size_t i = 0; i < n; i++) y[i] = z[i] = x[i] + (i % 3 ? 0.01 : -0.01);
    CHECK(ls_newton(chained_rosenbrock, &n, y, n, &o, &rc, &e) == LS_OK);
    o.carry = NULL;
    CHECK(ls_newton(chained_rosenbrock, &n, z, n, &o, &rf, &e) == LS_OK);
    CHECK_MSG(rc.converged && rf.converged, "carried: %s; fresh: %s", rc.reason, rf.reason);
    double dmax = 0;
    for (size_t i = 0; i < n; i++) dmax = fmax(dmax, fmax(fabs(y[i] - x[i]), fabs(z[i] - x[i])));
    CHECK_MSG(dmax < 1e-6, "the runs ended %.3g apart", dmax);
    printf("  from a nearby point: %u gradient calls with the carried Hessian, %u with a fresh one\n", rc.evals,
           rf.evals);
    CHECK_MSG(rc.evals < rf.evals, "%u calls carried, %u fresh", rc.evals, rf.evals);
    /* a wrong carried matrix */
    for (size_t i = 0; i < n * n; i++) carry[i] = i % (n + 1) ? 0 : 1e6;
    valid = 1;
    o.carry = carry;
    for (size_t i = 0; i < n; i++) y[i] = i % 2 ? 1.0 : -1.2;
    CHECK(ls_newton(chained_rosenbrock, &n, y, n, &o, &rc, &e) == LS_OK);
    CHECK_MSG(rc.converged, "from a wrong carried matrix: %s, max |g| %.3g", rc.reason, rc.gmax);
    free(carry);
}

/* On a refreshed objective that stops improving (a noisy stand-in for a
 * coarse adaptive rule), stop_at_noise returns the best refreshed point. */
static int noisy_refresh_calls = 0;
static int noisy_refresh(void *ctx, const double *x, double *f, double *g)
{
    int rc = quadratic(ctx, x, f, g);
    /* each refresh shifts the objective up by 1e-3 (as re-adapted nodes
     * shift a coarse rule's value): steps gaining less cannot be seen */
    *f += 1e-3 * (double)noisy_refresh_calls++;
    return rc;
}

static void stop_at_noise_returns_the_best_point(void)
{
    size_t n = 20;
    double q[20];
    for (size_t i = 0; i < n; i++) q[i] = 5;
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.gtol = 1e-12;
    o.max_iter = 50;
    o.refresh = noisy_refresh;
    o.stop_at_noise = 1;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_newton(quadratic, &n, q, n, &o, &r, &e) == LS_OK);
    CHECK(!r.converged);
    CHECK_MSG(strstr(r.reason, "resolution") != NULL, "%s", r.reason);
    CHECK_MSG(r.iter < 10, "%u steps", r.iter);
    double f, g[20];
    quadratic(&n, q, &f, g);
    CHECK_MSG(f < 1e-2, "returned point has f = %g", f);
}

/* A double well, f = (x0^2 - 1)^2 + x1^2 / 2 + x0 x1 / 4: minima near
 * (+-1, -+0.25), both of value -1/32 + O(1e-3). */
static int double_well(void *ctx, const double *x, double *f, double *g)
{
    (void)ctx;
    double a = x[0] * x[0] - 1;
    *f = a * a + 0.5 * x[1] * x[1] + 0.25 * x[0] * x[1];
    g[0] = 4 * x[0] * a + 0.25 * x[1];
    g[1] = x[1] + 0.25 * x[0];
    return LS_OK;
}

/* A run heading for a known minimum stops there early (with the quadratic
 * model's value); one heading for the other minimum, or told a value the
 * known point does not have, runs to convergence. */
static void known_minimum_stops_a_run_heading_there(void)
{
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.gtol = 1e-10;
    o.max_iter = 100;
    ls_opt_report r0, r;
    ls_error e;
    double xk[2] = {1.3, 0.4};
    CHECK(ls_newton(double_well, NULL, xk, 2, &o, &r0, &e) == LS_OK);
    CHECK(r0.converged && !r0.abandoned);
    CHECK(xk[0] > 0.9);
    double fk = r0.f;

    o.known = xk;
    o.f_known = fk;
    o.known_tol = 0.01;
    double x[2] = {1.3, 0.4};
    CHECK(ls_newton(double_well, NULL, x, 2, &o, &r, &e) == LS_OK);
    CHECK_MSG(r.abandoned && !r.converged, "%s", r.reason);
    CHECK_MSG(r.iter < r0.iter, "%u steps against %u", r.iter, r0.iter);
    CHECK_MSG(fabs(r.f_pred - fk) <= 0.01, "predicted %.6f, known %.6f", r.f_pred, fk);
    printf("  double well: abandoned after %u of %u steps, predicted %.6f (minimum %.6f)\n", r.iter,
           r0.iter, r.f_pred, fk);

    double y[2] = {-1.3, 0.4}; /* the other well */
    CHECK(ls_newton(double_well, NULL, y, 2, &o, &r, &e) == LS_OK);
    CHECK_MSG(r.converged && !r.abandoned, "%s", r.reason);
    CHECK(y[0] < -0.9);

    o.f_known = fk - 0.05; /* the right point with a value it does not have */
    double z[2] = {1.3, 0.4};
    CHECK(ls_newton(double_well, NULL, z, 2, &o, &r, &e) == LS_OK);
    CHECK_MSG(r.converged && !r.abandoned, "%s", r.reason);
}

/* f = sum x_i^4: Newton converges only linearly (each step keeps 2/3 of
 * x), so the gains shrink geometrically; ftol stops it once two steps in
 * a row gained less, short of gtol and reported as stalled. */
static int quartic(void *ctx, const double *x, double *f, double *g)
{
    size_t n = *(size_t *)ctx;
    *f = 0;
    for (size_t i = 0; i < n; i++) {
        *f += pow(x[i], 4);
        g[i] = 4 * pow(x[i], 3);
    }
    return LS_OK;
}

static void ftol_stops_a_newton_crawl(void)
{
    size_t n = 3;
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.gtol = 1e-12;
    o.max_iter = 200;
    ls_opt_report r0, r;
    ls_error e;
    double x0[3] = {1, -2, 0.5}, x[3] = {1, -2, 0.5};
    CHECK(ls_newton(quartic, &n, x0, n, &o, &r0, &e) == LS_OK);
    CHECK(r0.converged && !r0.stalled);
    o.ftol = 1e-4;
    CHECK(ls_newton(quartic, &n, x, n, &o, &r, &e) == LS_OK);
    CHECK_MSG(r.stalled && !r.converged, "%s", r.reason);
    CHECK_MSG(r.iter < r0.iter, "%u steps against %u", r.iter, r0.iter);
    /* the last two steps gained < 1e-4 each: the next gains are smaller */
    CHECK_MSG(r.f < 1e-3, "f = %g", r.f);
    CHECK_MSG(r.f > 1e-12, "f = %g: it did not stop early", r.f);
}

static void newton_reports_cancellation(void)
{
    double x[2] = {-1.2, 1.0};
    ls_newton_options o;
    ls_newton_options_init(&o);
    o.gtol = 1e-12;
    o.max_iter = 100;
    o.progress = cancel_at_5;
    ls_opt_report r;
    ls_error e;
    CHECK(ls_newton(rosenbrock, NULL, x, 2, &o, &r, &e) == LS_ERR_CANCEL);
}

int main(void)
{
    RUN(rosenbrock_is_solved_to_the_gradient_tolerance);
    RUN(cancel_reaches_a_line_search_that_never_ends);
    RUN(trust_region_leaves_a_saddle);
    RUN(trust_region_bracket_survives_huge_curvature);
    RUN(hessian_reuse_saves_gradient_calls);
    RUN(carried_hessian_starts_the_next_run);
    RUN(stop_at_noise_returns_the_best_point);
    RUN(ill_conditioned_quadratic_converges);
    RUN(infeasible_steps_are_stepped_back_from);
    RUN(progress_callback_cancels);
    RUN(iteration_limit_is_reported_as_not_converged);
    RUN(fd_hessian_matches_the_analytic_hessian);
    RUN(damped_newton_converges_quadratically);
    RUN(newton_reports_cancellation);
    RUN(known_minimum_stops_a_run_heading_there);
    RUN(ftol_stops_a_newton_crawl);
    return h_finish();
}
