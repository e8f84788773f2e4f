/* kullback explorer: the measures, ported from kullback.measures (kernels and evaluation).
 *
 * The same formulas as the library, term by term and in the same order, so that the page
 * agrees with `kb` (the browser tests check it to 1e-12, the page to the digits it shows):
 *  - H(P)      = -sum P log P with 0 log 0 = 0, P = p / sum(p); an entry holding all but 2^-16
 *                of the mass gets its term from the others, -P log1p(rest/top)  (entropy_sum)
 *  - KL(P||Q)  = sum of Bregman terms P (x - 1 - log x), x = Q/P, each >= 0 (kl_terms):
 *                u - log1p(u) with u = (Q - P)/P where x >= 1/2 (a series near 0, so nearly
 *                identical P and Q keep their relative accuracy); x - 1 - log x below 1/2;
 *                P = 0 contributes Q; P > 0 = Q contributes +inf; x > 2^512 contributes Q - P
 *  - H(P,Q)    = H(P) + KL(P||Q)  (two non-negative sums: no cancellation)
 *  - 4 JS(P,Q) = Bregman terms of (2P, P+Q) + those of (2Q, P+Q), with the exact difference
 *                Q - P (js_terms); JS is clipped to [0, ln 2]; the JS distance is sqrt(JS)
 *  - P and Q are put on a common total with the rounding of that scaling recovered exactly
 *    (pair_with_difference), and what rounded totals add to the sum is taken off again
 *    (the table's total_correction); where scaling or normalising pushes a positive mass out
 *    of the normal range, the log-space kernels take over
 *  - per-outcome terms (the table) follow kullback.measures.contributions
 */
"use strict";

const KBMeasures = (() => {
  const LN2 = Math.log(2);
  const HALF = 512;                  // half the binary exponent range of float64
  const HI = Math.pow(2, HALF);
  const TINY_NORMAL = 2.2250738585072014e-308;
  const MAX = Number.MAX_VALUE;
  const SERIES = 1 / 16;
  const DOMINANT = 1 - Math.pow(2, -16);
  const ATANH_TAIL = [1 / 3, 1 / 5, 1 / 7, 1 / 9, 1 / 11, 1 / 13];
  const EXP_TAIL = (() => {          // 1/2!, 1/3!, ..., 1/11!
    const out = [];
    let f = 1;
    for (let k = 2; k <= 11; k++) { f *= k; out.push(1 / f); }
    return out;
  })();
  const UNITS = { bits: Math.log(2), nats: 1, bans: Math.log(10) };

  function sum(xs) {
    let s = 0;
    for (const x of xs) s += x;
    return s;
  }

  function horner(x, c) {
    let acc = x * c[c.length - 1];
    for (let k = c.length - 2; k >= 1; k--) acc = (acc + c[k]) * x;
    return acc + c[0];
  }

  /** u - log1p(u) >= 0, accurate for tiny |u| (kullback.measures._kernels.log1pmx). */
  function log1pmx(u) {
    if (Math.abs(u) <= SERIES) {
      const t = u / (u + 2);
      const s = t * t;
      return (s * 2) * (1 / (1 - t) - t * horner(s, ATANH_TAIL));
    }
    return u - Math.log1p(u);
  }

  /** expm1(d) - d >= 0, accurate for tiny |d| (kullback.measures._kernels.expm1mx). */
  function expm1mx(d) {
    if (Math.abs(d) <= SERIES) return (d * d) * horner(d, EXP_TAIL);
    return Math.expm1(d) - d;
  }

  /** P log P (<= 0), 0 where P = 0. */
  function entropyTerm(P) {
    return P > 0 ? P * Math.log(P) : 0;
  }

  /** Sum of P log P from masses p with total s (kullback.measures._kernels.entropy_sum): an
   * entry holding all but 2^-16 of the mass gets its term from the others. */
  function entropySum(p, s) {
    const terms = p.map((v) => entropyTerm(v / s));
    const top = Math.max(...p);
    if (!(top > DOMINANT * s)) return sum(terms);
    const rest = sum(p.map((v) => (v === top ? 0 : v)));
    const topTerm = -(top / s) * Math.log1p(rest / top);
    return sum(terms.map((t, i) => (p[i] === top ? 0 : t))) + topTerm;
  }

  /** x - 1 - log x for x < 1/2 (log x as log Q - log P below the normal range). */
  function farPhi(P, Q, x) {
    const lx = x >= TINY_NORMAL ? Math.log(x) : Math.log(Q) - Math.log(P);
    return (x - 1) - lx;
  }

  /** Bregman KL term P (x - 1 - log x), x = Q/P; `diff` is Q - P if known more exactly. */
  function klTerm(P, Q, diff) {
    if (P > 0) {
      const x = Q / P;
      if (x <= HI) {
        if (x >= 0.5) return P * log1pmx((diff === undefined ? Q - P : diff) / P);
        return P * farPhi(P, Q, x);
      }
    }
    return Q - P;
  }

  /** Four times the JS term: Bregman terms of (2P, P+Q) and (2Q, P+Q). */
  function js4Term(P, Q, diff) {
    const S = P + Q;
    const D = diff === undefined ? Q - P : diff;
    return klTerm(P + P, S, D) + klTerm(Q + Q, S, -D);
  }

  function split(a) {
    const t = a * 134217729;
    const hi = t - (t - a);
    return [hi, a - hi];
  }

  /** a*b - fl(a*b), exactly (Dekker's two-product). */
  function productError(a, b, ab) {
    const [ah, al] = split(a);
    const [bh, bl] = split(b);
    return ((ah * bh - ab) + ah * bl + al * bh) + al * bl;
  }

  /** (A, B, D, total, direct): kullback.measures._kernels.pair_with_difference. */
  function pairWithDifference(p, q, sp, sq) {
    const up = sp >= sq;
    const c = up ? sp / sq : sq / sp;
    const fine = c <= MAX;
    let fp = fine && !up ? c : 1;
    let fq = fine && up ? c : 1;
    const total = fine ? (up ? sp : sq) : 1;
    const big = up ? sp : sq, small = up ? sq : sp;
    // kullback.measures._kernels.direct_rows
    const direct = small >= 1 / HI && big <= MAX * Math.pow(2, -32) && big <= small * HI;
    if (!direct) { fp = 1; fq = 1; }
    const A = p.map((v) => (direct ? v * fp : v / sp));
    const B = q.map((v) => (direct ? v * fq : v / sq));
    const exact = fp === 1 && fq === 1;
    const D = B.map((b, i) => {
      const d = b - A[i];
      return exact || !direct ? d : d + (productError(fq, q[i], b) - productError(fp, p[i], A[i]));
    });
    return { A, B, D, total: direct ? total : 1, direct };
  }

  // log space, for totals too far apart to scale (never the case for the page's own pairs)
  const logMasses = (x, s) => x.map((v) => (v > 0 ? Math.log(v) - Math.log(s) : -Infinity));

  function logKlTerm(lp, lq) {
    const fp = lp > -Infinity, fq = lq > -Infinity;
    if (fp && fq) {
      const d = lq - lp;
      if (d <= HALF * LN2) return Math.exp(lp) * expm1mx(d);
    }
    return fp && !fq ? Infinity : Math.exp(lq) - Math.exp(lp);
  }

  function bregmanFromLogRatio(P, d, M) {
    return d <= HALF * LN2 ? P * expm1mx(d) : M - P;
  }

  function logJs4Term(lp, lq) {
    const P = Math.exp(lp), Q = Math.exp(lq);
    if (!(lp > -Infinity && lq > -Infinity)) return 2 * ((P + Q) * LN2);
    const t = lq - lp;
    const c = Math.log1p(0.5 * Math.expm1(-Math.abs(t)));
    const M = 0.5 * (P + Q);
    const inner = bregmanFromLogRatio(P, Math.max(t, 0) + c, M)
      + bregmanFromLogRatio(Q, Math.max(-t, 0) + c, M);
    return 2 * inner;
  }

  /** Sum of a homogeneous measure's terms (KL or 4 JS) of (p, q), as the library evaluates it
   * (kullback.measures.discrete._homogeneous_sum): on the scaled pair, less what the rounded
   * normalisers add (`correction` of the relative excess delta of B's total, never below 0),
   * or in log space where scaling or normalising pushed a positive mass out of the normal
   * range. */
  function homogeneous(p, q, term, logTerm, correction) {
    const sp = sum(p), sq = sum(q);
    const { A, B, D, total, direct } = pairWithDifference(p, q, sp, sq);
    const raw = sum(A.map((a, i) => term(a, B[i], D[i]))) / total;
    const corrected = raw - correction(sum(D) / total);
    const value = corrected > 0 ? corrected : 0;
    // kullback.measures.discrete._out_of_range: a positive mass became 0 or subnormal
    const lost = A.some((a, i) => (a < TINY_NORMAL && p[i] > 0 && a !== p[i])
      || (B[i] < TINY_NORMAL && q[i] > 0 && B[i] !== q[i]));
    if (!lost) return value;
    const lp = logMasses(p, sp), lq = logMasses(q, sq);
    return sum(lp.map((l, i) => logTerm(l, lq[i])));
  }

  const entropyNats = (p) => 0 - entropySum(p, sum(p));
  const klNats = (p, q) => homogeneous(p, q, klTerm, logKlTerm, log1pmx);
  const js4Correction = (delta) => 0.5 * delta * delta;
  const jsNats = (p, q) =>
    Math.min(Math.max(0.25 * homogeneous(p, q, js4Term, logJs4Term, js4Correction), 0), LN2);

  /** The eight measures of `kullback compare`, in `unit` ("bits", "nats" or "bans"). */
  function measures(p, q, unit) {
    const lb = UNITS[unit];
    const hp = entropyNats(p), hq = entropyNats(q);
    const klpq = klNats(p, q), klqp = klNats(q, p);
    const js = jsNats(p, q) / lb;
    return {
      entropy_p: hp / lb,
      entropy_q: hq / lb,
      cross_entropy_pq: (hp + klpq) / lb,
      cross_entropy_qp: (hq + klqp) / lb,
      kl_pq: klpq / lb,
      kl_qp: klqp / lb,
      js_divergence: js,
      js_distance: js > 0 ? Math.sqrt(js) : 0,
    };
  }

  /** log(P/Q) for P, Q > 0, accurate for nearly equal P and Q (log1p where P/Q is in [1/2, 2]). */
  function logRatio(P, Q) {
    const near = P <= 2 * Q && Q <= 2 * P;
    return near ? Math.log1p((P - Q) / Q) : Math.log(P) - Math.log(Q);
  }

  /** Per-outcome terms as `kullback explain` shows them: -p log p, p log(p/q), -p log q. */
  function contributions(p, q, unit) {
    const lb = UNITS[unit];
    const sp = sum(p), sq = sum(q);
    return p.map((v, i) => {
      const a = v / sp, b = q[i] / sq;
      const kl = a > 0 ? (b > 0 ? a * logRatio(a, b) : Infinity) : 0;
      const ce = a > 0 ? 0 - a * Math.log(b) : 0;
      return { entropy_p: (0 - entropyTerm(a)) / lb, kl: kl / lb, cross_entropy: ce / lb };
    });
  }

  return { UNITS, measures, contributions, klTerm, js4Term };
})();
