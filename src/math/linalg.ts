/**
 * Small dense linear algebra (row-major n x n, Float64): the one matrix inverse
 * of the project (the contextual bandits' covariance, the site-side EASE build)
 * and the Cholesky factor the bandits sample with.
 */

/** Lower-triangular Cholesky factor L with M = L L^T; throws if M is not positive definite. */
export function cholesky(m: ArrayLike<number>, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = m[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError('cholesky: matrix is not positive definite');
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j];
    }
  }
  return l;
}

/** In-place inverse of a symmetric positive definite matrix (Gauss-Jordan, row-major n x n); returns `a`. */
export function invertSpd(a: Float64Array, n: number): Float64Array {
  for (let k = 0; k < n; k++) {
    const rowK = k * n;
    const p = 1 / a[rowK + k];
    a[rowK + k] = 1;
    for (let j = 0; j < n; j++) a[rowK + j] *= p;
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const rowI = i * n;
      const f = a[rowI + k];
      if (f === 0) continue;
      a[rowI + k] = 0;
      for (let j = 0; j < n; j++) a[rowI + j] -= f * a[rowK + j];
    }
  }
  return a;
}
