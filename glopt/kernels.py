"""SVM kernels K and pattern-correlation kernels S (docs/mathematics.md §1).

K is the kernel of the SVM's decision function; S is the matrix inside the generalized loss,
computed on the inputs. Both are available as dense matrices for small problems and as
row-block operators for large ones, so that ``S @ v`` at n = 100,000 never allocates an
n x n array.

The S formulas are written once on squared distances with an array namespace, so the torch
losses of :mod:`glopt.nn` evaluate the very same expressions on tensors.

The SVM kernels K (except ``precomputed``) and the correlation kernels S also take
scipy.sparse data, held as CSR matrices: their inner products are sparse products, their Gram
blocks and products dense arrays.
"""
from __future__ import annotations

import math
import numbers
import weakref

import numpy as np

from ._checks import (_is_sparse, as_float_array, choice, class_labels, positive_int,
                      positive_scalar, real_scalar, resolve_n_jobs, squared_norms)

SVM_KERNELS = ("linear", "rbf", "poly", "sigmoid", "precomputed")
S_KERNELS = ("G", "Q", "M", "I")
MATERN_NU = (0.5, 1.5, 2.5)

#: Default memory budget of one row block (bytes).
BLOCK_BYTES = 64 << 20

#: Correlation.rows_product takes rows outside the product's columns from a dense block of S up
#: to this many entries.
ROWS_BLOCK_ENTRIES = 1 << 22


def _rows_per_block(n_cols: int, max_bytes: int) -> int:
    return max(1, int(max_bytes // (8 * max(n_cols, 1))))


def squared_distances(X, Z=None, xp=np):
    """Pairwise squared Euclidean distances ``||x_i - z_j||^2`` (numpy arrays or torch tensors).

    Computed as ``|x|^2 + |z|^2 - 2 x.z``, whose rounding error is below
    ``(2d + 2) u (|x|^2 + |z|^2)`` (d features, u the unit roundoff): values within that bound
    cannot be told from 0 and are set to 0, so a point's distance to itself is exactly 0 and the
    RBF and correlation kernels give exactly 1 there. The SMO's and the S products' compiled
    kernels use the same rule.

    Parameters
    ----------
    X : array_like of shape (n, d)
        Row points (a float tensor when ``xp`` is torch).
    Z : array_like of shape (m, d), optional
        Column points; default ``X``.
    xp : module, default numpy
        Array namespace: ``numpy`` (inputs validated and converted) or ``torch``.

    Returns
    -------
    ndarray or Tensor of shape (n, m)
        ``D[i, j] = ||x_i - z_j||^2``, nonnegative.

    Raises
    ------
    ValueError
        When ``X`` and ``Z`` have different numbers of features, or (numpy) when an input is not
        a finite 2-D array.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.kernels import squared_distances
    >>> squared_distances(np.array([[0.0, 0.0], [3.0, 4.0]]))
    array([[ 0., 25.],
           [25.,  0.]])
    """
    if xp is np:
        X = as_float_array(X, "X", ndim=2)
        Z = X if Z is None else as_float_array(Z, "Z", ndim=2)
    else:
        Z = X if Z is None else Z
    if Z.shape[-1] != X.shape[-1]:
        raise ValueError(f"Z has {Z.shape[-1]} features but X has {X.shape[-1]}")
    return _sqdist(X, Z, xp)


def as_csr(X, name: str = "X"):
    """A scipy.sparse matrix or array as a CSR matrix of float64 with sorted column indices.

    Any sparse format is converted (CSC, COO, LIL, ...); duplicate entries are summed. A
    ``scipy.sparse`` array (``csr_array``, ...) gives a ``csr_array``, a sparse matrix a
    ``csr_matrix``. The input is not modified; a CSR float64 input already in that form is
    returned as it is.

    Parameters
    ----------
    X : scipy.sparse matrix or array of shape (n, d)
        The data.
    name : str, default "X"
        Name of the argument in error messages.

    Returns
    -------
    scipy.sparse.csr_matrix or scipy.sparse.csr_array of shape (n, d)
        ``X`` in canonical CSR form, float64.

    Raises
    ------
    TypeError
        When ``X`` is not a scipy.sparse matrix or array.
    ValueError
        When ``X`` is not 2-D, is empty, is complex or not numeric, or holds NaN or infinity.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from glopt.kernels import as_csr
    >>> as_csr(sp.coo_matrix(([2, 1], ([0, 0], [1, 0])), shape=(1, 3))).toarray()
    array([[1., 2., 0.]])
    """
    import scipy.sparse as sp

    if not _is_sparse(X):
        raise TypeError(f"{name} must be a scipy.sparse matrix or array, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got a sparse array of shape {X.shape}")
    if X.dtype.kind == "c":
        raise ValueError(f"{name} is complex (dtype {X.dtype}); glopt works with real numbers only")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric sparse matrix, got dtype {X.dtype}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    csr = sp.csr_array if isinstance(X, sp.sparray) else sp.csr_matrix
    A = X if X.format == "csr" else X.tocsr()
    if A.dtype != np.float64:
        A = A.astype(np.float64)
    if not A.has_canonical_format:
        # sorted indices without duplicates: the order the SMO's sparse inner products sum in
        A = A.copy() if A is X else A
        A.sum_duplicates()
    if type(A) is not csr:
        A = csr(A)
    if not np.all(np.isfinite(A.data)):
        raise ValueError(f"{name} contains NaN or infinity")
    return A


def _sparse_squared_norms(X, name: str = "X") -> np.ndarray:
    """:func:`glopt._checks.squared_norms` for a CSR matrix: the sums of its rows' squared
    values, refusing rows whose squared norm overflows."""
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    with np.errstate(over="ignore"):     # an overflow is refused just below
        sq = np.bincount(rows, weights=X.data * X.data, minlength=X.shape[0])
    if not np.all(np.isfinite(4.0 * sq)):
        raise ValueError(f"{name} is too large for floating point: its squared row norms overflow "
                         f"(largest |entry| {np.abs(X.data).max():.3g}); scale {name} (e.g. MaxAbsScaler)")
    return sq


def _row_sq(X) -> np.ndarray:
    """Squared row norms of a dense array or a CSR matrix (validated)."""
    if _is_sparse(X):
        return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    return (X * X).sum(1)


def _inner(A, B) -> np.ndarray:
    """``A @ B.T`` as a dense array, for dense or CSR operands (a sparse product where one is
    sparse: the dense copy of sparse data is never formed)."""
    if not (_is_sparse(A) or _is_sparse(B)):
        return A @ B.T
    out = A @ B.T
    return out.toarray() if _is_sparse(out) else np.asarray(out)


def _sqdist(X, Z, xp=np):
    """:func:`squared_distances` on validated inputs (numpy: dense or CSR)."""
    if xp is np and (_is_sparse(X) or _is_sparse(Z)):
        xx = _row_sq(X)[:, None]
        zz = _row_sq(Z)[None, :]
        d2 = xx + zz - 2.0 * _inner(X, Z)
        floor = (2.0 * X.shape[-1] + 2.0) * (np.finfo(np.float64).eps / 2) * (xx + zz)
        return np.where(d2 > floor, d2, 0.0)
    xx = (X * X).sum(1)[:, None]
    zz = (Z * Z).sum(1)[None, :]
    d2 = xx + zz - 2.0 * (X @ Z.T)
    floor = (2.0 * X.shape[-1] + 2.0) * (xp.finfo(d2.dtype).eps / 2) * (xx + zz)
    if xp is np:
        return np.where(d2 > floor, d2, 0.0)
    return xp.where(d2 > floor, d2, xp.zeros_like(d2))


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
    """An SVM kernel ``K(x, z)``: ``linear``, ``rbf``, ``poly``, ``sigmoid`` or ``precomputed``.

    ``rbf``: ``exp(-gamma ||x - z||^2)``; ``poly``: ``(gamma <x, z> + coef0)^degree``;
    ``sigmoid``: ``tanh(gamma <x, z> + coef0)`` (LIBSVM's and scikit-learn's; not positive
    semi-definite in general, which the SMO's second-order step tolerates as LIBSVM does);
    ``precomputed``: the "data" passed in is the Gram matrix itself, indexed by sample.
    Calling the kernel, ``kernel(X, Z)``, gives the Gram block ``K(Z, X)``. The data of every
    kernel but ``precomputed`` may be scipy.sparse (converted by :func:`as_csr`); Gram blocks
    and products are dense arrays either way.

    Parameters
    ----------
    name : {"rbf", "linear", "poly", "sigmoid", "precomputed"}, default "rbf"
        The kernel.
    gamma : float > 0, default 1.0
        Scale of ``rbf``, ``poly`` and ``sigmoid``.
    degree : int >= 1, default 3
        Degree of ``poly``.
    coef0 : float, default 0.0
        Offset of ``poly`` and ``sigmoid``.

    Raises
    ------
    ValueError
        When ``name`` is unknown or a parameter is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.kernels import Kernel
    >>> Kernel("linear")(np.array([[1.0, 2.0], [0.0, 1.0]]))
    array([[5., 2.],
           [2., 1.]])
    """

    def __init__(self, name: str = "rbf", gamma: float = 1.0, degree: int = 3, coef0: float = 0.0):
        self.name = choice(name, "kernel", SVM_KERNELS)
        self.gamma = positive_scalar(gamma, "gamma")
        self.degree = positive_int(degree, "degree")
        self.coef0 = real_scalar(coef0, "coef0")

    def __repr__(self):
        return f"Kernel({self.name!r}, gamma={self.gamma:g}, degree={self.degree}, coef0={self.coef0:g})"

    def samples(self, X, rows):
        """The data of the samples ``rows``: their rows of X, or their block of a Gram matrix.

        For ``precomputed`` the data of a subset of the samples is the principal block
        ``X[rows][:, rows]`` of the Gram matrix; it counts as positive semi-definite when X
        passed that check (:func:`check_kernel_data`), as a principal block of a PSD matrix is.

        Parameters
        ----------
        X : ndarray or scipy.sparse matrix of shape (n, d), or ndarray of shape (n, n)
            The data of all samples (for ``precomputed``: the Gram matrix).
        rows : array_like of int
            The samples to keep, in that order.

        Returns
        -------
        ndarray or scipy.sparse matrix
            ``X[rows]``, or for ``precomputed`` the C-contiguous block ``X[rows][:, rows]``.
        """
        rows = np.asarray(rows)
        if self.name != "precomputed":
            return X[rows]
        block = np.ascontiguousarray(X[np.ix_(rows, rows)])
        if _is_psd_checked(X):
            _mark_psd_checked(block)
        return block

    def check_data(self, X, name: str = "X"):
        """Validate data for this kernel: a finite 2-D float array whose kernel values are finite.

        Refuses inputs whose squared norms overflow and polynomial kernels whose largest possible
        value, ``(gamma max |x|^2 + |coef0|)^degree``, overflows: every kernel value, gradient and
        objective would be NaN or infinite. The sigmoid kernel's values lie in [-1, 1] whatever
        the data (tanh of an overflowing argument is +-1), so finite squared norms suffice.
        scipy.sparse data (any format) are accepted for every kernel but ``precomputed`` and
        returned in CSR form (:func:`as_csr`); the checks read their stored values only.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix of shape (n, d)
            Data (for ``precomputed``: the Gram matrix, dense).
        name : str, default "X"
            Name of the argument in error messages.

        Returns
        -------
        ndarray or scipy.sparse CSR matrix of shape (n, d)
            ``X`` as a float array (sparse data: a CSR float64 matrix with sorted indices).

        Raises
        ------
        TypeError
            When ``X`` is sparse and the kernel is ``precomputed``.
        ValueError
            When ``X`` is not a finite 2-D array or its kernel values overflow.
        """
        if _is_sparse(X):
            if self.name == "precomputed":
                raise TypeError(f"{name}: kernel='precomputed' takes the Gram matrix as a dense "
                                f"array, got a scipy.sparse matrix (use {name}.toarray())")
            X = as_csr(X, name)
            sq = _sparse_squared_norms(X, name)
        else:
            X = as_float_array(X, name, ndim=2)
            if self.name == "precomputed":
                return X
            sq = squared_norms(X, name)
        if self.name == "poly":
            with np.errstate(over="ignore"):
                bound = np.power(np.float64(self.gamma * float(sq.max()) + abs(self.coef0)), self.degree)
            if not np.isfinite(bound * max(1, X.shape[0])):
                raise ValueError(f"the poly kernel of degree {self.degree} overflows on {name} "
                                 f"((gamma max |x|^2 + |coef0|)^degree = {bound:.3g}): scale {name}, or "
                                 "use a smaller gamma or degree")
        return X

    def _rows(self, X, Z, name="Z"):
        """Z as rows for K(Z, X): an index array for precomputed, else data with X's features."""
        if self.name == "precomputed":
            if Z is None:
                return None
            if _is_sparse(Z):
                raise TypeError(f"{name} must be an index array for kernel='precomputed'")
            Z = np.asarray(Z)
            if Z.ndim != 1 or Z.dtype.kind not in "iu":
                raise ValueError(f"{name} must be a 1-D integer index array for kernel='precomputed', "
                                 f"got dtype {Z.dtype}, shape {Z.shape}")
            if Z.size and (Z.min() < 0 or Z.max() >= X.shape[0]):
                raise ValueError(f"{name} holds sample indices out of range [0, {X.shape[0]})")
            return Z
        if Z is None:
            return None
        Z = self.check_data(Z, name)
        if Z.shape[1] != X.shape[1]:
            raise ValueError(f"{name} has {Z.shape[1]} features but X has {X.shape[1]}")
        return Z

    def __call__(self, X, Z=None) -> np.ndarray:
        """Gram block ``K[i, j] = K(z_i, x_j)`` with rows from Z (default X) and columns from X.

        For ``precomputed``, X is the full Gram matrix and Z (if given) an index array of rows.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix of shape (n, d)
            Column points (for ``precomputed``: the (n, n) Gram matrix, dense).
        Z : array_like or scipy.sparse matrix of shape (m, d), optional
            Row points (for ``precomputed``: integer row indices); default ``X``.

        Returns
        -------
        ndarray of shape (m, n)
            The Gram block (dense, also for sparse inputs).
        """
        X = self.check_data(X)
        return self._gram(X, self._rows(X, Z))

    def _gram(self, X, Z=None) -> np.ndarray:
        """:meth:`__call__` on validated inputs."""
        if self.name == "precomputed":
            return X if Z is None else X[Z]
        Zr = X if Z is None else Z
        if self.name == "linear":
            return _inner(Zr, X)
        if self.name == "rbf":
            return np.exp(-self.gamma * _sqdist(Zr, X))
        if self.name == "sigmoid":
            with np.errstate(over="ignore"):     # gamma <z, x> beyond the float range: tanh = +-1
                return np.tanh(self.gamma * _inner(Zr, X) + self.coef0)
        return (self.gamma * _inner(Zr, X) + self.coef0) ** self.degree

    def diag(self, X) -> np.ndarray:
        """Diagonal of the Gram matrix, ``K(x_i, x_i)`` for every sample.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix of shape (n, d)
            Data (for ``precomputed``: the (n, n) Gram matrix, dense).

        Returns
        -------
        ndarray of shape (n,)
            The kernel values ``K(x_i, x_i)``.
        """
        X = self.check_data(X)
        if self.name == "precomputed":
            return np.ascontiguousarray(np.diag(X))
        if self.name == "rbf":
            return np.ones(X.shape[0])
        sq = _row_sq(X)
        if self.name == "sigmoid":
            with np.errstate(over="ignore"):
                return np.tanh(self.gamma * sq + self.coef0)
        return sq if self.name == "linear" else (self.gamma * sq + self.coef0) ** self.degree

    def matvec(self, X, v, Z=None, max_bytes: int = BLOCK_BYTES) -> np.ndarray:
        """Kernel product ``K(Z, X) @ v`` in row blocks of Z, over the columns where v is nonzero.

        No block larger than ``max_bytes`` is stored; with the RBF kernel and ``Z = X`` (dense) the
        product is computed by a fused OpenMP kernel that stores no block at all. Sparse data: the
        linear kernel's product is ``Z (X^T v)``, the others' go through row blocks of sparse
        products.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix of shape (n, d)
            Column points (for ``precomputed``: the (n, n) Gram matrix, dense).
        v : array_like of shape (n,) or (n, k)
            One entry (or row) per sample of ``X``.
        Z : array_like or scipy.sparse matrix of shape (m, d), optional
            Row points (for ``precomputed``: integer row indices); default ``X``.
        max_bytes : int, default ``BLOCK_BYTES``
            Memory budget of one row block of K.

        Returns
        -------
        ndarray of shape (m,) or (m, k)
            The product.

        Raises
        ------
        ValueError
            When ``v`` does not have one entry (or row) per sample of ``X``.
        """
        X = self.check_data(X)
        Z = self._rows(X, Z)
        v = as_float_array(v, "v", allow_empty=True)
        if v.ndim not in (1, 2) or v.shape[0] != X.shape[0]:
            raise ValueError(f"v must have one entry (or row) per sample of X ({X.shape[0]}), got shape {v.shape}")
        return self._matvec(X, v, Z, max_bytes)

    def _matvec(self, X, v, Z=None, max_bytes: int = BLOCK_BYTES) -> np.ndarray:
        """:meth:`matvec` on validated inputs."""
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
        sparse = _is_sparse(X) or _is_sparse(Z)
        if self.name == "rbf" and Z is None and not sparse:
            # the Gaussian correlation kernel's fused product with gamma: no Gram block stored,
            # each entry K(x_i, x_j) among the support vectors computed once
            V = v.reshape(v.shape[0], -1)
            sq = (X * X).sum(1)
            return _fused_product(X, sq, cols, V, 0, self.gamma).reshape(out.shape)
        Xc, vc = X[cols], v[cols]
        Zr = X if Z is None else Z
        if self.name == "linear" and sparse:
            # K v = Z (X^T v): O(nnz) for sparse data, where a Gram block costs O(m |cols|)
            wv = Xc.T @ vc
            wv = wv.toarray() if _is_sparse(wv) else np.asarray(wv)
            res = Zr @ wv
            return (res.toarray() if _is_sparse(res) else np.asarray(res)).reshape(out.shape)
        step = _rows_per_block(cols.size, max_bytes)
        for s in range(0, n_rows, step):
            out[s:s + step] = self._gram(Xc, Zr[s:s + step]) @ vc
        return out


#: precomputed Gram matrices already found positive semi-definite (by identity: an SVMProblem is
#: rebuilt with new weights at every MM step, and the check costs a Cholesky factorization)
_PSD_CHECKED: "weakref.WeakValueDictionary[int, np.ndarray]" = weakref.WeakValueDictionary()

#: largest principal submatrix of a precomputed Gram matrix factored by the PSD check
PSD_CHECK_SIZE = 2000


def _is_psd_checked(K) -> bool:
    """Whether the array ``K`` itself passed the PSD check of :func:`check_kernel_data`."""
    return _PSD_CHECKED.get(id(K)) is K


def _mark_psd_checked(K) -> None:
    """Record that ``K`` passed the PSD check (or is a principal block of a matrix that did)."""
    _PSD_CHECKED[id(K)] = K


def check_kernel_data(X, kernel: Kernel, name: str = "X") -> np.ndarray:
    """Validate the data of an SVM problem for its kernel (:meth:`Kernel.check_data`).

    A precomputed Gram matrix must be square, symmetric and positive semi-definite (an SVM with an
    indefinite kernel is not a convex problem, and its answers cannot be certified). PSD is checked
    by a Cholesky factorization of ``K + tau I``, ``tau = max(1e-10, 2 eps) max(1, max K_ii) n``
    (eps the machine epsilon of the matrix as given: a float32 Gram matrix is PSD only up to its
    rounding), on the whole
    matrix or, above ``PSD_CHECK_SIZE`` samples, on a seeded random principal submatrix of that
    size (a principal submatrix of a PSD matrix is PSD: a necessary condition).

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n, d)
        Data (for ``precomputed``: the (n, n) Gram matrix, dense).
    kernel : Kernel
        The SVM kernel.
    name : str, default "X"
        Name of the argument in error messages.

    Returns
    -------
    ndarray or scipy.sparse CSR matrix of shape (n, d)
        ``X`` as a finite float array; sparse data (every kernel but ``precomputed``) as a CSR
        float64 matrix with sorted indices (:func:`as_csr`).

    Raises
    ------
    TypeError
        When ``X`` is sparse and the kernel is ``precomputed``.
    ValueError
        When ``X`` is not finite, its kernel values overflow, or a precomputed Gram matrix is not
        square, symmetric and positive semi-definite.
    """
    dtype = getattr(X, "dtype", None)
    X = kernel.check_data(X, name)
    if kernel.name != "precomputed":
        return X
    if X.shape[0] != X.shape[1]:
        raise ValueError(f"{name} must be a square Gram matrix for kernel='precomputed', got {X.shape}")
    if _is_psd_checked(X):
        return X
    if not np.allclose(X, X.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(X).max())):
        raise ValueError(f"{name} (precomputed Gram matrix) is not symmetric")
    n = X.shape[0]
    sub = X
    if n > PSD_CHECK_SIZE:
        idx = np.sort(np.random.default_rng(0).choice(n, PSD_CHECK_SIZE, replace=False))
        sub = X[np.ix_(idx, idx)]
    # a Gram matrix given in lower precision (float32, float16) is PSD only up to its rounding,
    # whose spectral norm is below n eps max|K_ij|: that much is tolerated as well
    eps = np.finfo(dtype).eps if dtype is not None and np.issubdtype(dtype, np.floating) else 0.0
    tau = max(1e-10, 2.0 * float(eps)) * max(1.0, float(np.abs(np.diag(sub)).max())) * sub.shape[0]
    try:
        np.linalg.cholesky(0.5 * (sub + sub.T) + tau * np.eye(sub.shape[0]))
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} (precomputed Gram matrix) is not positive semi-definite: the SVM "
                         "problem is not convex and its answers cannot be certified") from None
    _mark_psd_checked(X)
    return X


# --------------------------------------------------------------------------------------
# Correlation kernels S
# --------------------------------------------------------------------------------------
def _s_data(X, name: str = "X"):
    """Inputs of a correlation kernel: a finite float array, or a CSR float64 matrix for
    scipy.sparse data (:func:`as_csr`), with their squared row norms (overflow refused)."""
    if _is_sparse(X):
        X = as_csr(X, name)
        return X, _sparse_squared_norms(X, name)
    X = as_float_array(X, name, ndim=2)
    return X, squared_norms(X, name)


def _sparse_s_product(X, sq, cols, V, s_kernel: str, gamma_s: float, nu: float, alpha: float,
                      max_bytes: int) -> np.ndarray:
    """``S[:, cols] @ V[cols]`` on CSR rows X, in row blocks of dense S entries.

    The squared distances are ``sq_i + sq_j - 2 x_i.x_j`` from sparse inner products, with the
    rounding floor of :func:`squared_distances` (the fused kernel's rule, so a row's distance to
    itself is exactly 0 and S_ii = 1 as on dense rows). No block larger than ``max_bytes`` is
    stored; the compiled fused kernel needs dense rows, which sparse data is kept from forming.
    """
    n = X.shape[0]
    out = np.zeros((n, V.shape[1]))
    if cols.size == 0:
        return out
    Xc, sqc, Vc = X[cols], sq[cols][None, :], V[cols]
    factor = (2.0 * X.shape[1] + 2.0) * (np.finfo(np.float64).eps / 2)
    step = _rows_per_block(cols.size, max_bytes)
    for s in range(0, n, step):
        xx = sq[s:s + step][:, None]
        d2 = xx + sqc - 2.0 * _inner(X[s:s + step], Xc)
        d2 = np.where(d2 > factor * (xx + sqc), d2, 0.0)
        out[s:s + step] = s_from_sqdist(d2, s_kernel, gamma_s, nu, alpha) @ Vc
    return out


def s_from_sqdist(d2, s_kernel: str, gamma_s: float, nu: float = 1.5, alpha: float = 1.0, xp=np):
    """Correlation-kernel entries S from squared distances (numpy arrays or torch tensors).

    - ``G``: ``exp(-gamma_s d^2)``;
    - ``Q``: ``(1 + gamma_s d^2 / alpha)^(-alpha)``, the rational quadratic with length scale
      ``l = 1 / sqrt(2 gamma_s)`` (so it tends to G as alpha grows);
    - ``M``: Matern of order nu with the same length scale, ``r = d / l = sqrt(2 gamma_s) d``:
      nu = 1/2: ``exp(-r)``; nu = 3/2: ``(1 + sqrt3 r) exp(-sqrt3 r)``;
      nu = 5/2: ``(1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r)``.

    Parameters
    ----------
    d2 : ndarray or Tensor
        Squared distances, any shape.
    s_kernel : {"G", "Q", "M"}
        The correlation kernel.
    gamma_s : float > 0
        Inverse squared length scale.
    nu : {0.5, 1.5, 2.5}, default 1.5
        Matern order (``M`` only).
    alpha : float > 0, default 1.0
        Rational-quadratic shape (``Q`` only).
    xp : module, default numpy
        Array namespace of ``d2``: ``numpy`` or ``torch``.

    Returns
    -------
    ndarray or Tensor
        The entries, of the shape of ``d2``, in (0, 1].

    Raises
    ------
    ValueError
        When ``s_kernel`` has no distance form (``I``, or an unknown name).
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
    """Validate the correlation-kernel parameters.

    Parameters
    ----------
    s_kernel : {"G", "Q", "M", "I"}
        The correlation kernel.
    gamma_s : float > 0
        Inverse squared length scale (ignored for ``I``).
    nu : {0.5, 1.5, 2.5}, default 1.5
        Matern order (checked for ``M``).
    alpha : float > 0, default 1.0
        Rational-quadratic shape (checked for ``Q``).

    Returns
    -------
    float
        ``gamma_s`` as a float (1.0 for ``I``).

    Raises
    ------
    ValueError
        When a parameter is unknown or out of range.
    """
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
    (or :meth:`block`, rows at a time) is asked for. scipy.sparse inputs are held as CSR
    (:func:`as_csr`): their products go through row blocks of S (at most ``max_bytes`` each)
    built from sparse inner products, with the same squared-distance floor, so S_ii = 1 exactly
    and the entries agree with the dense inputs' to rounding.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n, d)
        Inputs the correlation is computed on.
    s_kernel : {"G", "Q", "M", "I"}, default "G"
        The correlation kernel (:func:`s_from_sqdist`; ``I`` is the identity).
    gamma_s : float > 0, default 1.0
        Inverse squared length scale (ignored for ``I``).
    y : array_like of shape (n,), optional
        Class labels: when given, S_ij = 0 wherever y_i != y_j (target-space separation).
    nu : {0.5, 1.5, 2.5}, default 1.5
        Matern order.
    alpha : float > 0, default 1.0
        Rational-quadratic shape.
    max_bytes : int, default ``BLOCK_BYTES``
        Memory budget of one row block (of :meth:`block` / :meth:`dense`).
    n_jobs : int or None, default None
        OpenMP threads of the products (None: all, -k: all but k-1).

    Attributes
    ----------
    shape : tuple of int
        ``(n, n)``.
    n_threads : int
        OpenMP threads the products use.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.kernels import Correlation
    >>> X = np.random.default_rng(0).normal(size=(5, 2))
    >>> S = Correlation(X, "G", gamma_s=0.5)
    >>> np.allclose(S @ np.ones(5), S.dense().sum(1))
    True
    """

    def __init__(self, X, s_kernel: str = "G", gamma_s: float = 1.0, *, y=None, nu: float = 1.5,
                 alpha: float = 1.0, max_bytes: int = BLOCK_BYTES, n_jobs: int | None = None):
        self.X, self._sq = _s_data(X)
        self.gamma_s = check_s_params(s_kernel, gamma_s, nu, alpha)
        self.s_kernel, self.nu, self.alpha = s_kernel, float(nu), float(alpha)
        self.y = None if y is None else class_labels(y, self.X.shape[0])
        self.max_bytes = int(positive_scalar(max_bytes, "max_bytes"))
        if self.max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes!r}")
        n = self.X.shape[0]
        self.shape = (n, n)
        self._sparse = _is_sparse(self.X)
        self._codes = None if self.y is None else np.unique(self.y, return_inverse=True)[1].astype(np.int64)
        self._kind = {"G": 0, "Q": 1, "M": {0.5: 2, 1.5: 3, 2.5: 4}.get(self.nu)}.get(s_kernel)
        from ._correlation import openmp_max_threads

        self.n_threads = resolve_n_jobs(n_jobs, openmp_max_threads())

    def block(self, rows) -> np.ndarray:
        """Dense rows of S, all columns.

        Parameters
        ----------
        rows : slice, array_like of int or array_like of bool
            The rows: a slice, integer indices (negative ones count from the end) or a boolean
            mask of shape (n,).

        Returns
        -------
        ndarray of shape (len(rows), n)
            ``S[rows, :]``.

        Raises
        ------
        ValueError
            When ``rows`` is not a slice, a mask of shape (n,) or integer indices in range.
        """
        idx = _row_indices(rows, self.shape[0])
        if self.s_kernel == "I":
            out = np.zeros((idx.size, self.shape[1]))
            out[np.arange(idx.size), idx] = 1.0
            return out
        d2 = _sqdist(self.X[idx], self.X)
        d2[np.arange(idx.size), idx] = 0.0  # exact zero on the diagonal: S_ii = 1
        out = s_from_sqdist(d2, self.s_kernel, self.gamma_s, self.nu, self.alpha)
        if self._codes is not None:
            out *= self._codes[idx, None] == self._codes[None, :]
        return out

    def dense(self) -> np.ndarray:
        """The full matrix, for small problems and tests.

        Returns
        -------
        ndarray of shape (n, n)
            S.
        """
        return self.block(slice(None))

    def __matmul__(self, v) -> np.ndarray:
        """S @ v, by a fused OpenMP kernel over the columns where v is nonzero (no S block is
        stored: memory O(n d))."""
        v = _operand(v, self.shape)
        if self.s_kernel == "I":
            return v.copy()
        V = v.reshape(v.shape[0], -1)
        return self._product_on(np.arange(self.shape[0]), V).reshape(v.shape)

    def rows_product(self, rows, V) -> np.ndarray:
        """Rows of the product, ``(S @ V)[rows]``, computing S only where it is needed.

        S is evaluated between ``rows`` and the nonzero rows of V only. When the nonzero rows of V
        lie among ``rows`` (MM's products: the positive-slack samples and the support vectors)
        the fused product runs on those samples alone; a few rows against other columns are taken
        from :meth:`block`.

        Parameters
        ----------
        rows : slice, array_like of int or array_like of bool
            The rows of the product (as in :meth:`block`).
        V : array_like of shape (n,) or (n, k)
            Right operand, one entry (or row) per sample.

        Returns
        -------
        ndarray of shape (len(rows), k)
            ``(S @ V)[rows]``, with k = 1 for a vector ``V``.
        """
        n = self.shape[0]
        rows = _row_indices(rows, n)
        V = _operand(V, self.shape)
        V = V.reshape(n, -1)
        if self.s_kernel == "I":
            return V[rows].copy()
        cols = np.flatnonzero(np.any(V != 0, axis=1))
        if not np.all(np.isin(cols, rows)) and rows.size * n <= ROWS_BLOCK_ENTRIES:
            return self.block(rows) @ V
        U = np.union1d(rows, cols)
        return self._product_on(U, V[U])[np.searchsorted(U, rows)]

    def _product_on(self, idx, V) -> np.ndarray:
        """S[idx, idx] @ V for sorted sample indices idx (V: one row per index), by the fused
        kernel over V's nonzero rows."""
        nonzero = np.any(V != 0, axis=1)
        if self._codes is None:
            return self._product_cols(idx, np.flatnonzero(nonzero), V)
        # with the class mask S is block diagonal by class: one product per class, the others'
        # entries are never computed
        out = np.zeros((idx.size, V.shape[1]))
        codes = self._codes[idx]
        for g in np.unique(codes):
            member = np.flatnonzero(codes == g)
            out[member] = self._product_cols(idx[member], np.flatnonzero(nonzero[member]), V[member])
        return out

    def _product_cols(self, idx, cols, V) -> np.ndarray:
        """S[idx, idx[cols]] @ V[cols] for sample indices idx (V: one row per index)."""
        if self._sparse:
            return _sparse_s_product(self.X[idx], self._sq[idx], cols, V, self.s_kernel, self.gamma_s,
                                     self.nu, self.alpha, self.max_bytes)
        return _fused_product(self.X[idx], self._sq[idx], cols, V, self._kind, self.gamma_s, self.alpha,
                              self.n_threads)

    def row_sums(self) -> np.ndarray:
        """Row sums of S, ``S @ 1``.

        Returns
        -------
        ndarray of shape (n,)
            The row sums (at least 1: the unit diagonal is included).
        """
        return self @ np.ones(self.shape[0])

    def diagonal(self) -> np.ndarray:
        """Diagonal of S (all ones).

        Returns
        -------
        ndarray of shape (n,)
            Ones.
        """
        return np.ones(self.shape[0])


def _row_indices(rows, n: int) -> np.ndarray:
    """Row indices of a slice, integer array or boolean mask over n rows (range-checked)."""
    if isinstance(rows, slice):
        return np.arange(n)[rows]
    idx = np.asarray(rows)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(f"rows as a boolean mask must have shape ({n},), got {idx.shape}")
        return np.flatnonzero(idx)
    if idx.dtype.kind not in "iu" or idx.ndim > 1:
        raise ValueError(f"rows must be a slice, a boolean mask or 1-D integer indices, got {idx.dtype} {idx.shape}")
    idx = idx.ravel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(f"rows holds indices out of range for {n} rows")
    return idx % n


def _operand(v, shape) -> np.ndarray:
    """The right operand of S @ v: finite, one entry (or row) per column of S."""
    v = as_float_array(v, "v", allow_empty=True)
    if v.ndim not in (1, 2) or v.shape[0] != shape[1]:
        raise ValueError(f"S is {shape}, cannot multiply v of shape {v.shape} (length must be {shape[1]})")
    return v


def random_generator(random_state) -> np.random.Generator:
    """Turn a random state into a numpy Generator.

    Parameters
    ----------
    random_state : None, int >= 0, SeedSequence, Generator or RandomState
        The seed: None draws fresh entropy; a RandomState seeds a new Generator from one draw.

    Returns
    -------
    numpy.random.Generator
        A Generator (``random_state`` itself when it is one).

    Raises
    ------
    ValueError
        When ``random_state`` is none of these (a negative int, a bool, a float).
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2 ** 31 - 1))
    if random_state is None or isinstance(random_state, (np.random.Generator, np.random.SeedSequence)) or (
            isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_))
            and random_state >= 0):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state must be None, a nonnegative int, a numpy Generator or RandomState, "
                     f"got {random_state!r}")


def spectral_frequencies(s_kernel: str, gamma_s: float, n_features: int, n_components: int, rng,
                         nu: float = 1.5, alpha: float = 1.0) -> np.ndarray:
    """Draw random Fourier frequencies whose cosine features reproduce S in expectation.

    By Bochner's theorem: ``G``: W ~ N(0, 2 gamma_s I). ``M``: a multivariate Student t with
    2 nu degrees of freedom and scale sqrt(2 gamma_s) (the Matern spectral density). ``Q``: a
    Gamma(alpha, rate alpha / gamma_s) scale mixture of Gaussians
    (``E exp(-tau d^2) = (1 + gamma_s d^2 / alpha)^-alpha``).

    Parameters
    ----------
    s_kernel : {"G", "Q", "M"}
        The correlation kernel.
    gamma_s : float > 0
        Inverse squared length scale.
    n_features : int
        Input dimension d.
    n_components : int
        Number of frequencies R.
    rng : numpy.random.Generator
        Source of randomness.
    nu : {0.5, 1.5, 2.5}, default 1.5
        Matern order (``M`` only).
    alpha : float > 0, default 1.0
        Rational-quadratic shape (``Q`` only).

    Returns
    -------
    ndarray of shape (n_features, n_components)
        The frequencies W, one per column.

    Raises
    ------
    ValueError
        When ``s_kernel`` has no random-feature form.
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
    """The correlation matrix approximated by random Fourier features, ``S ~ Z Z^T``.

    ``Z`` has shape (n, R): ``S @ v`` costs O(n R) time and memory.
    ``z(x) = sqrt(2 / R) cos(W^T x + phase)``, W from :func:`spectral_frequencies`,
    phase ~ U(0, 2 pi). The class mask is exact: Z is split into one column block per class.
    Same interface as :class:`Correlation` (``shape``, ``@``, ``row_sums``, ``dense``).

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n, d)
        Inputs the correlation is computed on (sparse: ``X @ W`` is a sparse product with the
        dense frequencies W).
    s_kernel : {"G", "Q", "M"}, default "G"
        The correlation kernel (``I`` has no random-feature form).
    gamma_s : float > 0, default 1.0
        Inverse squared length scale.
    y : array_like of shape (n,), optional
        Class labels: when given, S_ij = 0 wherever y_i != y_j.
    nu : {0.5, 1.5, 2.5}, default 1.5
        Matern order.
    alpha : float > 0, default 1.0
        Rational-quadratic shape.
    n_components : int >= 1, default 500
        Number of random features R.
    random_state : None, int, Generator or RandomState, optional
        Seed of the frequencies and phases (:func:`random_generator`).

    Attributes
    ----------
    Z : ndarray of shape (n, R) or (n, R * n_classes)
        The features (one column block per class under the class mask).
    shape : tuple of int
        ``(n, n)``.

    Raises
    ------
    ValueError
        When ``s_kernel`` is ``I`` or a parameter is out of range.
    """

    def __init__(self, X, s_kernel: str = "G", gamma_s: float = 1.0, *, y=None, nu: float = 1.5,
                 alpha: float = 1.0, n_components: int = 500, random_state=None):
        X, _ = _s_data(X)
        gamma_s = check_s_params(s_kernel, gamma_s, nu, alpha)
        if s_kernel == "I":
            raise ValueError("s_kernel='I' has no random-feature form (G, Q and M have)")
        n_components = positive_int(n_components, "n_components")
        rng = random_generator(random_state)
        W = spectral_frequencies(s_kernel, gamma_s, X.shape[1], n_components, rng, nu, alpha)
        phase = rng.uniform(0.0, 2.0 * np.pi, size=n_components)
        Z = np.sqrt(2.0 / n_components) * np.cos(np.asarray(X @ W) + phase)
        if y is not None:
            y = class_labels(y, X.shape[0])
            codes = np.unique(y, return_inverse=True)[1]
            Z = np.hstack([Z * (codes == c)[:, None] for c in range(codes.max() + 1)])
        self.Z = Z
        self.shape = (X.shape[0], X.shape[0])

    def __matmul__(self, v) -> np.ndarray:
        v = _operand(v, self.shape)
        return self.Z @ (self.Z.T @ v)

    def row_sums(self) -> np.ndarray:
        """Row sums of the approximation, ``Z Z^T 1``.

        Returns
        -------
        ndarray of shape (n,)
            The row sums.
        """
        return self @ np.ones(self.shape[0])

    def dense(self) -> np.ndarray:
        """The approximation as a dense matrix.

        Returns
        -------
        ndarray of shape (n, n)
            ``Z Z^T``.
        """
        return self.Z @ self.Z.T


def correlation_matrix(X, s_kernel: str = "G", gamma_s: float = 1.0, *, y=None, nu: float = 1.5,
                       alpha: float = 1.0) -> np.ndarray:
    """Dense pattern-correlation matrix S (see :class:`Correlation`).

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n, d)
        Inputs (sparse: held as CSR, S dense).
    s_kernel : {"G", "Q", "M", "I"}, default "G"
        The correlation kernel.
    gamma_s : float > 0, default 1.0
        Inverse squared length scale (ignored for ``I``).
    y : array_like of shape (n,), optional
        Class labels: when given, S_ij = 0 wherever y_i != y_j.
    nu : {0.5, 1.5, 2.5}, default 1.5
        Matern order.
    alpha : float > 0, default 1.0
        Rational-quadratic shape.

    Returns
    -------
    ndarray of shape (n, n)
        S: symmetric, positive semi-definite, unit diagonal, entries in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.kernels import correlation_matrix
    >>> correlation_matrix(np.array([[0.0], [1.0]]), "G", gamma_s=1.0).round(4)
    array([[1.    , 0.3679],
           [0.3679, 1.    ]])
    """
    return Correlation(X, s_kernel, gamma_s, y=y, nu=nu, alpha=alpha).dense()


def median_sq_distance(X, max_samples: int = 2000, seed: int = 0) -> float:
    """Median pairwise squared distance, on a seeded subsample of the rows.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n, d)
        Inputs (sparse: distances from sparse inner products, held as CSR).
    max_samples : int >= 2, default 2000
        Rows used at most (a seeded random subset above that).
    seed : int, default 0
        Seed of the subsample.

    Returns
    -------
    float
        The median of ``||x_i - x_j||^2`` over the pairs i < j, positive.

    Raises
    ------
    ValueError
        When ``X`` has no two distinct samples.
    """
    X = as_csr(X) if _is_sparse(X) else as_float_array(X, "X", ndim=2)
    max_samples = positive_int(max_samples, "max_samples", low=2)
    if X.shape[0] > max_samples:
        X = X[np.random.default_rng(seed).choice(X.shape[0], max_samples, replace=False)]
    d2 = _sqdist(X, X)[np.triu_indices(X.shape[0], 1)]
    med = float(np.median(d2)) if d2.size else 0.0
    if med <= 0:
        raise ValueError("X has no two distinct samples: the median squared distance is 0")
    return med


#: gamma_s='scale' sets the mean row sum of S over each sample's distinct neighbours to this value
SCALE_ROW_SUM = 1.0


def resolve_gamma(gamma, X) -> float:
    """The RBF / poly / sigmoid gamma of scikit-learn's SVMs for inputs ``X``.

    Parameters
    ----------
    gamma : float or {'scale', 'auto'}
        'scale' is 1 / (n_features X.var()) (1 when the variance is 0), 'auto' 1 / n_features.
    X : ndarray or scipy.sparse matrix of shape (n, d)
        The training inputs; for sparse X the variance counts the zeros, computed as
        E[X^2] - E[X]^2 without a dense copy (scikit-learn's formula).

    Returns
    -------
    float
        The resolved gamma.
    """
    if gamma == "scale":
        var = X.multiply(X).mean() - X.mean() ** 2 if _is_sparse(X) else X.var()
        return float(1.0 / (X.shape[1] * var)) if var != 0 else 1.0
    if gamma == "auto":
        return 1.0 / X.shape[1]
    return float(gamma)


def scale_gamma_s(X, s_kernel: str = "G", *, target: float = SCALE_ROW_SUM, nu: float = 1.5,
                  alpha: float = 1.0, max_samples: int = 1000, seed: int = 0) -> float:
    """Find the gamma_s at which the mean row sum of S over distinct neighbours is ``target``.

    With all slacks zero the MM weights of the p = 1 loss are C times the row sums of S, so the
    row sums decide what the loss does: about 1 is the standard SVM, tens or more make every MM
    step a near-hard-margin SVM. A rule relative to distances alone (1 / median d^2) lets the row
    sums grow in proportion to n; this rule fixes them at every n::

        (1 / n) sum_i sum_{j != i, x_j != x_i} S_ij(gamma_s) = target,

    estimated as (n - 1) times the mean of S over the distinct pairs of a seeded sample of at most
    ``max_samples`` rows (exact when n <= max_samples), and solved for log gamma_s by bisection to
    1e-3 relative. Exact duplicates (S_ij = 1 at any gamma_s) are left out: no gamma_s can change
    them. When even gamma_s -> 0 (S all ones) gives row sums below ``target`` (n tiny), it returns
    1 / median squared distance.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n, d)
        Inputs (sparse: the same seeded sample of rows, distances from sparse inner products).
    s_kernel : {"G", "Q", "M", "I"}, default "G"
        The correlation kernel.
    target : float > 0, default ``SCALE_ROW_SUM``
        The mean row sum to reach.
    nu : {0.5, 1.5, 2.5}, default 1.5
        Matern order.
    alpha : float > 0, default 1.0
        Rational-quadratic shape.
    max_samples : int >= 2, default 1000
        Rows of the seeded sample the row sums are estimated on.
    seed : int, default 0
        Seed of that sample.

    Returns
    -------
    float
        gamma_s (1.0 for ``I``, or when ``X`` has no two distinct samples).

    Raises
    ------
    ValueError
        When a parameter is out of range.
    """
    X = as_csr(X) if _is_sparse(X) else as_float_array(X, "X", ndim=2)
    check_s_params(s_kernel, 1.0, nu, alpha)
    if s_kernel == "I":
        return 1.0
    target = positive_scalar(target, "target")
    max_samples = positive_int(max_samples, "max_samples", low=2)
    n = X.shape[0]
    Xs = X if n <= max_samples else X[np.random.default_rng(seed).choice(n, max_samples, replace=False)]
    d2 = _sqdist(Xs, Xs)[np.triu_indices(Xs.shape[0], 1)]
    if d2.size == 0 or not np.any(d2 > 0):
        return 1.0
    pos = d2[d2 > 0]
    share = pos.size / d2.size                       # distinct pairs among all pairs

    def row_sum(log_g):
        return (n - 1) * share * float(np.mean(s_from_sqdist(pos, s_kernel, math.exp(log_g), nu, alpha)))

    g0 = 1.0 / float(np.median(pos))
    if (n - 1) * share <= target:                    # the all-ones limit is below the target
        return g0
    lo = hi = math.log(g0)
    while row_sum(lo) < target:                      # smaller gamma_s: larger row sums
        lo -= math.log(10.0)
    while row_sum(hi) > target:
        hi += math.log(10.0)
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if row_sum(mid) > target else (lo, mid)
    return math.exp(0.5 * (lo + hi))


def check_correlation_matrix(S, n: int | None = None, name: str = "S", psd_tol: float = 1e-8) -> np.ndarray:
    """Validate a user-supplied S: square, matching n, finite, symmetric and positive semi-definite.

    PSD is checked by the smallest eigenvalue, allowed down to ``-psd_tol * max(1, ||S||_2)``.

    Parameters
    ----------
    S : array_like of shape (n, n)
        The correlation matrix.
    n : int, optional
        Number of samples S must match.
    name : str, default "S"
        Name of the argument in error messages.
    psd_tol : float >= 0, default 1e-8
        Relative tolerance of the smallest eigenvalue.

    Returns
    -------
    ndarray of shape (n, n)
        ``S`` as a float array.

    Raises
    ------
    ValueError
        Naming the property that fails.
    """
    psd_tol = positive_scalar(psd_tol, "psd_tol", allow_zero=True)
    S = as_float_array(S, name, ndim=2)
    if S.shape[0] != S.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {S.shape}")
    if n is not None and S.shape[0] != n:
        raise ValueError(f"{name} is {S.shape[0]} x {S.shape[0]} but there are {n} samples")
    scale = max(1.0, float(np.abs(S).max()))
    if not np.allclose(S, S.T, rtol=0.0, atol=1e-12 * scale):
        raise ValueError(f"{name} is not symmetric (max |S - S^T| = {np.abs(S - S.T).max():.3g})")
    eig = np.linalg.eigvalsh(S)
    if eig[0] < -psd_tol * max(1.0, eig[-1]):
        raise ValueError(f"{name} is not positive semi-definite (smallest eigenvalue {eig[0]:.3g})")
    return S


def psd_factor(M, rel_tol: float = 1e-12) -> np.ndarray:
    """Factor a symmetric positive semi-definite matrix: F with ``F F^T = M``.

    Eigenvalues below ``rel_tol`` times the largest are dropped, so F has full column rank. Used
    to write quadratic forms as ``sum_squares``, which cvxpy compiles once (DPP) and which keeps
    badly conditioned S and K usable.

    Parameters
    ----------
    M : array_like of shape (n, n)
        Symmetric positive semi-definite matrix (its symmetric part is used).
    rel_tol : float, default 1e-12
        Relative eigenvalue cut-off.

    Returns
    -------
    ndarray of shape (n, r)
        The factor, r the number of eigenvalues kept (a zero column when none is).

    Raises
    ------
    ValueError
        When ``M`` is not square.
    """
    M = as_float_array(M, "M", ndim=2)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be a square matrix, got shape {M.shape}")
    eig, vec = np.linalg.eigh((M + M.T) / 2)
    keep = eig > rel_tol * max(eig[-1], 0.0)
    if not np.any(keep):
        return np.zeros((M.shape[0], 1))
    return vec[:, keep] * np.sqrt(eig[keep])
