/*
 * model_impl.h -- the scaling-law model's insides, shared by the files that
 * implement it and by nothing else: model.c (construction, anchors,
 * ceilings, theta <-> natural parameters, the small functions the rest of
 * the library uses instead of these fields), value.c (the log-likelihood
 * and its gradient), modes.c (family modes, node maps, the Laplace rule,
 * family posteriors) and hessian.c (Louis' identity at frozen nodes).
 *
 * The marginal likelihood and gradient of the latent-variable scaling law
 * (Cai et al., arXiv 2512.06553; spec scaling-law.md).
 *
 * Family f's latent vector is written alpha = L z with z ~ N(0, I) and
 * Sigma = L L^T, so every family integrates against a standard normal:
 *     log L_f = log int exp(h_f(z)) dz,
 *     h_f(z)  = sum_{cells of f} log Beta(y | eta0_c + a_j . z) + log phi_K(z),
 * where eta0_c = lambda_j^T B^T x_i + b_j and a_j = L^T lambda_j.  Because
 * alpha is shared by the whole family, the random part of eta depends on the
 * benchmark only, which keeps Newton steps and node evaluations cheap.
 *
 * Integration is adaptive: Newton finds the mode z* of h_f, the negative
 * Hessian there is factored R R^T, and the rule's nodes are mapped to
 * z = z* + R^{-T} u.  The gradient is the posterior expectation of the
 * complete-data score (Fisher's identity) under the same nodes:
 *     d log L_f / d theta = sum_k pi_k d h_f(z_k) / d theta,
 * which is the exact gradient of the quadrature sum with the node map held
 * fixed, and differs from the derivative of the adaptive sum only by the
 * (tiny) quadrature error.
 *
 * Families are independent: they are computed in parallel and summed in
 * family order, so results do not depend on the number of threads.
 */
#ifndef LS_MODEL_IMPL_H
#define LS_MODEL_IMPL_H

#include "scaling/model.h"
#include "kernel/rules.h"
#include "kernel/special.h"

#include <math.h>

#define LOG_2PI 1.8378770664093454836
#define WEIGHT_CUT 1e-15
#define LAPLACE_FLOOR 0.5 /* the Laplace curvature floor d (laplace_logdet in modes.c) */

struct ls_model {
    const ls_data *d;           /* borrowed: must outlive the model */
    size_t K, J, p, F, dim;
    size_t *anchor;             /* K: benchmark anchoring skill k    */
    long *anchor_of;            /* J: skill anchored by j, or -1     */
    size_t *lam_off;            /* J: offset of column j in theta    */
    size_t off_b, off_phi, off_w;
    int hetero;                 /* log phi_ij = log phi_j + gamma^T x_i (x standardised) */
    size_t off_g;               /* gamma (p) after w, when hetero     */
    size_t off_k, nkap;         /* kappa (nkap) after gamma            */
    /* The family-by-benchmark random effect (fit option family_effect):
     * eta_ij gains u_fj = tau_j v_fj, v_fj ~ N(0, 1) independent of z and
     * across benchmarks, so each family's integrand given z is a product
     * of one-dimensional integrals, one per benchmark it has cells on
     * (lsm_block in modes.c, adaptive Gauss-Hermite in v). */
    int fe;
    size_t off_t;               /* tau (J, signed) after kappa          */
    double *tau;                /* J                                   */
    size_t *bcell;              /* ncell: the cells of each family grouped by benchmark */
    size_t *bstart;             /* F x (J + 1): block (f, j) is bcell[bstart[f(J+1)+j] ..) */
    ls_rule vrule;              /* the inner one-dimensional rule      */
    double *fe_map;             /* F x n x J x 2: the inner maps of the last adapted evaluation,
                                 * which a frozen one reuses (its value is then smooth in theta
                                 * and the gradient exact) */
    long *kap_of;               /* J: index of j's kappa, or -1 (fixed ceiling) */
    double *ceil, *dceil, *d2ceil; /* J: ceiling d_j, d d_j/d kappa_j, d^2 d_j/d kappa_j^2 */
    double *cphi, *clgphi, *cpsiphi; /* ncell: per-cell precision (hetero) */
    ls_rule rule;
    unsigned threads;
    int freeze;                 /* reuse stored modes and curvatures (tests) */
    double eta_clamp;           /* > 0: clip eta into [-eta_clamp, eta_clamp] (reference mode) */
    double lap_floor;           /* Laplace: curvature eigenvalue floor d (laplace_logdet) */
    size_t maxcell;
    double *zmode;              /* F x K: last posterior modes (z scale) */
    double *fam_ll;             /* F                                  */
    double *fam_grad;           /* F x dim                            */
    double *fam_chol;           /* F x K x K: curvature factor at mode */
    double *fam_center;         /* F x K: node map z = center + A u   */
    double *fam_map;            /* F x K x K: A (row-major)           */
    double *fam_logdet;         /* F: log |det A|                     */
    double *fam_se;             /* F: standard error of fam_ll from the rule's blocks, set by
                                 * value-only evaluations (0: none) */
    int cv;                     /* per-family rule, value only: the normal control variate */
    const unsigned char *only;  /* F flags: evaluate only these families (NULL: all); the
                                 * total then sums stale values, read fam_ll */
    int *fam_newton_fail;       /* F                                  */
    /* natural parameters of the current evaluation */
    double *B, *lam, *b, *phi, *lgphi, *psiphi, *L, *a;
    double *rowc, *dL, *wv;      /* Sigma's rows: sigma_rows in model.c */
    double *theta0;             /* n x K: B^T x_i                     */
    double *eta0;               /* ncell                              */
    double *scratch;            /* per thread                         */
    size_t scratch_len;
};

/* ---------------------------------------------------------------- */
/* One family: workspace and the kernels every part shares           */
/* ---------------------------------------------------------------- */

typedef struct fam_ws {
    double *z, *zn, *g, *step, *H, *R, *Gj, *Hj, *Fj, *r, *hk, *zk, *ebar, *dbar, *Zhat, *GL, *v;
    double *CA, *qj; /* Laplace gradient: M a_j (J x K), a_j' M a_j (J) */
    double *M, *ev, *EV, *EC; /* Laplace: d logdet_s / dC (K x K), eigen work (K, K x K, K x K) */
    double *kbar;             /* per cell: weight of d loglik / d ceiling (maxcell) */
    double *uf, *lwf;         /* a per-family rule's points (n x K) and log weights (n) */
    double *vm;               /* family effect: the inner maps (centre, scale; J x 2) of the
                               * last lsm_fam_h */
    double *vmap;             /* the same for every node placed (n x J x 2) */
    double *vt;               /* the inner rule's log terms (its n; 4 n doubles) */
    double *vrho;             /* the inner weights of every block at every node placed
                               * (n x J x the inner rule's n), for the gradient */
    double *vrow;             /* NULL, or where lsm_fam_h leaves the inner weights (J x n) */
    const double *vfix;       /* NULL, or the inner maps (J x 2) lsm_fam_h must use as they are */
    int vwarm;                /* 1: the inner Newton starts from vm (the same family's last
                               * call); 0: from v = 0.  lsm_family_eval clears it, so that a
                               * family's value does not depend on what a thread did before */
    int floored;              /* M is the floored curvature's, not C^-1 */
    ls_beta_cell *bc;         /* Laplace: each cell's derivatives at the mode (maxcell) */
} fam_ws;

/* The workspace of one family carved from scratch s (m->scratch_len
 * doubles per thread; scratch_size in model.c counts them). */
void lsm_ws_carve(const ls_model *m, double *s, fam_ws *w);

/* One cell's Beta log-density and derivatives.  With eta_clamp > 0 the
 * linear predictor is clipped into [-eta_clamp, eta_clamp] first, as the
 * reference implementation's published fits did (it is flat, with zero
 * derivative in eta, outside). */
static inline double lsm_cell_eval(const ls_model *m, double eta, const ls_cell *cl, int want, ls_beta_cell *bc)
{
    size_t j = cl->j;
    int flat = 0;
    if (m->eta_clamp > 0 && fabs(eta) > m->eta_clamp) {
        eta = eta > 0 ? m->eta_clamp : -m->eta_clamp;
        flat = 1;
    }
    double v;
    if (m->hetero) {
        size_t c = (size_t)(cl - m->d->cell);
        v = ls_beta_cell_eval(eta, m->d->floor[j], m->ceil[j], m->cphi[c], m->clgphi[c], m->cpsiphi[c], cl->ly,
                              cl->l1y, want, bc);
    } else
        v = ls_beta_cell_eval(eta, m->d->floor[j], m->ceil[j], m->phi[j], m->lgphi[j], m->psiphi[j], cl->ly,
                              cl->l1y, want, bc);
    if (flat && want) bc->d_eta = bc->h_eta = bc->f_eta = bc->h_el = bc->t_eta = bc->t_eel = bc->h_ed = bc->t_eed = 0;
    return v;
}

/* The random part of eta at z, per benchmark: r_j = a_j . z. */
static inline void lsm_random_part(const ls_model *m, const double *z, double *r)
{
    size_t K = m->K;
    for (size_t j = 0; j < m->J; j++) {
        double s = 0;
        for (size_t k = 0; k < K; k++) s += m->a[j * K + k] * z[k];
        r[j] = s;
    }
}

/* sum_l x_l dL_kl / dv_km */
static inline double lsm_dL_dot(const ls_model *m, size_t k, size_t mm, const double *x)
{
    const double *D = m->dL + (k * m->K + mm) * m->K;
    double s = 0;
    for (size_t l = 0; l <= k; l++) s += D[l] * x[l];
    return s;
}

/* modes.c: the family effect's block (f, j) at the random part r: log
 * int phi(v) prod_c Beta(y_c | eta0_c + r + tau_j v) dv by adaptive
 * Gauss-Hermite in v; with want, its first and second derivatives in r
 * (*G, *H: the posterior mean of the score and mean plus variance of the
 * curvature) and a positive information *Fi for Newton's fallback.  The
 * inner map (centre, scale) goes to vm[0], vm[1]. */
double lsm_block(const ls_model *m, size_t f, size_t j, double r, int want, double *G, double *H, double *Fi,
                 double *vm, fam_ws *w);
/* The inner rule's posterior weights at a stored map vm (into w->vt),
 * returning the block's value. */
double lsm_block_weights(const ls_model *m, size_t f, size_t j, double r, const double *vm, fam_ws *w);

/* value.c: log L_f and (if want_grad) its gradient into m->fam_grad[f];
 * the score from per-cell weights (lsm_assemble_score). */
int lsm_family_eval(ls_model *m, size_t f, int want_grad, fam_ws *w);
void lsm_assemble_score(const ls_model *m, size_t f, const double *e, const double *dl, const double *dk,
                        const double *Zhat, double *GL, double *gr);
/* the same from the cells of benchmark jb only (the family effect's block;
 * e, dl, dk still indexed by the family's cells) */
void lsm_assemble_part(const ls_model *m, size_t f, size_t jb, const double *e, const double *dl, const double *dk,
                       const double *Zhat, double *GL, double *gr);

/* modes.c: h_f(z) (without the constant -K/2 log 2 pi; with derivatives
 * when want), the family's mode by Newton, the Laplace node map, the nodes
 * of a map, and the Laplace rule re-adapted. */
double lsm_fam_h(const ls_model *m, size_t f, const double *z, int want, fam_ws *w);
int lsm_fam_mode(const ls_model *m, size_t f, fam_ws *w);
void lsm_laplace_map(const ls_model *m, fam_ws *w, double *A);
void lsm_place_nodes(const ls_model *m, size_t f, const double *A, const double *c, fam_ws *w);
int lsm_laplace_family(ls_model *m, size_t f, int want_grad, fam_ws *w);

#endif
