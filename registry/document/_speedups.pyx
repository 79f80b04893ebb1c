# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled twins of the verifier's hot path, built from this file when the project is installed.

Each function here gives exactly what a pure-Python function gives, faster; the pure functions
stay the definitions and the reference (tests/test_speedups.py compares the two with Hypothesis,
errors included):

- :func:`b45decode`: :func:`registry.document._base45.b45decode` (RFC 9285);
- :func:`commitments_of`: :func:`registry.document.license.commitments_of` (salt derivation down
  to the wanted leaves, then each field's commitment);
- :func:`header_digest`: the digest of :func:`registry.document.license.header_digest` from the
  header's members;
- :func:`keccak256`: :func:`signer.keccak256`;
- :func:`recover_signer`: :func:`signer.recover_signer` (libsecp256k1's functions, found in
  coincurve's extension, which exports them, and called directly; :data:`SECP256K1` says whether
  they were found);
- :func:`frozen`: a frozen dataclass's constructor (``cls(*values)``), for classes without ``__post_init__``;
- :func:`read_presentation` and :func:`read_compact`: the strict LC1 and LC2 readers, for
  well-formed payloads (anything unusual is left to the strict reader, which says what is wrong).

Keccak-256 is pycryptodome's C implementation (``Crypto.Hash._keccak``, a plain shared library
with a C interface that pycryptodome itself calls through cffi or ctypes), called here directly, so
a hash of a few dozen bytes costs a permutation and no Python call. The library is found and
checked against known answers when this module is imported; any failure raises ``ImportError``,
and the callers then use the pure path.

Everything here runs holding the interpreter lock (but the recovery of a signer's key, which touches
only its own stack and libsecp256k1's context, read-only), and between resetting the one hashing
state and reading its digest it neither calls Python code nor allocates (an allocation can start the garbage
collector, whose finalizers are Python code, during which another thread could run), so the state
is never shared by two calls at once.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.object cimport PyObject_GenericSetAttr
from cpython.unicode cimport (
    Py_UNICODE_ISSPACE,
    PyUnicode_4BYTE_KIND,
    PyUnicode_FromKindAndData,
    PyUnicode_AsUTF8AndSize,
    PyUnicode_DecodeASCII,
    PyUnicode_GET_LENGTH,
    PyUnicode_READ_CHAR,
)
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcmp, memcpy, memset
from posix.dlfcn cimport RTLD_LOCAL, RTLD_NOW, dlerror, dlopen, dlsym

import dataclasses
import importlib.util
import unicodedata

import cbor2

ctypedef int (*_init_t)(void **state, size_t capacity_bytes, uint8_t rounds) noexcept nogil
ctypedef int (*_absorb_t)(void *state, const uint8_t *data, size_t length) noexcept nogil
ctypedef int (*_digest_t)(void *state, uint8_t *out, size_t length, uint8_t padding) noexcept nogil
ctypedef int (*_reset_t)(void *state) noexcept nogil

cdef _absorb_t _absorb = NULL
cdef _digest_t _digest = NULL
cdef _reset_t _reset = NULL
cdef void *_state = NULL

cdef enum:
    _DEPTH = 4          # SALT_TREE_DEPTH: 16 leaves
    _LEAVES = 16
    _SALT = 16
    _HASH = 32
    _KECCAK_PAD = 0x01  # the original Keccak padding (Ethereum's keccak256), not SHA-3's 0x06


cdef void *_symbol(void *handle, const char *name) except NULL:
    cdef void *found = dlsym(handle, name)
    if found == NULL:
        raise ImportError(f"pycryptodome's Keccak library has no symbol {name.decode()}")
    return found


cdef int _load() except -1:
    global _absorb, _digest, _reset, _state
    spec = importlib.util.find_spec("Crypto.Hash._keccak")
    if spec is None or spec.origin is None:
        raise ImportError("pycryptodome's Keccak library (Crypto.Hash._keccak) is not installed")
    path = spec.origin.encode()
    cdef void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)
    if handle == NULL:
        raise ImportError(f"cannot load {spec.origin}: {(<bytes>dlerror()).decode(errors='replace')}")
    cdef _init_t init = <_init_t>_symbol(handle, b"keccak_init")
    _absorb = <_absorb_t>_symbol(handle, b"keccak_absorb")
    _digest = <_digest_t>_symbol(handle, b"keccak_digest")
    _reset = <_reset_t>_symbol(handle, b"keccak_reset")
    if init(&_state, 2 * _HASH, 24) != 0:
        raise ImportError("pycryptodome's keccak_init failed")
    return 0


cdef inline void _start() noexcept:
    _reset(_state)


cdef inline void _feed(const uint8_t *data, size_t length) noexcept:
    _absorb(_state, data, length)


cdef inline void _finish(uint8_t *out) noexcept:
    _digest(_state, out, _HASH, _KECCAK_PAD)


def keccak256(const uint8_t[::1] data not None) -> bytes:
    """Keccak-256 of ``data`` (Ethereum's ``keccak256``)."""
    cdef uint8_t out[_HASH]
    _start()
    if data.shape[0]:
        _feed(&data[0], data.shape[0])
    _finish(out)
    return PyBytes_FromStringAndSize(<char *>out, _HASH)


# ------------------------------------------------------------------------------------------------
# base45 (RFC 9285)
# ------------------------------------------------------------------------------------------------

cdef signed char _B45[256]
cdef const unsigned char *_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
memset(_B45, -1, sizeof(_B45))
for _i in range(45):
    _B45[_ALPHABET[_i]] = _i


def b45decode(str text not None) -> bytes:
    """Decode base45 text; raises ``ValueError`` on any invalid character, group or length
    (checked in that order, as the reference does)."""
    cdef Py_ssize_t n, i, full, tail, at
    cdef const char *s = PyUnicode_AsUTF8AndSize(text, &n)
    cdef const unsigned char *u = <const unsigned char *>s
    if n != len(text):
        raise ValueError("invalid base45 character")  # not ASCII
    for i in range(n):
        if _B45[u[i]] < 0:
            raise ValueError("invalid base45 character")
    full = n // 3
    tail = n % 3
    if tail == 1:
        raise ValueError("invalid base45 length")
    out = PyBytes_FromStringAndSize(NULL, 2 * full + (1 if tail == 2 else 0))
    cdef uint8_t *o = <uint8_t *>PyBytes_AS_STRING(out)
    cdef uint32_t value
    for i in range(full):
        at = 3 * i
        value = _B45[u[at]] + 45 * _B45[u[at + 1]] + 2025 * _B45[u[at + 2]]
        if value > 0xFFFF:
            raise ValueError("invalid base45 group")
        o[2 * i] = value >> 8
        o[2 * i + 1] = value & 0xFF
    if tail == 2:
        value = _B45[u[n - 2]] + 45 * _B45[u[n - 1]]
        if value > 0xFF:
            raise ValueError("invalid base45 group")
        o[2 * full] = value
    return out


# ------------------------------------------------------------------------------------------------
# Commitments and the digest
# ------------------------------------------------------------------------------------------------

cdef Py_ssize_t _cbor_head(uint8_t *out, int major, uint64_t argument) noexcept:
    """The canonical (shortest) head of a CBOR item; its length."""
    cdef int top = major << 5
    cdef int k
    if argument < 24:
        out[0] = top | <int>argument
        return 1
    if argument <= 0xFF:
        out[0] = top | 24
        out[1] = <uint8_t>argument
        return 2
    if argument <= 0xFFFF:
        out[0] = top | 25
        for k in range(2):
            out[2 - k] = (argument >> (8 * k)) & 0xFF
        return 3
    if argument <= 0xFFFFFFFF:
        out[0] = top | 26
        for k in range(4):
            out[4 - k] = (argument >> (8 * k)) & 0xFF
        return 5
    out[0] = top | 27
    for k in range(8):
        out[8 - k] = (argument >> (8 * k)) & 0xFF
    return 9


_MIN64 = -(2**63)
_END64 = 2**63


cdef inline bint _plain(object key, object value):
    """Whether ``[key, value]`` is encoded here: a text key, a text or 64-bit integer value."""
    if type(key) is not str:
        return False
    if type(value) is str:
        return True
    return type(value) is int and _MIN64 <= value < _END64


cdef void _child(const uint8_t *node, uint8_t side, uint8_t *out) noexcept:
    cdef uint8_t buffer[_SALT + 1]
    cdef uint8_t full[_HASH]
    memcpy(buffer, node, _SALT)
    buffer[_SALT] = side
    _start()
    _feed(buffer, _SALT + 1)
    _finish(full)
    memcpy(out, full, _SALT)


cdef void _derive(
    const uint8_t *value, int depth, int index, uint32_t wanted, uint8_t (*salts)[_SALT], uint32_t *have
) noexcept:
    """The salts of the wanted leaves (a bit per leaf, the first leaf lowest) below the node at
    (``depth``, ``index``) whose secret is ``value``, deriving only the nodes on the way."""
    cdef int width = 1 << (_DEPTH - depth)
    cdef uint32_t below = ((1u << width) - 1) << (index * width)
    cdef uint8_t child[_SALT]
    cdef uint8_t side
    if not (wanted & below):
        return
    if depth == _DEPTH:
        memcpy(salts[index], value, _SALT)
        have[0] |= 1u << index
        return
    for side in range(2):
        _child(value, side, child)
        _derive(child, depth + 1, 2 * index + side, wanted, salts, have)


cdef bytes _commit(const uint8_t *salt, object key, object value):
    """``keccak256(salt || cbor([key, value]))``. Every Python object is read before the hashing
    state is touched: between ``_start`` and ``_finish`` nothing allocates, so no other thread can
    run (and reset the state) in between."""
    cdef uint8_t key_head[10]
    cdef uint8_t value_head[9]
    cdef uint8_t out[_HASH]
    cdef Py_ssize_t key_length, key_head_length, value_length = 0, value_head_length
    cdef const char *key_utf8
    cdef const char *value_utf8 = NULL
    cdef int64_t small
    cdef bytes item
    if not _plain(key, value):  # rare types: cbor2 encodes them (Python code) before hashing starts
        item = cbor2.dumps([key, value])
        _start()
        _feed(salt, _SALT)
        _feed(<const uint8_t *>PyBytes_AS_STRING(item), PyBytes_GET_SIZE(item))
        _finish(out)
        return PyBytes_FromStringAndSize(<char *>out, _HASH)
    key_utf8 = PyUnicode_AsUTF8AndSize(key, &key_length)
    key_head[0] = 0x82  # an array of two: the key, the value
    key_head_length = 1 + _cbor_head(key_head + 1, 3, key_length)
    if type(value) is str:
        value_utf8 = PyUnicode_AsUTF8AndSize(value, &value_length)
        value_head_length = _cbor_head(value_head, 3, value_length)
    else:
        small = value
        if small >= 0:
            value_head_length = _cbor_head(value_head, 0, <uint64_t>small)
        else:
            value_head_length = _cbor_head(value_head, 1, <uint64_t>(-1 - small))
    _start()
    _feed(salt, _SALT)
    _feed(key_head, key_head_length)
    _feed(<const uint8_t *>key_utf8, key_length)
    _feed(value_head, value_head_length)
    if value_utf8 != NULL:
        _feed(<const uint8_t *>value_utf8, value_length)
    _finish(out)
    return PyBytes_FromStringAndSize(<char *>out, _HASH)


def commitments_of(nodes, values, positions) -> list:
    """The commitments of ``values`` (key -> canonical value; ``positions``: key -> 0-based leaf),
    salted from the tree ``nodes`` (:class:`~registry.document.license.SaltNode`), in the order of
    ``values``; raises ``KeyError`` for a value whose leaf no node covers."""
    cdef uint8_t salts[_LEAVES][_SALT]
    cdef uint32_t wanted = 0
    cdef uint32_t have = 0
    cdef int depth, index, leaf
    cdef bytes secret
    for key in values:
        leaf = positions[key]
        if not 0 <= leaf < _LEAVES:
            raise ValueError(f"field position {leaf} is outside the salt tree")
        wanted |= 1u << leaf
    for node in nodes:
        depth = node.depth
        index = node.index
        secret = node.value
        if not 0 <= depth <= _DEPTH or not 0 <= index < (1 << depth) or len(secret) != _SALT:
            raise ValueError("a salt node must have depth 0-4, an index in its level and 16 bytes")
        _derive(<const uint8_t *>PyBytes_AS_STRING(secret), depth, index, wanted, salts, &have)
    out = []
    for key, value in values.items():
        leaf = positions[key]
        if not have & (1u << leaf):
            raise KeyError(leaf)
        out.append(_commit(salts[leaf], key, value))
    return out


cdef void _word(uint8_t *out, uint64_t value) noexcept:
    """A uint256 word (32 bytes, big-endian) holding ``value``."""
    cdef int k
    memset(out, 0, 24)
    for k in range(8):
        out[31 - k] = (value >> (8 * k)) & 0xFF


def header_digest(bytes prefix not None, str license_id not None, bytes issuer_id not None,
                  uint64_t valid_from, uint64_t valid_to, list commitments not None) -> bytes:
    """``keccak256(prefix || keccak256(license id) || issuer id || valid from || valid to ||
    keccak256(commitments sorted))``: the license digest from its header's members (``prefix``:
    the type hash, the format version and the type id, 96 bytes) and its commitments, which are
    sorted in place."""
    cdef uint8_t id_hash[_HASH]
    cdef uint8_t fields[_HASH]
    cdef uint8_t words[2 * _HASH]
    cdef uint8_t out[_HASH]
    cdef Py_ssize_t length
    cdef const char *text = PyUnicode_AsUTF8AndSize(license_id, &length)
    cdef bytes item
    commitments.sort()
    for item in commitments:  # checked before hashing starts
        if PyBytes_GET_SIZE(item) != _HASH:
            raise ValueError("a commitment must be 32 bytes")
    _start()
    _feed(<const uint8_t *>text, length)
    _finish(id_hash)
    _start()
    for item in commitments:
        _feed(<const uint8_t *>PyBytes_AS_STRING(item), _HASH)
    _finish(fields)
    _word(words, valid_from)
    _word(words + _HASH, valid_to)
    _start()
    _feed(<const uint8_t *>PyBytes_AS_STRING(prefix), PyBytes_GET_SIZE(prefix))
    _feed(id_hash, _HASH)
    _feed(<const uint8_t *>PyBytes_AS_STRING(issuer_id), PyBytes_GET_SIZE(issuer_id))
    _feed(words, 2 * _HASH)
    _feed(fields, _HASH)
    _finish(out)
    return PyBytes_FromStringAndSize(<char *>out, _HASH)




# ------------------------------------------------------------------------------------------------
# ISO 7064 MOD 37,36 (the license identifier's check character)
# ------------------------------------------------------------------------------------------------

cdef signed char _MOD36[256]
cdef const char *_ALPHANUMERIC = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
memset(_MOD36, -1, sizeof(_MOD36))
for _i in range(36):
    _MOD36[<unsigned char>_ALPHANUMERIC[_i]] = _i


cdef int _check_character(const char *body, Py_ssize_t n) noexcept:
    """The ISO 7064 MOD 37,36 check character of ``body``, or -1 for a character outside 0-9 and A-Z."""
    cdef Py_ssize_t i
    cdef int check = 18, digit
    for i in range(n):
        digit = _MOD36[<unsigned char>body[i]]
        if digit < 0:
            return -1
        check = (((check or 36) * 2) % 37 + digit) % 36
    return _ALPHANUMERIC[(1 - ((check or 36) * 2) % 37 + 36) % 36]  # kept non-negative: C's % keeps the sign


def mod_37_36_check_digit(str body not None) -> str:
    """The ISO 7064 MOD 37,36 check character of ``body`` (digits and upper-case letters), as
    python-stdnum's ``mod_37_36.calc_check_digit`` computes it; ``ValueError`` for any other
    character."""
    cdef Py_ssize_t n
    cdef const char *s = PyUnicode_AsUTF8AndSize(body, &n)
    cdef int check = _check_character(s, n)
    if n != len(body) or check < 0:
        raise ValueError("the body holds a character outside 0-9 and A-Z")
    return chr(check)


# ------------------------------------------------------------------------------------------------
# Instances of frozen dataclasses
# ------------------------------------------------------------------------------------------------

cdef dict _FIELD_NAMES = {}  # class -> its fields' names in declaration order (classes of this code only)


cdef tuple _names_of(type cls):
    names = _FIELD_NAMES.get(cls)
    if names is None:
        params = getattr(cls, "__dataclass_params__", None)
        if params is None or not params.frozen or hasattr(cls, "__post_init__"):
            raise TypeError(f"{cls.__name__} is not a frozen dataclass without __post_init__")
        fields = dataclasses.fields(cls)
        if not all(f.init for f in fields):
            raise TypeError(f"{cls.__name__} has fields its __init__ does not take")
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields)
    return <tuple>names


cdef object _set(type cls, tuple names, tuple values):
    """An instance of ``cls`` with each of ``names`` set to its value as ``object.__setattr__`` sets
    it (what a frozen dataclass's ``__init__`` does), no ``__init__`` run."""
    cdef Py_ssize_t i
    instance = cls.__new__(cls)
    for i in range(len(names)):
        PyObject_GenericSetAttr(instance, names[i], values[i])
    return instance


cdef object _frozen(type cls, tuple values):
    cdef tuple names = _names_of(cls)
    if len(values) != len(names):
        raise TypeError(f"{cls.__name__} takes {len(names)} values, got {len(values)}")
    return _set(cls, names, values)


def frozen(type cls, *values):
    """``cls(*values)`` for a frozen dataclass ``cls`` without ``__post_init__``, every field given
    in declaration order: the instance its generated ``__init__`` makes (which sets each field
    with ``object.__setattr__``), without a Python call per field."""
    return _frozen(cls, values)


# ------------------------------------------------------------------------------------------------
# The presentation's payload: a fast reader that accepts only what the strict reader accepts
# ------------------------------------------------------------------------------------------------
#
# read_presentation(data) reads the LC1 payload (registry/document/presentation.py: the format, and
# _read, the strict reader, which is the reference) and returns the same Presentation the strict
# reader returns, or None for anything unusual: then the strict reader decides, and its error says
# what was wrong. So this reader needs no messages of its own, only to refuse at least what the
# strict reader refuses (tests/test_speedups.py: on random and mutated payloads, None or equal).

cdef enum:
    KIND_TEXT = 0       # text string (UTF-8): canonical text of at most ``high`` characters
    KIND_GB18030 = 1    # byte string: GB 18030 text in its one encoding, canonical, at most ``high`` characters
    KIND_UINT_THEN = 2  # unsigned integer in [low, high], then the field's unpacking
    KIND_INTEGER = 3    # integer (either sign) in [low, high]: its own canonical value (dates)
    KIND_UINT = 4       # unsigned integer in [low, high]: its own canonical value (amounts)
    KIND_CHOICE = 5     # unsigned integer in [low, high] that is one of the codes
    KIND_USCC = 6       # byte string: a packed unified social credit code (12 bytes), its form only

cdef dict _SCHEMA = {}          # type number -> (LicenseType, number of fields, {field number: field})
cdef dict _COMPACT_SCHEMA = {}  # the same for LC2, whose text is GB 18030 bytes
cdef object _CONFIG = None


_ID_FIELDS = ("type_code", "issuer_uscc", "serial", "version", "text", "issuer_id")
_HEADER_FIELDS = ("license_type", "license_id", "valid_from", "valid_to")


def configure(config, schema, compact_schema=None) -> None:
    """Set what the readers build and check with (called once by presentation.py): ``config`` is
    a tuple of the format's constants and classes, ``schema`` maps each type number to (type,
    number of fields, {field number: (key, kind, low, high, check)}) for LC1, ``compact_schema``
    the same for LC2.

    The readers make the license identifier and header themselves (``_identifier``, ``_header``),
    after the checks their ``__post_init__`` makes; this code knows their fields and the
    identifier's layout (8-digit serial, 2-digit version), so it refuses classes that differ."""
    global _CONFIG, _SCHEMA, _COMPACT_SCHEMA
    header_class, id_class = config[5], config[6]
    if tuple(f.name for f in dataclasses.fields(id_class)) != _ID_FIELDS or config[1:3] != (10**8 - 1, 99):
        raise TypeError("the license identifier is not the one this reader makes")
    if tuple(f.name for f in dataclasses.fields(header_class)) != _HEADER_FIELDS:
        raise TypeError("the license header is not the one this reader makes")
    _CONFIG = tuple(config)
    _SCHEMA = dict(schema)
    _COMPACT_SCHEMA = dict(compact_schema or {})


cdef struct _Cursor:
    const uint8_t *data
    Py_ssize_t pos
    Py_ssize_t end


cdef int _head(_Cursor *c, int major, uint64_t *out) noexcept:
    """The argument of a head of ``major`` type in its shortest form; -1 for anything else."""
    cdef uint8_t initial, info
    cdef Py_ssize_t size, k
    cdef uint64_t value = 0
    if c.pos >= c.end:
        return -1
    initial = c.data[c.pos]
    info = initial & 31
    if (initial >> 5) != major or info > 27:
        return -1
    if info < 24:
        c.pos += 1
        out[0] = info
        return 0
    size = 1 << (info - 24)
    if c.pos + 1 + size > c.end:
        return -1
    for k in range(size):
        value = (value << 8) | c.data[c.pos + 1 + k]
    if size == 1:
        if value < 24:
            return -1
    elif value < (<uint64_t>1 << (4 * size)):
        return -1
    c.pos += 1 + size
    out[0] = value
    return 0


cdef int _uint(_Cursor *c, uint64_t low, uint64_t high, uint64_t *out) noexcept:
    if _head(c, 0, out) < 0 or out[0] < low or out[0] > high:
        return -1
    return 0


cdef int _string(_Cursor *c, int major, const uint8_t **start, Py_ssize_t *length) noexcept:
    cdef uint64_t n
    if _head(c, major, &n) < 0 or n > <uint64_t>(c.end - c.pos):
        return -1
    start[0] = c.data + c.pos
    length[0] = <Py_ssize_t>n
    c.pos += <Py_ssize_t>n
    return 0


cdef object _is_normalized = unicodedata.is_normalized
cdef const char *_USCC_ALPHABET = b"0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z


cdef bint _canonical(str text, Py_ssize_t most) except -1:
    """Whether ``text`` is a text field's canonical value, as ``registry.document._fields.canonical_text``
    decides: non-empty, at most ``most`` characters, printable, no surrounding spaces, in NFC."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    if n == 0 or n > most or not text.isprintable():
        return False
    # str.strip() removes exactly the characters Py_UNICODE_ISSPACE holds at either end
    if Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(text, 0)) or Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(text, n - 1)):
        return False
    return _is_normalized("NFC", text)


# GB 18030 text of one- and two-byte codes, decoded here: the character of each two-byte code
# whose character Python's codec encodes back to that code (its one encoding), else 0; built from
# the codec itself when first needed. Anything else (four-byte codes, other bytes) is left to it.
cdef Py_UCS4 _GB_PAIRS[126 * 192]  # (first byte - 0x81) * 192 + (second byte - 0x40)
cdef bint _gb_pairs_ready = False


cdef int _build_gb_pairs() except -1:
    global _gb_pairs_ready
    cdef int first, second
    for first in range(0x81, 0xFF):
        for second in range(0x40, 0x100):
            pair = bytes((first, second))
            try:
                character = pair.decode("gb18030")
            except UnicodeDecodeError:
                continue
            if len(character) == 1 and character.encode("gb18030") == pair:
                _GB_PAIRS[(first - 0x81) * 192 + second - 0x40] = ord(character)
    _gb_pairs_ready = True
    return 0


cdef object _gb18030_short(const uint8_t *start, Py_ssize_t length):
    """The text of GB 18030 bytes that hold only one-byte (ASCII) and two-byte codes, each the one
    encoding of its character: what ``bytes.decode("gb18030")`` gives and encodes back to the same
    bytes; None for anything else (the codec then decides)."""
    cdef Py_UCS4 characters[4096]
    cdef Py_ssize_t i = 0, n = 0
    cdef uint8_t first, second
    cdef Py_UCS4 character
    if length > 4096:
        return None
    if not _gb_pairs_ready:
        _build_gb_pairs()
    while i < length:
        first = start[i]
        if first < 0x80:
            characters[n] = first
            i += 1
        else:
            if first == 0x80 or first == 0xFF or i + 1 >= length or start[i + 1] < 0x40:
                return None
            second = start[i + 1]
            character = _GB_PAIRS[(first - 0x81) * 192 + second - 0x40]
            if character == 0:
                return None
            characters[n] = character
            i += 2
        n += 1
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, characters, n)


cdef object _text(const uint8_t *start, Py_ssize_t length, bint gb18030, Py_ssize_t most):
    """The canonical text of UTF-8 (LC1) or GB 18030 (LC2, its one encoding: the bytes the text
    encodes back to, as ``registry.document._compact.unpack_text`` requires) bytes, or None."""
    if gb18030:
        text = _gb18030_short(start, length)
        if text is not None:
            return text if _canonical(text, most) else None
    try:
        if gb18030:
            text = (<bytes>PyBytes_FromStringAndSize(<const char *>start, length)).decode("gb18030")
            again = (<str>text).encode("gb18030")
            if PyBytes_GET_SIZE(again) != length or memcmp(PyBytes_AS_STRING(again), start, length):
                return None
        else:
            text = (<bytes>PyBytes_FromStringAndSize(<const char *>start, length)).decode("utf-8")
    except ValueError:  # not UTF-8 or GB 18030 (UnicodeDecodeError)
        return None
    return text if _canonical(text, most) else None


cdef object _uscc(const uint8_t *start, Py_ssize_t length):
    """The 18 characters a packed unified social credit code stands for (12 bytes, big-endian, a
    base-31 number below 31**18), its form only, as ``registry.document.identifiers.unpack_uscc``
    gives them without validation; or None."""
    cdef uint32_t limbs[3]
    cdef char code[18]
    cdef uint64_t current, remainder
    cdef int position, k
    if length != 12:
        return None
    for k in range(3):
        limbs[k] = ((<uint32_t>start[4 * k] << 24) | (<uint32_t>start[4 * k + 1] << 16)
                    | (<uint32_t>start[4 * k + 2] << 8) | <uint32_t>start[4 * k + 3])
    for position in range(17, -1, -1):  # the last digit first: the number's remainders modulo 31
        remainder = 0
        for k in range(3):
            current = (remainder << 32) | limbs[k]
            limbs[k] = <uint32_t>(current // 31)
            remainder = current % 31
        code[position] = _USCC_ALPHABET[remainder]
    if limbs[0] or limbs[1] or limbs[2]:  # 31**18 or more
        return None
    return PyUnicode_DecodeASCII(code, 18, NULL)


cdef object _field_value(_Cursor *c, tuple field):
    """A field's canonical value, or None to leave the payload to the strict reader."""
    cdef int kind = field[1]
    cdef uint64_t value
    cdef const uint8_t *start
    cdef Py_ssize_t length
    cdef int64_t low, high
    if kind == KIND_TEXT or kind == KIND_GB18030:
        if _string(c, 3 if kind == KIND_TEXT else 2, &start, &length) < 0:
            return None
        return _text(start, length, kind == KIND_GB18030, field[3])
    if kind == KIND_USCC:
        if _string(c, 2, &start, &length) < 0:
            return None
        return _uscc(start, length)
    low = field[2]
    high = field[3]
    if kind == KIND_INTEGER and c.pos < c.end and (c.data[c.pos] >> 5) == 1:
        if _head(c, 1, &value) < 0 or value > <uint64_t>(-low - 1):
            return None
        return -1 - <int64_t>value
    if _head(c, 0, &value) < 0 or value < <uint64_t>max(low, 0) or (high >= 0 and value > <uint64_t>high):
        return None
    if kind == KIND_UINT_THEN:
        try:
            return field[4](<object>value)
        except ValueError:
            return None
    if kind == KIND_CHOICE and <object>value not in field[4]:
        return None
    return <object>value


cdef object _header(_Cursor *c, object ltype, tuple config):
    """The header (the issuer's code, serial, version, validity days) that follows the type, or None."""
    cdef const uint8_t *start
    cdef Py_ssize_t length
    cdef uint64_t serial, version, valid_from, value
    (fmt, max_serial, max_version, last_day, issuer_code, header_class, id_class, node_class,
     presentation_class, suite_of, default_suite) = config
    if _string(c, 2, &start, &length) < 0:
        return None
    try:
        issuer = issuer_code(PyBytes_FromStringAndSize(<const char *>start, length))
    except ValueError:
        return None
    if _uint(c, 1, max_serial, &serial) < 0 or _uint(c, 1, max_version, &version) < 0:
        return None
    if _uint(c, 0, last_day, &valid_from) < 0:
        return None
    if c.pos < c.end and c.data[c.pos] == 0xF6:
        c.pos += 1
        valid_to = None
    else:
        if _uint(c, 0, last_day, &value) < 0:
            return None
        valid_to = <object>value
    if valid_to is not None and value < valid_from:
        return None
    license_id = _identifier(id_class, ltype.code, issuer, serial, version)
    if license_id is None:
        return None
    # LicenseHeader.__post_init__'s checks hold: the identifier's type is the type, both days are
    # in range (read so) and the last is not before the first
    return _set(header_class, _HEADER_FIELDS, (ltype, license_id, <object>valid_from, valid_to))


cdef uint64_t[8] _POWERS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000]


cdef object _identifier(type id_class, str type_code, str issuer, uint64_t serial, uint64_t version):
    """The ``LicenseIdentifier`` of a type code, an issuer's code (canonical: ``issuer_code``
    validated it), a serial and a version (in range: read so), with the text and issuer id its
    ``__post_init__`` derives; None when the type code is not two upper-case letters (its check)."""
    cdef char body[32]
    cdef char issuer_id[32]
    cdef Py_ssize_t code_length, issuer_length
    cdef const char *code = PyUnicode_AsUTF8AndSize(type_code, &code_length)
    cdef const char *uscc = PyUnicode_AsUTF8AndSize(issuer, &issuer_length)
    cdef int check, k
    if code_length != 2 or not (c'A' <= code[0] <= c'Z' and c'A' <= code[1] <= c'Z'):
        return None
    if issuer_length != 18:
        return None
    memcpy(body, code, 2)
    memcpy(body + 2, uscc, 18)
    for k in range(8):  # the serial in 8 digits (it is below 10**8), then the version in 2 (below 100)
        body[27 - k] = <char>(c'0' + (serial // _POWERS[k]) % 10)
    for k in range(2):
        body[29 - k] = <char>(c'0' + (version // _POWERS[k]) % 10)
    check = _check_character(body, 30)
    if check < 0:
        return None
    body[30] = <char>check
    memset(issuer_id, 0, 32)
    memcpy(issuer_id, uscc, 18)  # issuer_id_from_uscc: the code in ASCII, zero-padded to 32 bytes
    text = PyUnicode_DecodeASCII(body, 31, NULL)
    return _set(id_class, _ID_FIELDS, (type_code, issuer, <object>serial, <object>version, text,
                                       PyBytes_FromStringAndSize(issuer_id, 32)))


cdef object _disclosed(_Cursor *c, dict fields, Py_ssize_t most, uint32_t *positions):
    """The disclosed fields' map (field numbers strictly ascending, each a field of the type) as
    {key: canonical value}, with a bit per position; or None."""
    cdef uint64_t count, number, previous = 0
    cdef Py_ssize_t i
    if _head(c, 5, &count) < 0 or count > <uint64_t>most:
        return None
    values = {}
    for i in range(<Py_ssize_t>count):
        if _head(c, 0, &number) < 0 or number <= previous:
            return None
        field = fields.get(<object>number)
        if field is None:
            return None
        previous = number
        found = _field_value(c, field)
        if found is None:
            return None
        values[field[0]] = found
        positions[0] |= 1u << (number - 1)
    return values


cdef object _nodes(const uint8_t *start, Py_ssize_t count, uint32_t positions, object node_class):
    """The ``count`` salt nodes at ``start`` (possible, non-overlapping positions that cover every
    disclosed field), or None."""
    cdef uint32_t covered = 0, leaves
    cdef int depth, index, width
    cdef Py_ssize_t i
    nodes = []
    for i in range(count):
        depth = start[17 * i] >> 4
        index = start[17 * i] & 0x0F
        if depth > _DEPTH or index >= (1 << depth):
            return None
        width = 1 << (_DEPTH - depth)
        leaves = ((1u << width) - 1) << (index * width)
        if leaves & covered:
            return None
        covered |= leaves
        nodes.append(_frozen(<type>node_class, (depth, index, PyBytes_FromStringAndSize(<const char *>start + 17 * i + 1, 16))))
    if positions & ~covered:
        return None
    return tuple(nodes)


cdef object _hidden(const uint8_t *start, Py_ssize_t count):
    """The ``count`` hidden commitments at ``start``, strictly ascending, or None."""
    cdef Py_ssize_t i
    for i in range(1, count):
        if memcmp(start + (i - 1) * _HASH, start + i * _HASH, _HASH) >= 0:
            return None
    return tuple([PyBytes_FromStringAndSize(<const char *>start + i * _HASH, _HASH) for i in range(count)])


cdef object _suite(_Cursor *c, object suite_of):
    cdef uint64_t code
    if _head(c, 0, &code) < 0:
        return None
    return suite_of(<object>code)


def read_presentation(bytes data not None):
    """The :class:`~registry.document.presentation.Presentation` in ``data`` (an LC1 payload), or
    ``None`` when the strict reader should decide (anything but a well-formed canonical payload)."""
    cdef _Cursor c
    cdef uint64_t count, value
    cdef const uint8_t *start
    cdef Py_ssize_t length, n_hidden
    cdef uint32_t positions = 0
    if _CONFIG is None:
        return None
    config = <tuple>_CONFIG
    c.data = <const uint8_t *>PyBytes_AS_STRING(data)
    c.pos = 0
    c.end = PyBytes_GET_SIZE(data)
    if _head(&c, 4, &count) < 0 or count < 11 or count > 12:
        return None
    if _head(&c, 0, &value) < 0 or value != <uint64_t>config[0]:
        return None
    if _head(&c, 0, &value) < 0:
        return None
    entry = _SCHEMA.get(<object>value)
    if entry is None:
        return None
    ltype, most, fields = entry
    header = _header(&c, ltype, config)
    if header is None:
        return None
    values = _disclosed(&c, fields, most, &positions)
    if values is None:
        return None
    if _string(&c, 2, &start, &length) < 0 or length % 17 or length > 17 * _LEAVES:
        return None
    nodes = _nodes(start, length // 17, positions, config[7])
    if nodes is None:
        return None
    if _string(&c, 2, &start, &length) < 0 or length % _HASH:
        return None
    n_hidden = length // _HASH
    if n_hidden + len(values) > <Py_ssize_t>most:
        return None
    hidden = _hidden(start, n_hidden)
    if hidden is None:
        return None
    if _string(&c, 2, &start, &length) < 0 or length != 64:
        return None
    signature = PyBytes_FromStringAndSize(<const char *>start, 64)
    suite = config[10]
    if count == 12:
        suite = _suite(&c, config[9])
        if suite is None:
            return None
    if c.pos != c.end:
        return None
    return _frozen(<type>config[8], (header, values, nodes, hidden, signature, suite))


def read_compact(int number, bytes struct not None, bytes tail not None):
    """The presentation an LC2 body of type ``number`` carries, from its inflated CBOR array
    ``struct`` and the bytes after the deflate stream ``tail``; or ``None`` when the strict
    reader (``registry.document._compact.read_body``) should decide."""
    cdef _Cursor c
    cdef uint64_t count
    cdef const uint8_t *t
    cdef Py_ssize_t rest, n_nodes, hidden_length
    cdef uint32_t positions = 0
    if _CONFIG is None:
        return None
    config = <tuple>_CONFIG
    entry = _COMPACT_SCHEMA.get(number)
    if entry is None:
        return None
    ltype, most, fields = entry
    c.data = <const uint8_t *>PyBytes_AS_STRING(struct)
    c.pos = 0
    c.end = PyBytes_GET_SIZE(struct)
    if _head(&c, 4, &count) < 0 or count < 6 or count > 7:
        return None
    header = _header(&c, ltype, config)
    if header is None:
        return None
    values = _disclosed(&c, fields, most, &positions)
    if values is None:
        return None
    suite = config[10]
    if count == 7:
        suite = _suite(&c, config[9])
        if suite is None:
            return None
    if c.pos != c.end:
        return None
    # after the stream: 17-byte salt nodes, 32-byte hidden commitments, the 64-byte signature
    rest = PyBytes_GET_SIZE(tail) - 64
    if rest < 0:
        return None
    n_nodes = (17 * rest) % 32
    hidden_length = rest - 17 * n_nodes
    if hidden_length < 0 or hidden_length % _HASH or n_nodes > _LEAVES:
        return None
    if hidden_length // _HASH + len(values) > <Py_ssize_t>most:
        return None
    t = <const uint8_t *>PyBytes_AS_STRING(tail)
    nodes = _nodes(t, n_nodes, positions, config[7])
    if nodes is None:
        return None
    hidden = _hidden(t + 17 * n_nodes, hidden_length // _HASH)
    if hidden is None:
        return None
    signature = PyBytes_FromStringAndSize(<const char *>t + rest, 64)
    return _frozen(<type>config[8], (header, values, nodes, hidden, signature, suite))


# ------------------------------------------------------------------------------------------------
# secp256k1 recovery of a license's signer (libsecp256k1, the copy inside coincurve)
# ------------------------------------------------------------------------------------------------

ctypedef struct _secp_sig:  # secp256k1_ecdsa_recoverable_signature: 65 opaque bytes
    unsigned char data[65]
ctypedef struct _secp_pub:  # secp256k1_pubkey: 64 opaque bytes
    unsigned char data[64]
ctypedef void *(*_ctx_create_t)(unsigned int flags) noexcept nogil
ctypedef int (*_parse_t)(const void *ctx, _secp_sig *sig, const uint8_t *input64, int recid) noexcept nogil
ctypedef int (*_recover_t)(const void *ctx, _secp_pub *pub, const _secp_sig *sig, const uint8_t *msg32) noexcept nogil
ctypedef int (*_serialize_t)(const void *ctx, uint8_t *out, size_t *length, const _secp_pub *pub, unsigned int flags) noexcept nogil

cdef enum:
    _SECP_CONTEXT_VERIFY = 0x101  # SECP256K1_FLAGS_TYPE_CONTEXT | SECP256K1_FLAGS_BIT_CONTEXT_VERIFY
    _SECP_UNCOMPRESSED = 0x2      # SECP256K1_FLAGS_TYPE_COMPRESSION

cdef const void *_secp_ctx = NULL
cdef _parse_t _secp_parse = NULL
cdef _recover_t _secp_recover = NULL
cdef _serialize_t _secp_serialize = NULL
# secp256k1's group order n and n / 2, big-endian: a canonical (EIP-2) signature has 0 < r < n, 0 < s <= n / 2
cdef const unsigned char *_N = (
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe"
    b"\xba\xae\xdc\xe6\xaf\x48\xa0\x3b\xbf\xd2\x5e\x8c\xd0\x36\x41\x41"
)
cdef const unsigned char *_HALF_N = (
    b"\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    b"\x5d\x57\x6e\x73\x57\xa4\x50\x1d\xdf\xe9\x2f\x46\x68\x1b\x20\xa0"
)
cdef const char *_HEX = b"0123456789abcdef"


cdef bint _load_secp256k1() except -1:
    """Find libsecp256k1's functions in coincurve's extension (which exports them) and make a
    verification context; False when that is not possible (the pure path then recovers)."""
    global _secp_ctx, _secp_parse, _secp_recover, _secp_serialize
    spec = importlib.util.find_spec("coincurve._libsecp256k1")
    if spec is None or spec.origin is None:
        return False
    cdef void *handle = dlopen(spec.origin.encode(), RTLD_NOW | RTLD_LOCAL)
    if handle == NULL:
        return False
    cdef _ctx_create_t create = <_ctx_create_t>dlsym(handle, b"secp256k1_context_create")
    _secp_parse = <_parse_t>dlsym(handle, b"secp256k1_ecdsa_recoverable_signature_parse_compact")
    _secp_recover = <_recover_t>dlsym(handle, b"secp256k1_ecdsa_recover")
    _secp_serialize = <_serialize_t>dlsym(handle, b"secp256k1_ec_pubkey_serialize")
    if create == NULL or _secp_parse == NULL or _secp_recover == NULL or _secp_serialize == NULL:
        return False
    _secp_ctx = create(_SECP_CONTEXT_VERIFY)  # never destroyed: one for the process
    return _secp_ctx != NULL


cdef bint _in_range(const uint8_t *value, const unsigned char *bound, bint inclusive) noexcept:
    """0 < value < bound (or <= with ``inclusive``), both 32 bytes big-endian."""
    cdef int i
    cdef bint zero = True
    for i in range(32):
        if value[i]:
            zero = False
            break
    if zero:
        return False
    cdef int order = memcmp(value, bound, 32)
    return order < 0 or (inclusive and order == 0)


def recover_signer(bytes domain not None, bytes digest not None, bytes signature not None):
    """:func:`signer.recover_signer`: the checksummed (EIP-55) address whose key made the 64-byte
    compact ``signature`` over ``keccak256(0x1901 || domain || digest)``; ``None`` when it is not a
    canonical (low-s) recoverable signature."""
    if _secp_recover == NULL:
        raise RuntimeError("libsecp256k1 was not found: use signer.recover_signer")
    if PyBytes_GET_SIZE(signature) != 64:
        return None
    cdef const uint8_t *sig = <const uint8_t *>PyBytes_AS_STRING(signature)
    cdef uint8_t rs[64]
    memcpy(rs, sig, 64)
    rs[32] &= 0x7F
    if not (_in_range(rs, _N, False) and _in_range(rs + 32, _HALF_N, True)):
        return None
    cdef uint8_t message[_HASH]
    cdef uint8_t prefix[2]
    prefix[0] = 0x19
    prefix[1] = 0x01
    _start()
    _feed(prefix, 2)
    _feed(<const uint8_t *>PyBytes_AS_STRING(domain), PyBytes_GET_SIZE(domain))
    _feed(<const uint8_t *>PyBytes_AS_STRING(digest), PyBytes_GET_SIZE(digest))
    _finish(message)
    cdef _secp_sig parsed
    cdef _secp_pub public
    cdef int recovered
    if not _secp_parse(_secp_ctx, &parsed, rs, sig[32] >> 7):
        return None
    with nogil:  # the curve's tens of microseconds: the process's other threads run meanwhile (its I/O)
        recovered = _secp_recover(_secp_ctx, &public, &parsed, message)
    if not recovered:
        return None
    cdef uint8_t serialized[65]
    cdef size_t length = 65
    _secp_serialize(_secp_ctx, serialized, &length, &public, _SECP_UNCOMPRESSED)
    cdef uint8_t hashed[_HASH]
    _start()
    _feed(serialized + 1, 64)
    _finish(hashed)
    cdef char text[42]
    cdef int i
    text[0] = b"0"
    text[1] = b"x"
    for i in range(20):  # the address: the key hash's last 20 bytes, in lowercase hex
        text[2 + 2 * i] = _HEX[hashed[12 + i] >> 4]
        text[3 + 2 * i] = _HEX[hashed[12 + i] & 0xF]
    _start()
    _feed(<const uint8_t *>text + 2, 40)
    _finish(hashed)
    for i in range(40):  # EIP-55: a letter is upper case where the hex text's hash has a nibble >= 8
        if text[2 + i] >= b"a" and ((hashed[i >> 1] >> (4 if i % 2 == 0 else 0)) & 0xF) >= 8:
            text[2 + i] -= 32
    return PyUnicode_DecodeASCII(text, 42, NULL)


_load()
#: Whether :func:`recover_signer` runs (libsecp256k1 found in coincurve's extension).
SECP256K1 = _load_secp256k1()
if keccak256(b"") != bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470") or keccak256(
    b"abc"
) != bytes.fromhex("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"):
    raise ImportError("pycryptodome's Keccak library gives wrong Keccak-256 answers")
