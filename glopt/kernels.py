"""SVM kernels K and pattern-correlation kernels S (DESIGN.md 1).

K is the kernel of the SVM's decision function; S is the matrix inside the generalized loss,
computed on the inputs. Both are available as dense matrices for small problems and as
row-block operators for large ones, so that ``S @ v`` at n = 100,000 never allocates an
n x n array.

The S formulas are written once on squared distances with an array namespace, so the torch
losses of :mod:`glopt.nn` evaluate the very same expressions on tensors.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import as_float_array, choice, consistent_length, positive_scalar, resolve_n_jobs

SVM_KERNELS = ("linear", "rbf", "poly", "precomputed")
S_KERNELS = ("G", "Q", "M", "I")
MATERN_NU = (0.5, 1.5, 2.5)

#: Default memory budget of one row block (bytes).
BLOCK_BYTES = 64 << 20


def _rows_per_block(n_cols: int, max_bytes: int) -> int:
    return max(1, int(max_bytes // (8 * max(n_cols, 1))))


def squared_distances(X, Z=None, xp=np):
    """Pairwise squared Euclidean distances ``||x_i - z_j||^2`` (clipped at 0)."""
    Z = X if Z is None else Z
    xx = (X * X).sum(1)[:, None]
    zz = (Z * Z).sum(1)[None, :]
    d2 = xx + zz - 2.0 * (X @ Z.T)
    return xp.clip(d2, 0.0, None) if xp is np else d2.clamp(min=0.0)


def _fused_product(X, sq, cols, V, kind: int, gamma: float, alpha: float = 1.0, n_threads=None):
    """``K[:, cols] @ V[cols]`` for a kernel of ``glopt._correlation`` (kind 0: exp(-gamma d^2),
    the Gaussian S and the RBF K) with unit diagonal, by its fused OpenMP product: the entries
    among the columns are computed once each (symmetry), no block of K is stored."""
    from ._correlation import openmp_max_threads, s_matmul

    out = np.zeros((X.shape[0], V.shape[1]))
    if cols.size == 0:
        return out
    rest = np.setdiff1d(np.arange(X.shape[0]), cols, assume_unique=True)
    Xc = np.ascontiguousarray(X[cols])
    Vc = np.ascontiguousarray(V[cols])
    out_c = np.empty((cols.size, V.shape[1]))
    out_r = np.empty((rest.size, V.shape[1]))
    threads = openmp_max_threads() if n_threads is None else n_threads
    Xr = np.ascontiguousarray(X[rest])
    s_matmul(Xc, np.ascontiguousarray(Xc.T), sq[cols], Vc, np.ascontiguousarray(Vc.T), Xr,
             np.ascontiguousarray(Xr.T), sq[rest], out_c, out_r, kind, gamma, alpha, threads)
    out[cols] = out_c
    out[rest] = out_r
    return out


# --------------------------------------------------------------------------------------
# SVM kernels K
# --------------------------------------------------------------------------------------
class Kernel:
    """An SVM kernel ``K(x, z)``: ``linear``, ``rbf``, ``poly`` or ``precomputed``.

    ``rbf``: exp(-gamma ||x - z||^2); ``poly``: (gamma <x, z> + coef0)^degree;
    ``precomputed``: the "data" passed in is the Gram matrix itself, indexed by sample.
    """

    def __init__(self, name: str = "rbf", gamma: float = 1.0, degree: int = 3, coef0: float = 0.0):
        self.name = choice(name, "kernel", SVM_KERNELS)
        self.gamma = positive_scalar(gamma, "gamma")
        if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 1:
            raise ValueError(f"degree must be a positive integer, got {degree!r}")
        self.degree = int(degree)
        if not np.isfinite(coef0):
            raise ValueError(f"coef0 must be finite, got {coef0!r}")
        self.coef0 = float(coef0)

    def __repr__(self):
        return f"Kernel({self.name!r}, gamma={self.gamma:g}, degree={self.degree}, coef0={self.coef0:g})"

    def __call__(self, X, Z=None) -> np.ndarray:
        """Gram block ``K[i, j] = K(z_i, x_j)`` with rows from Z (default X) and columns from X.

        For ``precomputed``, X is the full Gram matrix and Z (if given) an index array of rows.
        """
        if self.name == "precomputed":
            return X if Z is None else X[np.asarray(Z)]
        Zr = X if Z is None else Z
        if self.name == "linear":
            return Zr @ X.T
        if self.name == "rbf":
            return np.exp(-self.gamma * squared_distances(Zr, X))
        return (self.gamma * (Zr @ X.T) + self.coef0) ** self.degree

    def diag(self, X) -> np.ndarray:
        """``K(x_i, x_i)`` for every sample."""
        if self.name == "precomputed":
            return np.ascontiguousarray(np.diag(X))
        if self.name == "rbf":
            return np.ones(X.shape[0])
        sq = (X * X).sum(1)
        return sq if self.name == "linear" else (self.gamma * sq + self.coef0) ** self.degree

    def matvec(self, X, v, Z=None, max_bytes: int = BLOCK_BYTES) -> np.ndarray:
        """``K(Z, X) @ v`` in row blocks of Z (default Z = X), only columns where v != 0 used."""
        v = np.asarray(v, dtype=np.float64)
        cols = np.flatnonzero(v) if v.ndim == 1 else np.flatnonzero(np.any(v != 0, axis=1))
        n_rows = (X.shape[0] if Z is None else (len(Z) if self.name == "precomputed" else Z.shape[0]))
        out = np.zeros((n_rows,) + v.shape[1:])
        if cols.size == 0:
            return out
        if self.name == "precomputed":
            rows_all = np.arange(X.shape[0]) if Z is None else np.asarray(Z)
            step = _rows_per_block(cols.size, max_bytes)
            for s in range(0, n_rows, step):
                out[s:s + step] = X[np.ix_(rows_all[s:s + step], cols)] @ v[cols]
            return out
        if self.name == "rbf" and Z is None:
            # the Gaussian correlation kernel's fused product with gamma: no Gram block stored,
            # each entry K(x_i, x_j) among the support vectors computed once (magic, 5,600 support
            # vectors: 0.22 s against 1.59 s by the blocks below)
            V = v.reshape(v.shape[0], -1)
            sq = (X * X).sum(1)
            return _fused_product(X, sq, cols, V, 0, self.gamma).reshape(out.shape)
        Xc, vc = X[cols], v[cols]
        Zr = X if Z is None else Z
        step = _rows_per_block(cols.size, max_bytes)
        for s in range(0, n_rows, step):
            out[s:s + step] = self(Xc, Zr[s:s + step]) @ vc
        return out


def check_kernel_data(X, kernel: Kernel, name: str = "X") -> np.ndarray:
    """X as a finite 2-D float array; a precomputed Gram matrix must be square and symmetric."""
    X = as_float_array(X, name, ndim=2)
    if kernel.name == "precomputed":
        if X.shape[0] != X.shape[1]:
            raise ValueError(f"{name} must be a square Gram matrix for kernel='precomputed', got {X.shape}")
        if not np.allclose(X, X.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(X).max())):
            raise ValueError(f"{name} (precomputed Gram matrix) is not symmetric")
    return X


# --------------------------------------------------------------------------------------
# Correlation kernels S
# --------------------------------------------------------------------------------------
def s_from_sqdist(d2, s_kernel: str, gamma_s: float, nu: float = 1.5, alpha: float = 1.0, xp=np):
    """S entries from squared distances ``d2`` (numpy array or torch tensor, namespace ``xp``).

    - ``G``: exp(-gamma_s d^2)
    - ``Q``: (1 + gamma_s d^2 / alpha)^(-alpha), the rational quadratic with length scale
      l = 1 / sqrt(2 gamma_s) (so it tends to G as alpha grows)
    - ``M``: Matern of order nu with the same length scale, r = d / l = sqrt(2 gamma_s) d:
      nu=1/2: exp(-r); nu=3/2: (1 + sqrt3 r) exp(-sqrt3 r); nu=5/2: (1 + sqrt5 r + 5r^2/3) exp(-sqrt5 r)
    """
    if s_kernel == "G":
        return xp.exp(-gamma_s * d2)
    if s_kernel == "Q":
        return (1.0 + (gamma_s / alpha) * d2) ** (-alpha)
    if s_kernel == "M":
        # sqrt is taken of a strictly positive number so torch's gradient stays finite at d = 0.
        r = xp.sqrt(2.0 * gamma_s * d2 + 1e-300) if xp is np else xp.sqrt(2.0 * gamma_s * d2 + 1e-30)
        if nu == 0.5:
            return xp.exp(-r)
        if nu == 1.5:
            s3 = math.sqrt(3.0) * r
            return (1.0 + s3) * xp.exp(-s3)
        s5 = math.sqrt(5.0) * r
        return (1.0 + s5 + s5 * s5 / 3.0) * xp.exp(-s5)
    raise ValueError(f"s_kernel {s_kernel!r} has no distance form")


def check_s_params(s_kernel: str, gamma_s, nu: float = 1.5, alpha: float = 1.0) -> float:
    """Validate the correlation-kernel parameters; returns gamma_s as float (1.0 for ``I``)."""
    choice(s_kernel, "s_kernel", S_KERNELS)
    if s_kernel == "M":
        choice(nu, "nu", MATERN_NU)
    if s_kernel == "Q":
        positive_scalar(alpha, "alpha")
    if s_kernel == "I":
        return 1.0
    return positive_scalar(gamma_s, "gamma_s")


class Correlation:
    """The pattern-correlation matrix S of a data set, as a row-block operator.

    ``S @ v`` and the row sums are computed entry by entry in a fused OpenMP kernel over the
    columns where v is nonzero (memory O(n d)), so S is never materialized unless :meth:`dense`
    (or :meth:`block`, rows at a time) is asked for.

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs the correlation is computed on.
    s_kernel : {"G", "Q", "M", "I"}
    gamma_s : float > 0
        Inverse squared length scale (ignored for ``I``).
    y : array of shape (n,), optional
        Class labels: when given, S_ij = 0 wherever y_i != y_j (target-space separation).
    nu : {0.5, 1.5, 2.5}
        Matern order.
    alpha : float > 0
        Rational-quadratic shape.
    max_bytes : int
        Memory budget of one row block (of :meth:`block` / :meth:`dense`).
    n_jobs : int or None
        OpenMP threads of the products (None: all, -k: all but k-1).
    """

    def __init__(self, X, s_kernel: str = "G", gamma_s: float = 1.0, *, y=None, nu: float = 1.5,
                 alpha: float = 1.0, max_bytes: int = BLOCK_BYTES, n_jobs: int | None = None):
        self.X = as_float_array(X, "X", ndim=2)
        self.gamma_s = check_s_params(s_kernel, gamma_s, nu, alpha)
        self.s_kernel, self.nu, self.alpha = s_kernel, float(nu), float(alpha)
        self.y = None if y is None else np.asarray(y)
        consistent_length(self.X.shape[0], y=self.y)
        self.max_bytes = int(positive_scalar(max_bytes, "max_bytes"))
        n = self.X.shape[0]
        self.shape = (n, n)
        self._sq = (self.X * self.X).sum(1)
        self._codes = None if self.y is None else np.unique(self.y, return_inverse=True)[1].astype(np.int64)
        self._kind = {"G": 0, "Q": 1, "M": {0.5: 2, 1.5: 3, 2.5: 4}.get(self.nu)}.get(s_kernel)
        from ._correlation import openmp_max_threads

        self.n_threads = resolve_n_jobs(n_jobs, openmp_max_threads())

    def block(self, rows) -> np.ndarray:
        """Rows ``rows`` (a slice or index array) of S, all columns."""
        idx = np.arange(self.shape[0])[rows]
        if self.s_kernel == "I":
            out = np.zeros((idx.size, self.shape[1]))
            out[np.arange(idx.size), idx] = 1.0
            return out
        Xr = self.X[idx]
        d2 = np.clip(self._sq[idx, None] + self._sq[None, :] - 2.0 * (Xr @ self.X.T), 0.0, None)
        d2[np.arange(idx.size), idx] = 0.0  # exact zero on the diagonal: S_ii = 1
        out = s_from_sqdist(d2, self.s_kernel, self.gamma_s, self.nu, self.alpha)
        if self.y is not None:
            out *= self.y[idx, None] == self.y[None, :]
        return out

    def dense(self) -> np.ndarray:
        """The full n x n matrix (for small problems and tests)."""
        return self.block(slice(None))

    def __matmul__(self, v) -> np.ndarray:
        """S @ v, by a fused OpenMP kernel over the columns where v is nonzero (no S block is
        stored: memory O(n d))."""
        v = np.asarray(v, dtype=np.float64)
        if v.shape[0] != self.shape[1]:
            raise ValueError(f"S is {self.shape}, cannot multiply a vector of length {v.shape[0]}")
        if self.s_kernel == "I":
            return v.copy()
        V = v.reshape(v.shape[0], -1)
        nonzero = np.any(V != 0, axis=1)
        if self._codes is None:
            out = _fused_product(self.X, self._sq, np.flatnonzero(nonzero), V, self._kind, self.gamma_s,
                                 self.alpha, self.n_threads)
            return out.reshape(v.shape)
        # with the class mask S is block diagonal by class: one product per class, the others'
        # entries are never computed
        out = np.zeros((self.shape[0], V.shape[1]))
        for g in range(int(self._codes.max()) + 1):
            member = np.flatnonzero(self._codes == g)
            out[member] = _fused_product(self.X[member], self._sq[member], np.flatnonzero(nonzero[member]),
                                         V[member], self._kind, self.gamma_s, self.alpha, self.n_threads)
        return out.reshape(v.shape)

    def row_sums(self) -> np.ndarray:
        return self @ np.ones(self.shape[0])

    def diagonal(self) -> np.ndarray:
        return np.ones(self.shape[0])


def spectral_frequencies(s_kernel: str, gamma_s: float, n_features: int, n_components: int, rng,
                         nu: float = 1.5, alpha: float = 1.0) -> np.ndarray:
    """Frequencies W (d, R) whose cos features reproduce S in expectation (Bochner).

    ``G``: W ~ N(0, 2 gamma_s I). ``M``: a multivariate Student t with 2 nu degrees of freedom and
    scale sqrt(2 gamma_s) (the Matern spectral density). ``Q``: a Gamma(alpha, rate alpha/gamma_s)
    scale mixture of Gaussians (E exp(-tau d^2) = (1 + gamma_s d^2 / alpha)^-alpha).
    """
    g = rng.standard_normal((n_features, n_components))
    if s_kernel == "G":
        return g * math.sqrt(2.0 * gamma_s)
    if s_kernel == "M":
        u = rng.chisquare(2.0 * nu, size=n_components)
        return g * math.sqrt(2.0 * gamma_s) * np.sqrt(2.0 * nu / u)
    if s_kernel == "Q":
        tau = rng.gamma(alpha, gamma_s / alpha, size=n_components)
        return g * np.sqrt(2.0 * tau)
    raise ValueError(f"s_kernel {s_kernel!r} has no random-feature form (G, Q and M have)")


class RandomFeatureCorrelation:
    """S ~ Z Z^T with random Fourier features Z (n, R): ``S @ v`` costs O(n R), memory O(n R).

    z(x) = sqrt(2 / R) cos(W^T x + phase), W from :func:`spectral_frequencies`, phase ~ U(0, 2 pi).
    The class mask is exact: Z is split into one column block per class. Same interface as
    :class:`Correlation` (``shape``, ``@``, ``row_sums``, ``dense``).
    """

    def __init__(self, X, s_kernel: str = "G", gamma_s: float = 1.0, *, y=None, nu: float = 1.5,
                 alpha: float = 1.0, n_components: int = 500, random_state=None):
        X = as_float_array(X, "X", ndim=2)
        gamma_s = check_s_params(s_kernel, gamma_s, nu, alpha)
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
        rng = np.random.default_rng(random_state)
        W = spectral_frequencies(s_kernel, gamma_s, X.shape[1], int(n_components), rng, nu, alpha)
        phase = rng.uniform(0.0, 2.0 * np.pi, size=int(n_components))
        Z = np.sqrt(2.0 / n_components) * np.cos(X @ W + phase)
        if y is not None:
            y = np.asarray(y)
            consistent_length(X.shape[0], y=y)
            Z = np.hstack([Z * (y == c)[:, None] for c in np.unique(y)])
        self.Z = Z
        self.shape = (X.shape[0], X.shape[0])

    def __matmul__(self, v) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if v.shape[0] != self.shape[1]:
            raise ValueError(f"S is {self.shape}, cannot multiply a vector of length {v.shape[0]}")
        return self.Z @ (self.Z.T @ v)

    def row_sums(self) -> np.ndarray:
        return self @ np.ones(self.shape[0])

    def dense(self) -> np.ndarray:
        return self.Z @ self.Z.T


def correlation_matrix(X, s_kernel: str = "G", gamma_s: float = 1.0, *, y=None, nu: float = 1.5,
                       alpha: float = 1.0) -> np.ndarray:
    """Dense pattern-correlation matrix S (see :class:`Correlation`)."""
    return Correlation(X, s_kernel, gamma_s, y=y, nu=nu, alpha=alpha).dense()


def median_sq_distance(X, max_samples: int = 2000, seed: int = 0) -> float:
    """Median pairwise squared distance (on a seeded subsample), for ``gamma_s='scale'``."""
    X = as_float_array(X, "X", ndim=2)
    if X.shape[0] > max_samples:
        X = X[np.random.default_rng(seed).choice(X.shape[0], max_samples, replace=False)]
    d2 = squared_distances(X)[np.triu_indices(X.shape[0], 1)]
    med = float(np.median(d2)) if d2.size else 0.0
    if med <= 0:
        raise ValueError("X has no two distinct samples: the median squared distance is 0")
    return med


def check_correlation_matrix(S, n: int | None = None, name: str = "S", psd_tol: float = 1e-8) -> np.ndarray:
    """A user-supplied S: square, matching n, finite, symmetric and positive semi-definite.

    PSD is checked by the smallest eigenvalue, allowed down to ``-psd_tol * max(1, ||S||_2)``.
    Each failure raises ValueError naming the property that fails.
    """
    try:
        S = np.asarray(S, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric matrix: {exc}") from None
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {S.shape}")
    if n is not None and S.shape[0] != n:
        raise ValueError(f"{name} is {S.shape[0]} x {S.shape[0]} but there are {n} samples")
    if not np.all(np.isfinite(S)):
        raise ValueError(f"{name} contains NaN or infinity")
    scale = max(1.0, float(np.abs(S).max()))
    if not np.allclose(S, S.T, rtol=0.0, atol=1e-12 * scale):
        raise ValueError(f"{name} is not symmetric (max |S - S^T| = {np.abs(S - S.T).max():.3g})")
    eig = np.linalg.eigvalsh(S)
    if eig[0] < -psd_tol * max(1.0, eig[-1]):
        raise ValueError(f"{name} is not positive semi-definite (smallest eigenvalue {eig[0]:.3g})")
    return S


def psd_factor(M, rel_tol: float = 1e-12) -> np.ndarray:
    """A factor F with F F^T = M (up to eigenvalues below rel_tol * max): M PSD, symmetric.

    Used to write quadratic forms as sum_squares, which cvxpy compiles once (DPP) and which
    keeps badly conditioned S and K usable.
    """
    eig, vec = np.linalg.eigh((M + M.T) / 2)
    keep = eig > rel_tol * max(eig[-1], 0.0)
    if not np.any(keep):
        return np.zeros((M.shape[0], 1))
    return vec[:, keep] * np.sqrt(eig[keep])
