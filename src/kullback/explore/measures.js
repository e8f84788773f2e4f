/* kullback explorer: the measures, ported from kullback.measures (probability space).
 *
 * The same formulas as the library, term by term, so that the page agrees with `kb`:
 *  - H(P)      = -sum P log P              with 0 log 0 = 0, P = p / sum(p)
 *  - KL(P||Q)  = sum P (x - 1 - log x),     x = Q / P   (Bregman terms, each >= 0)
 *                P = 0 contributes Q; P > 0 = Q contributes +inf; a ratio beyond 2^512
 *                contributes Q - P; a ratio below 2^-512 is rescaled before its logarithm
 *  - H(P,Q)    = H(P) + KL(P||Q)           (two non-negative sums: no cancellation)
 *  - 4 JS(P,Q) = Bregman terms of (2P, P+Q) + those of (2Q, P+Q), then clipped to [0, ln 2]
 *  - JS distance = sqrt(JS in the unit)
 * P and Q are normalised as the library does (kullback.measures._kernels.scaled_pair).
 * Per-outcome terms follow kullback.measures.contributions.
 */
"use strict";

const KBMeasures = (() => {
  const LN2 = Math.LN2;
  const HALF = 512;            // half the binary exponent range of float64
  const HI = Math.pow(2, HALF);
  const UNITS = { bits: Math.log(2), nats: 1, bans: Math.log(10) };

  function sum(xs) {
    let s = 0;
    for (const x of xs) s += x;
    return s;
  }

  /** P log P (<= 0), 0 where P = 0. */
  function entropyTerm(P) {
    return P > 0 ? P * Math.log(P) : 0;
  }

  /** Bregman KL term P (x - 1 - log x), x = Q / P; see kullback.measures._kernels.kl_terms. */
  function klTerm(P, Q) {
    if (P > 0) {
      const x = Q / P;
      if (x <= HI) {
        const lx = x < 1 / HI ? Math.log((Q * HI) / P) - HALF * LN2 : Math.log(x);
        return P * ((x - 1) - lx);
      }
    }
    return Q - P;
  }

  /** Four times the JS term: Bregman terms of (2P, P+Q) and (2Q, P+Q). */
  function js4Term(P, Q) {
    const S = P + Q;
    return klTerm(P + P, S) + klTerm(Q + Q, S);
  }

  /** (A, B, total) with A/B = P/Q and A = P * total: kullback.measures._kernels.scaled_pair. */
  function scaledPair(p, q) {
    const sp = sum(p), sq = sum(q);
    const up = sp >= sq;
    const c = up ? sp / sq : sq / sp;
    const fine = c <= Number.MAX_VALUE;
    if (!fine || Math.max(sp, sq) <= 1) {
      return [p.map((v) => v / sp), q.map((v) => v / sq), 1];
    }
    const fp = up ? 1 : c, fq = up ? c : 1;
    return [p.map((v) => v * fp), q.map((v) => v * fq), up ? sp : sq];
  }

  function normalise(p) {
    const s = sum(p);
    return p.map((v) => v / s);
  }

  function entropyNats(p) {
    return 0 - sum(normalise(p).map(entropyTerm));
  }

  function klNats(p, q) {
    const [A, B, total] = scaledPair(p, q);
    return sum(A.map((a, i) => klTerm(a, B[i]))) / total;
  }

  function jsNats(p, q) {
    const [A, B, total] = scaledPair(p, q);
    const quadrupled = sum(A.map((a, i) => js4Term(a, B[i]))) / total;
    return Math.min(Math.max(0.25 * quadrupled, 0), LN2);
  }

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
    const P = normalise(p), Q = normalise(q);
    return P.map((a, i) => {
      const b = Q[i];
      const kl = a > 0 ? (b > 0 ? a * logRatio(a, b) : Infinity) : 0;
      const ce = a > 0 ? 0 - a * Math.log(b) : 0;
      return {
        entropy_p: (0 - entropyTerm(a)) / lb,
        kl: kl / lb,
        cross_entropy: ce / lb,
      };
    });
  }

  return { UNITS, measures, contributions, klTerm, js4Term };
})();
