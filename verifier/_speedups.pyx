# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled twin of :func:`verifier.result_json.python_license_json`, built from this file when
the project is installed: the same bytes (tests/test_result_json.py compares the two with
Hypothesis), written without a Python call per part.

The answer is written into one buffer (on the stack for a usual result, grown on the heap past
8 KB) and made into one bytes object at the end, rather than joined from a list of parts; a
field's display that is its value itself (texts, identifiers) is the value's bytes copied.

Strings are written here when their UTF-8 form needs no escape (no ``"``, ``\\`` or control
character), exactly as orjson writes them; anything else, and every number, is written by orjson.
The memos are the reference's own (``verifier.result_json.MEMOS``): the same keys, the same
bounds, the same bytes.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.datetime cimport PyDate_Check, PyDateTime_GET_DAY, PyDateTime_GET_MONTH, PyDateTime_GET_YEAR, import_datetime
from cpython.dict cimport PyDict_GetItem
from cpython.ref cimport PyObject
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, strlen

import orjson

import_datetime()

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL

cdef object _dumps = orjson.dumps
cdef dict _heads = {}
cdef Py_ssize_t _LIMIT = 0


cdef class _Memo:
    cdef dict kept
    cdef object make

    def __init__(self, memo):
        self.kept = memo.kept
        self.make = memo.make

    cdef bytes get(self, tuple key):
        cdef PyObject *found = PyDict_GetItem(self.kept, key)
        if found != NULL:
            return <bytes>found
        made = self.make(*key)
        if len(self.kept) >= _LIMIT:
            self.kept.clear()
        self.kept[key] = made
        return made


cdef _Memo _memo_reason, _memo_type, _memo_field, _memo_issuer, _memo_anchor, _memo_chain


def configure(dict heads, dict memos, Py_ssize_t limit) -> None:
    """Take the reference's status heads and memos (called once, by ``verifier.result_json``)."""
    global _heads, _LIMIT, _memo_reason, _memo_type, _memo_field, _memo_issuer, _memo_anchor, _memo_chain
    _heads = heads
    _LIMIT = limit
    _memo_reason = _Memo(memos["reason"])
    _memo_type = _Memo(memos["license_type"])
    _memo_field = _Memo(memos["field"])
    _memo_issuer = _Memo(memos["issuer"])
    _memo_anchor = _Memo(memos["anchor"])
    _memo_chain = _Memo(memos["chain"])


cdef const char *_HEX = b"0123456789abcdef"

# ------------------------------------------------------------------------------------------------
# The answer is written into one buffer: on the stack for the usual result (about 2.5 KB), grown
# on the heap past it; one bytes object is made at the end. Nothing is made per part but what
# orjson writes (numbers, strings that need escaping) and the memos' first entries.
# ------------------------------------------------------------------------------------------------

cdef enum:
    _STACK = 8192


cdef struct _Out:
    char *data
    Py_ssize_t size
    Py_ssize_t capacity
    bint heap


cdef int _grow(_Out *out, Py_ssize_t more) except -1:
    cdef Py_ssize_t capacity = out.capacity
    cdef char *data
    while capacity - out.size < more:
        capacity *= 2
    if out.heap:
        data = <char *>realloc(out.data, capacity)
    else:
        data = <char *>malloc(capacity)
        if data != NULL:
            memcpy(data, out.data, out.size)
    if data == NULL:
        raise MemoryError()
    out.data = data
    out.capacity = capacity
    out.heap = True
    return 0


cdef inline int _put(_Out *out, const char *text, Py_ssize_t n) except -1:
    if out.capacity - out.size < n:
        _grow(out, n)
    memcpy(out.data + out.size, text, n)
    out.size += n
    return 0


cdef inline int _lit(_Out *out, const char *text) except -1:
    return _put(out, text, strlen(text))


cdef inline int _put_bytes(_Out *out, bytes part) except -1:
    return _put(out, PyBytes_AS_STRING(part), PyBytes_GET_SIZE(part))


cdef int _put_string(_Out *out, object value) except -1:
    """``orjson.dumps(value)`` for a str: written here when it needs no escape, else by orjson."""
    cdef Py_ssize_t n, i
    cdef const char *s = PyUnicode_AsUTF8AndSize(value, &n)
    cdef unsigned char c
    for i in range(n):
        c = <unsigned char>s[i]
        if c < 0x20 or c == 0x22 or c == 0x5C:
            return _put_bytes(out, _dumps(value))
    if out.capacity - out.size < n + 2:
        _grow(out, n + 2)
    cdef char *o = out.data + out.size
    o[0] = 0x22
    memcpy(o + 1, s, n)
    o[n + 1] = 0x22
    out.size += n + 2
    return 0


cdef inline int _put_value(_Out *out, object value) except -1:
    if value is None:
        return _lit(out, b"null")
    if type(value) is str:
        return _put_string(out, value)
    return _put_bytes(out, _dumps(value))


cdef int _put_hex(_Out *out, object value) except -1:
    """``"0x…"`` of a bytes value (lower-case hex, as ``bytes.hex``)."""
    if value is None:
        return _lit(out, b"null")
    cdef const unsigned char *data = <const unsigned char *>PyBytes_AS_STRING(<bytes?>value)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(<bytes>value), i
    if out.capacity - out.size < 2 * n + 4:
        _grow(out, 2 * n + 4)
    cdef char *o = out.data + out.size
    o[0] = 0x22
    o[1] = 0x30
    o[2] = 0x78
    for i in range(n):
        o[3 + 2 * i] = _HEX[data[i] >> 4]
        o[4 + 2 * i] = _HEX[data[i] & 15]
    o[2 * n + 3] = 0x22
    out.size += 2 * n + 4
    return 0


cdef int _put_date(_Out *out, object value) except -1:
    """``"YYYY-MM-DD"`` of a date (``date.isoformat``, for years 1 to 9999)."""
    if value is None:
        return _lit(out, b"null")
    if not PyDate_Check(value):
        raise TypeError("not a date")
    cdef int year = PyDateTime_GET_YEAR(value), month = PyDateTime_GET_MONTH(value), day = PyDateTime_GET_DAY(value)
    if out.capacity - out.size < 12:
        _grow(out, 12)
    cdef char *o = out.data + out.size
    o[0] = 0x22
    o[1] = 48 + year // 1000
    o[2] = 48 + year // 100 % 10
    o[3] = 48 + year // 10 % 10
    o[4] = 48 + year % 10
    o[5] = 0x2D
    o[6] = 48 + month // 10
    o[7] = 48 + month % 10
    o[8] = 0x2D
    o[9] = 48 + day // 10
    o[10] = 48 + day % 10
    o[11] = 0x22
    out.size += 12
    return 0


cdef int _put_again(_Out *out, Py_ssize_t start, Py_ssize_t n) except -1:
    """The ``n`` bytes written at ``start`` once more (offsets: growing may move the buffer)."""
    if out.capacity - out.size < n:
        _grow(out, n)
    memcpy(out.data + out.size, out.data + start, n)
    out.size += n
    return 0


cdef int _put_field(_Out *out, object f) except -1:
    """One disclosed field; a display that is the value itself (texts, identifiers) is the value's
    bytes copied, not written again."""
    cdef object value = f.value, display_zh = f.display_zh, display_en = f.display_en
    cdef Py_ssize_t start
    _put_bytes(out, _memo_field.get((f.key, f.label_zh, f.label_en)))
    start = out.size
    _put_value(out, value)
    cdef Py_ssize_t n = out.size - start
    _lit(out, b',"display":{"zh":')
    if display_zh is value:
        _put_again(out, start, n)
    else:
        _put_value(out, display_zh)
    _lit(out, b',"en":')
    if display_en is value:
        _put_again(out, start, n)
    else:
        _put_value(out, display_en)
    _lit(out, b"}}")
    return 0


def license_json(result, stale=None) -> bytes:
    """``verifier.result_json.python_license_json(result, stale)``, compiled."""
    cdef char local[_STACK]
    cdef _Out out
    out.data = local
    out.size = 0
    out.capacity = _STACK
    out.heap = False
    try:
        _write(&out, result, stale)
        return PyBytes_FromStringAndSize(out.data, out.size)
    finally:
        if out.heap:
            free(out.data)


cdef int _write(_Out *out, object result, object stale) except -1:
    cdef bint first = True
    _put_bytes(out, <bytes?>_heads[result.status])
    _lit(out, b',"reasons":[')
    for r in result.reasons:
        if not first:
            _lit(out, b",")
        first = False
        _put_bytes(out, _memo_reason.get((r.code, r.zh, r.en)))
    if stale is not None:
        if not first:
            _lit(out, b",")
        _put_bytes(out, _dumps(stale))
    _lit(out, b'],"license_id":')
    _put_value(out, result.license_id)
    _lit(out, b',"license_type":')
    code = result.license_type
    if code is None:
        _lit(out, b"null")
    else:
        _put_bytes(out, _memo_type.get((code, result.license_type_name)))
    _lit(out, b',"valid_from":')
    _put_date(out, result.valid_from)
    _lit(out, b',"valid_to":')
    _put_date(out, result.valid_to)
    _lit(out, b',"disclosed":[')
    first = True
    for f in result.disclosed:
        if not first:
            _lit(out, b",")
        first = False
        _put_field(out, f)
    _lit(out, b'],"hidden_fields":')
    _put_bytes(out, _dumps(result.hidden_fields))
    _lit(out, b',"issuer":')
    issuer = result.issuer
    if issuer is not None:
        _put_bytes(out, _memo_issuer.get((result.issuer_uscc, issuer.name, issuer.region, issuer.region_name)))
    elif result.issuer_uscc is None:
        _lit(out, b"null")
    else:
        _put_bytes(out, _memo_issuer.get((result.issuer_uscc, None, None, None)))
    _lit(out, b',"anchor":')
    anchor = result.anchor
    if anchor is None:
        _lit(out, b"null")
    else:
        _put_bytes(out, _memo_anchor.get((anchor.root, anchor.timestamp, anchor.block_number)))
    _lit(out, b',"digest":')
    _put_hex(out, result.digest)
    _lit(out, b',"signer":')
    _put_value(out, result.signer)
    _lit(out, b',"suite":')
    suite = result.suite
    if suite is None:
        _lit(out, b"null")
    else:
        _put_value(out, suite._value_)  # not .value: an Enum property is a Python call
    _lit(out, b',"certificate_subject":')
    _put_value(out, result.certificate_subject)
    _lit(out, b',"replacement":')
    _put_hex(out, result.replacement)
    _lit(out, b',"co_approval":')
    co_approval = result.co_approval
    if co_approval is None:
        _lit(out, b"null")
    else:
        _put_bytes(out, _dumps(co_approval.to_dict()))
    _lit(out, b',"chain":')
    chain = result.chain
    checked_at = result.checked_at
    if chain is None:
        _lit(out, b"null")
    else:
        synced_at = chain.synced_at
        _put_bytes(
            out,
            _memo_chain.get((chain.block_number, chain.block_time, synced_at, checked_at, type(synced_at), type(checked_at))),
        )
    _lit(out, b',"checked_at":')
    _put_bytes(out, _dumps(int(checked_at)))
    if stale is not None:
        _lit(out, b',"stale":true}')
    else:
        _lit(out, b',"stale":false}')
    return 0
