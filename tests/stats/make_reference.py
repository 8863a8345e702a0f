#!/usr/bin/python3
"""Reference values for tests/unit/stats_test.c, computed with scipy.

Run:  /usr/bin/python3 tests/stats/make_reference.py > tests/stats/reference.h

Summaries, the normal distribution and the Mann-Whitney p-values come from
numpy/scipy. scipy has no Hodges-Lehmann interval nor (in 1.10) a BH
function, so those are computed here independently of the C code: the
exact null distribution of U by the Mann-Whitney recursion in Python
integers (the C code uses Gaussian-binomial coefficients), and BH by its
definition q_i = min over p_(j) >= p_i of m p_(j) / j.
"""
import functools
import math
import sys

import numpy as np
from scipy import stats

rng = np.random.default_rng(20240611)
out = []


def arr(name, xs):
    body = ", ".join(repr(float(x)) for x in xs) if len(xs) else "0"
    out.append(f"static const double {name}[] = {{{body}}};")


def sample(n, kind):
    if kind == "lognormal":
        return list(np.exp(rng.normal(0, 0.2, n)) * 1000)
    if kind == "ties":
        return list(np.round(rng.normal(10, 2, n)))
    if kind == "identical":
        return [7.5] * n
    if kind == "int":
        return list(rng.integers(0, 5, n).astype(float))
    raise ValueError(kind)


# ---- summaries ---------------------------------------------------------
summ = []
for i, (n, kind) in enumerate([(1, "lognormal"), (2, "lognormal"),
                               (3, "ties"), (4, "lognormal"), (5, "int"),
                               (7, "identical"), (10, "lognormal"),
                               (11, "ties"), (20, "int"), (30, "lognormal")]):
    x = sample(n, kind)
    arr(f"summ_x{i}", x)
    a = np.array(x)
    sd = float(np.std(a, ddof=1)) if n > 1 else float("nan")
    med = float(np.median(a))
    summ.append((n, f"summ_x{i}", float(np.mean(a)), med,
                 float(np.quantile(a, 0.1)), float(np.quantile(a, 0.25)),
                 float(np.quantile(a, 0.9)),
                 float(np.median(np.abs(a - med))), sd))


# ---- Mann-Whitney ------------------------------------------------------
def mwu(a, b, alt, method):
    r = stats.mannwhitneyu(b, a, alternative=alt, method=method)
    return float(r.statistic), float(r.pvalue)


mw = []
pairs = []
for na in (1, 2, 3, 5, 8, 9, 12, 20, 30):
    for nb in (1, 4, 8, 10, 25, 30):
        kind = ["lognormal", "ties", "int"][(na + nb) % 3]
        a = sample(na, kind)
        shift = [1.0, 1.05, 1.2][(na * nb) % 3]
        b = [x * shift for x in sample(nb, kind)]
        pairs.append((a, b))
pairs.append(([5.0] * 6, [5.0] * 7))        # identical samples
pairs.append(([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]))  # complete separation
pairs.append(([4.0, 5.0, 6.0], [1.0, 2.0, 3.0]))
for i, (a, b) in enumerate(pairs):
    arr(f"mw_a{i}", a)
    arr(f"mw_b{i}", b)
    for method, cname in (("auto", "PG_MWU_AUTO"),
                          ("asymptotic", "PG_MWU_ASYMPTOTIC"),
                          ("exact", "PG_MWU_EXACT")):
        ties = len(set(a + b)) < len(a + b)
        if method == "exact" and (ties or len(a) + len(b) > 60):
            continue
        u, pg = mwu(a, b, "greater", method)
        _, p2 = mwu(a, b, "two-sided", method)
        mw.append((len(a), len(b), f"mw_a{i}", f"mw_b{i}", cname, u, pg, p2))


# ---- Hodges-Lehmann ----------------------------------------------------
@functools.lru_cache(maxsize=None)
def count(m, n, u):
    """Arrangements of m a's and n b's with statistic u (recursion)."""
    if u < 0 or u > m * n:
        return 0
    if m == 0 or n == 0:
        return 1 if u == 0 else 0
    return count(m - 1, n, u - n) + count(m, n - 1, u)


def hl_rank(m, n, conf):
    mn = m * n
    alpha = 1 - conf
    if m + n <= 60:
        total = math.comb(m + n, m)
        cum = 0
        k = 0
        while k < mn:
            cum += count(m, n, k)
            if cum * 2 >= alpha * total * (1 - 1e-12):
                break
            k += 1
    else:
        z = stats.norm.ppf(1 - alpha / 2)
        k = max(0, math.floor(mn / 2 - z * math.sqrt(mn * (m + n + 1) / 12)))
    return min(max(k, 1), (mn + 1) // 2)


sys.setrecursionlimit(100000)
hl = []
for i, (na, nb, conf) in enumerate([(1, 1, 0.95), (2, 3, 0.95), (5, 5, 0.95),
                                    (7, 8, 0.95), (10, 10, 0.95),
                                    (10, 10, 0.99), (15, 12, 0.9),
                                    (20, 20, 0.95), (30, 30, 0.95),
                                    (31, 30, 0.95), (40, 35, 0.99),
                                    (6, 6, 0.95)]):
    kind = "ties" if i % 4 == 3 else "lognormal"
    a = [math.log(x) for x in sample(na, kind)] if kind == "lognormal" \
        else sample(na, kind)
    b = [x + 0.05 for x in (
        [math.log(y) for y in sample(nb, kind)] if kind == "lognormal"
        else sample(nb, kind))]
    if i == 11:
        a, b = [3.0] * na, [3.0] * nb
    arr(f"hl_a{i}", a)
    arr(f"hl_b{i}", b)
    d = np.sort(np.subtract.outer(np.array(b), np.array(a)).ravel())
    k = hl_rank(na, nb, conf)
    hl.append((na, nb, f"hl_a{i}", f"hl_b{i}", conf, k,
               float(np.median(d)), float(d[k - 1]), float(d[na * nb - k])))


# ---- Benjamini-Hochberg ------------------------------------------------
def bh(p):
    m = len(p)
    srt = sorted(p)
    q = []
    for pi in p:
        best = 1.0
        for j, pj in enumerate(srt, start=1):
            if pj >= pi:
                best = min(best, m * pj / j)
        q.append(best)
    return q


bhs = []
for i, p in enumerate([[0.01], [0.01, 0.04, 0.03, 0.5],
                       list(rng.uniform(0, 1, 30)),
                       [1e-6, 1e-5, 0.002, 0.002, 0.2, 0.9, 1.0],
                       list(np.concatenate([rng.uniform(0, 1e-4, 3),
                                            rng.uniform(0, 1, 17)]))]):
    arr(f"bh_p{i}", p)
    arr(f"bh_q{i}", bh(p))
    bhs.append((len(p), f"bh_p{i}", f"bh_q{i}"))

# ---- normal ---------------------------------------------------------------
zs = [-38.0, -10.0, -5.0, -3.0, -1.96, -1.0, -0.5, 0.0, 0.3, 1.0, 2.5, 6.0]
ps = [1e-300, 1e-20, 1e-10, 1e-5, 0.001, 0.02, 0.02425, 0.05, 0.3, 0.5,
      0.7, 0.95, 0.975, 0.99, 0.999, 1 - 1e-9]

print("/*")
print(" * reference.h - generated by tests/stats/make_reference.py with")
print(f" * scipy {__import__('scipy').__version__}, numpy {np.__version__}."
      " Do not edit.")
print(" */")
print("#ifndef PG_STATS_REFERENCE_H\n#define PG_STATS_REFERENCE_H\n")
print("#include <math.h>\n#include <stddef.h>\n")
print("\n".join(out))


def f(x):
    return "NAN" if math.isnan(x) else repr(float(x))


print("\nstatic const struct ref_summary {\n\tsize_t n;\n\tconst double *x;"
      "\n\tdouble mean, median, q10, q25, q90, mad, stddev;\n}"
      " ref_summaries[] = {")
for s in summ:
    print(f"\t{{{s[0]}, {s[1]}, " + ", ".join(f(v) for v in s[2:]) + "},")
print("};\n")
print("static const struct ref_mwu {\n\tsize_t na, nb;\n\tconst double *a, *b;"
      "\n\tint method;\n\tdouble u, p_greater, p_two_sided;\n} ref_mwus[] = {")
for m in mw:
    print(f"\t{{{m[0]}, {m[1]}, {m[2]}, {m[3]}, {m[4]}, "
          + ", ".join(f(v) for v in m[5:]) + "},")
print("};\n")
print("static const struct ref_hl {\n\tsize_t na, nb;\n\tconst double *a, *b;"
      "\n\tdouble conf;\n\tsize_t k;\n\tdouble est, lo, hi;\n} ref_hls[] = {")
for h in hl:
    print(f"\t{{{h[0]}, {h[1]}, {h[2]}, {h[3]}, {f(h[4])}, {h[5]}, "
          + ", ".join(f(v) for v in h[6:]) + "},")
print("};\n")
print("static const struct ref_bh {\n\tsize_t n;\n\tconst double *p, *q;\n}"
      " ref_bhs[] = {")
for b in bhs:
    print(f"\t{{{b[0]}, {b[1]}, {b[2]}}},")
print("};\n")
print("static const struct ref_norm {\n\tdouble z, cdf;\n} ref_cdfs[] = {")
for z in zs:
    print(f"\t{{{f(z)}, {f(stats.norm.cdf(z))}}},")
print("};\n")
print("static const struct ref_ppf {\n\tdouble p, z;\n} ref_ppfs[] = {")
for p in ps:
    print(f"\t{{{f(p)}, {f(stats.norm.ppf(p))}}},")
print("};\n")
print("#endif")
