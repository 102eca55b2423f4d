/*
 * test_optimisation.c -- the L-BFGS driver on named reference problems
 * (Rosenbrock, an ill-conditioned quadratic), its convergence report,
 * infeasible regions, and cancellation through the progress callback.
 */
#include "harness.h"
#include "optimisation/optimise.h"

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

int main(void)
{
    RUN(rosenbrock_is_solved_to_the_gradient_tolerance);
    RUN(ill_conditioned_quadratic_converges);
    RUN(infeasible_steps_are_stepped_back_from);
    RUN(progress_callback_cancels);
    RUN(iteration_limit_is_reported_as_not_converged);
    return h_finish();
}
