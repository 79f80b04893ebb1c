/* Batch verification of recoverable secp256k1 signatures against expected keys, with
 * libsecp256k1's own field, group and multi-scalar arithmetic (its source release is compiled into
 * this module: scripts/setup fetches it, pinned by hash).
 *
 * A recoverable compact signature (r, s, y parity) with message hash z recovers to the key Q
 * exactly when R = (z/s) G + (r/s) Q, R being the curve point with x = r and that y parity (the
 * recovery is that equation solved for Q). One check covers n signatures: with coefficients a_i
 * the caller draws at random (128 bits each, unknown to whoever made the signatures),
 *
 *     (sum a_i z_i / s_i) G + sum over keys Q (sum of a_i r_i / s_i over its signatures) Q
 *         - sum a_i R_i  =  the point at infinity.
 *
 * If every equation holds, so does the sum; if one fails, the sum is zero only for one value of
 * its coefficient given the others: a chance of 2^-128 per check. The group has prime order, so no
 * small subgroup helps a forger. The cost is one multi-scalar multiplication (Pippenger) for the
 * whole batch instead of one double multiplication per signature.
 *
 * Canonical form as signer.recover_signer reads it (EIP-2098 compact, EIP-2): 0 < r < n,
 * 0 < s <= n/2, the y parity in the top bit of s. A signature out of that form, an R not on the
 * curve, or a zero coefficient make the whole check answer False: the caller then recovers each
 * signature on its own, which decides.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "secp256k1.c"
#include "precomputed_ecmult.c"
#include "precomputed_ecmult_gen.c"

/* libsecp256k1 calls this only on misuse of its scratch space (a bug here, not bad input): the
 * check then answers False rather than aborting the process. */
static void batch_error_fn(const char *text, void *data) {
    (void)text;
    *(int *)data = 1;
}

typedef struct {
    const secp256k1_scalar *scalars;
    const secp256k1_ge *points;
} batch_points;

static int batch_point(secp256k1_scalar *sc, secp256k1_ge *pt, size_t idx, void *data) {
    const batch_points *d = (const batch_points *)data;
    *sc = d->scalars[idx];
    *pt = d->points[idx];
    return 1;
}

/* 1: every signature recovers to its key; 0: not shown (some may still be valid); -1: no memory. */
static int batch_agrees(const unsigned char *hashes, const unsigned char *signatures, const unsigned char *key_of,
                        const secp256k1_ge *keys, size_t n_keys, const unsigned char *coefficients, size_t n) {
    size_t total = n + n_keys, i;
    int ok = 0, failed = 0;
    secp256k1_scalar *scalars = malloc(total * sizeof(secp256k1_scalar));
    secp256k1_ge *points = malloc(total * sizeof(secp256k1_ge));
    secp256k1_scalar *inverses = malloc(n * sizeof(secp256k1_scalar) + 1);
    secp256k1_callback callback = {batch_error_fn, &failed};
    secp256k1_scratch *scratch = NULL;
    secp256k1_scalar g_sum, acc;
    secp256k1_gej sum;
    if (scalars == NULL || points == NULL || inverses == NULL) {
        ok = -1;
        goto out;
    }
    for (i = 0; i < n_keys; i++) {
        secp256k1_scalar_clear(&scalars[n + i]);
        points[n + i] = keys[i];
    }
    /* the s values, checked, and their inverses by one inversion (Montgomery's trick) */
    secp256k1_scalar_set_int(&acc, 1);
    for (i = 0; i < n; i++) {
        const unsigned char *sig = signatures + 64 * i;
        unsigned char s_bytes[32];
        int overflow;
        memcpy(s_bytes, sig + 32, 32);
        s_bytes[0] &= 0x7F;
        secp256k1_scalar_set_b32(&inverses[i], s_bytes, &overflow);
        if (overflow || secp256k1_scalar_is_zero(&inverses[i]) || secp256k1_scalar_is_high(&inverses[i])) {
            goto out;
        }
        scalars[i] = acc; /* the product of the s values before this one */
        secp256k1_scalar_mul(&acc, &acc, &inverses[i]);
    }
    secp256k1_scalar_inverse_var(&acc, &acc);
    for (i = n; i-- > 0;) {
        secp256k1_scalar s = inverses[i];
        secp256k1_scalar_mul(&inverses[i], &acc, &scalars[i]); /* 1 / s_i */
        secp256k1_scalar_mul(&acc, &acc, &s);
    }
    secp256k1_scalar_clear(&g_sum);
    for (i = 0; i < n; i++) {
        const unsigned char *sig = signatures + 64 * i;
        unsigned char a_bytes[32] = {0};
        secp256k1_scalar r, z, a, u;
        secp256k1_fe x;
        size_t key = (size_t)key_of[2 * i] | ((size_t)key_of[2 * i + 1] << 8);
        int overflow;
        if (key >= n_keys) {
            goto out;
        }
        secp256k1_scalar_set_b32(&r, sig, &overflow);
        if (overflow || secp256k1_scalar_is_zero(&r)) {
            goto out;
        }
        memcpy(a_bytes + 16, coefficients + 16 * i, 16);
        secp256k1_scalar_set_b32(&a, a_bytes, NULL);
        if (secp256k1_scalar_is_zero(&a)) {
            goto out;
        }
        /* R: x = r (r < n < p), y of the signature's parity; none when r is no point's x */
        if (!secp256k1_fe_set_b32(&x, sig) || !secp256k1_ge_set_xo_var(&points[i], &x, sig[32] >> 7)) {
            goto out;
        }
        secp256k1_scalar_set_b32(&z, hashes + 32 * i, NULL); /* z mod n, as the recovery reads it */
        secp256k1_scalar_mul(&u, &a, &inverses[i]);          /* a / s */
        secp256k1_scalar_mul(&z, &z, &u);
        secp256k1_scalar_add(&g_sum, &g_sum, &z);             /* + a z / s, on G */
        secp256k1_scalar_mul(&r, &r, &u);
        secp256k1_scalar_add(&scalars[n + key], &scalars[n + key], &r); /* + a r / s, on the key */
        secp256k1_scalar_negate(&scalars[i], &a);                       /* - a, on R */
    }
    scratch = secp256k1_scratch_create(&callback, 64 * 1024 + total * 2048);
    if (scratch == NULL) {
        ok = -1;
        goto out;
    }
    {
        batch_points data = {scalars, points};
        if (!secp256k1_ecmult_multi_var(&callback, scratch, &sum, &g_sum, batch_point, &data, total) || failed) {
            goto out;
        }
    }
    ok = secp256k1_gej_is_infinity(&sum);
out:
    if (scratch != NULL) {
        secp256k1_scratch_destroy(&callback, scratch);
    }
    free(scalars);
    free(points);
    free(inverses);
    return ok;
}

PyDoc_STRVAR(agree_doc,
             "agree(hashes, signatures, key_of, keys, coefficients) -> bool\n\n"
             "Whether every signature i (64-byte compact, EIP-2098) over message hash i (32 bytes)\n"
             "recovers to keys[key_of[i]] (64-byte x || y public keys), checked as one sum weighted\n"
             "by coefficients (16 random bytes per signature, none zero). False does not say which\n"
             "signature failed, or that one did: recover each one then.");

static PyObject *agree(PyObject *self, PyObject *args) {
    Py_buffer hashes, signatures, key_of, keys, coefficients;
    PyObject *answer = NULL;
    secp256k1_ge *points = NULL;
    size_t n, n_keys, i;
    int ok;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*", &hashes, &signatures, &key_of, &keys, &coefficients)) {
        return NULL;
    }
    n = (size_t)hashes.len / 32;
    n_keys = (size_t)keys.len / 64;
    if (hashes.len % 32 || (size_t)signatures.len != 64 * n || (size_t)key_of.len != 2 * n ||
        keys.len % 64 || n_keys > 65535 || (size_t)coefficients.len != 16 * n) {
        PyErr_SetString(PyExc_ValueError,
                         "expected 32-byte hashes, a 64-byte signature, a 2-byte key index and 16 bytes of "
                         "coefficient for each, and 64-byte keys (at most 65535)");
        goto done;
    }
    if (n == 0) {
        answer = Py_NewRef(Py_True);
        goto done;
    }
    points = malloc(n_keys * sizeof(secp256k1_ge) + 1);
    if (points == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n_keys; i++) {
        const unsigned char *key = (const unsigned char *)keys.buf + 64 * i;
        secp256k1_fe x, y;
        if (!secp256k1_fe_set_b32(&x, key) || !secp256k1_fe_set_b32(&y, key + 32)) {
            PyErr_Format(PyExc_ValueError, "key %zu is not a curve point (a coordinate is not below p)", i);
            goto done;
        }
        secp256k1_ge_set_xy(&points[i], &x, &y);
        if (!secp256k1_ge_is_valid_var(&points[i])) {
            PyErr_Format(PyExc_ValueError, "key %zu is not a point on secp256k1", i);
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS /* the buffers stay held; the arithmetic is tens of microseconds per batch */
    ok = batch_agrees(hashes.buf, signatures.buf, key_of.buf, points, n_keys, coefficients.buf, n);
    Py_END_ALLOW_THREADS
    if (ok < 0) {
        PyErr_NoMemory();
        goto done;
    }
    answer = Py_NewRef(ok ? Py_True : Py_False);
done:
    free(points);
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&signatures);
    PyBuffer_Release(&key_of);
    PyBuffer_Release(&keys);
    PyBuffer_Release(&coefficients);
    return answer;
}

static PyMethodDef methods[] = {
    {"agree", agree, METH_VARARGS, agree_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "signer._secp256k1_batch",
    "Batch verification of recoverable secp256k1 signatures against expected keys (libsecp256k1 0.2.0).",
    -1,
    methods,
};

PyMODINIT_FUNC PyInit__secp256k1_batch(void) {
    return PyModule_Create(&module);
}
