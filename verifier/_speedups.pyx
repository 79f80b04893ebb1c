# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled twin of :func:`verifier.result_json.python_license_json`, built from this file when
the project is installed: the same bytes (tests/test_result_json.py compares the two with
Hypothesis), written without a Python call per part.

Strings are written here when their UTF-8 form needs no escape (no ``"``, ``\\`` or control
character), exactly as orjson writes them; anything else, and every number, is written by orjson.
The memos are the reference's own (``verifier.result_json.MEMOS``): the same keys, the same
bounds, the same bytes.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.datetime cimport PyDate_Check, PyDateTime_GET_DAY, PyDateTime_GET_MONTH, PyDateTime_GET_YEAR, import_datetime
from cpython.dict cimport PyDict_GetItem
from cpython.list cimport PyList_Append
from cpython.ref cimport PyObject
from libc.string cimport memcpy

import orjson

import_datetime()

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL

cdef object _dumps = orjson.dumps
cdef dict _heads = {}
cdef bytes _NULL = b"null"
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


cdef bytes _string(object value):
    """``orjson.dumps(value)`` for a str (the plain case written here)."""
    cdef Py_ssize_t n, i
    cdef const char *s = PyUnicode_AsUTF8AndSize(value, &n)
    cdef unsigned char c
    for i in range(n):
        c = <unsigned char>s[i]
        if c < 0x20 or c == 0x22 or c == 0x5C:
            return _dumps(value)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, n + 2)
    cdef char *o = PyBytes_AS_STRING(out)
    o[0] = 0x22
    memcpy(o + 1, s, n)
    o[n + 1] = 0x22
    return out


cdef inline bytes _value(object value):
    if value is None:
        return _NULL
    if type(value) is str:
        return _string(value)
    return _dumps(value)


cdef const char *_HEX = b"0123456789abcdef"


cdef bytes _hex(object value):
    """``"0x…"`` of a bytes value (lower-case hex, as ``bytes.hex``)."""
    if value is None:
        return _NULL
    cdef const unsigned char *data = <const unsigned char *>PyBytes_AS_STRING(<bytes?>value)
    cdef Py_ssize_t n = len(<bytes>value), i
    cdef bytes out = PyBytes_FromStringAndSize(NULL, 2 * n + 4)
    cdef char *o = PyBytes_AS_STRING(out)
    o[0] = 0x22
    o[1] = 0x30
    o[2] = 0x78
    for i in range(n):
        o[3 + 2 * i] = _HEX[data[i] >> 4]
        o[4 + 2 * i] = _HEX[data[i] & 15]
    o[2 * n + 3] = 0x22
    return out


cdef bytes _date(object value):
    """``"YYYY-MM-DD"`` of a date (``date.isoformat``, for years 1 to 9999)."""
    if value is None:
        return _NULL
    if not PyDate_Check(value):
        raise TypeError("not a date")
    cdef int year = PyDateTime_GET_YEAR(value), month = PyDateTime_GET_MONTH(value), day = PyDateTime_GET_DAY(value)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, 12)
    cdef char *o = PyBytes_AS_STRING(out)
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
    return out


def license_json(result, stale=None) -> bytes:
    """``verifier.result_json.python_license_json(result, stale)``, compiled."""
    cdef list out = [_heads[result.status], b',"reasons":[']
    cdef bint first = True
    for r in result.reasons:
        if not first:
            PyList_Append(out, b",")
        first = False
        PyList_Append(out, _memo_reason.get((r.code, r.zh, r.en)))
    if stale is not None:
        if not first:
            PyList_Append(out, b",")
        PyList_Append(out, _dumps(stale))
    PyList_Append(out, b'],"license_id":')
    PyList_Append(out, _value(result.license_id))
    PyList_Append(out, b',"license_type":')
    code = result.license_type
    PyList_Append(out, _NULL if code is None else _memo_type.get((code, result.license_type_name)))
    PyList_Append(out, b',"valid_from":')
    PyList_Append(out, _date(result.valid_from))
    PyList_Append(out, b',"valid_to":')
    PyList_Append(out, _date(result.valid_to))
    PyList_Append(out, b',"disclosed":[')
    first = True
    for f in result.disclosed:
        if not first:
            PyList_Append(out, b",")
        first = False
        PyList_Append(out, _memo_field.get((f.key, f.label_zh, f.label_en)))
        PyList_Append(out, _value(f.value))
        PyList_Append(out, b',"display":{"zh":')
        PyList_Append(out, _value(f.display_zh))
        PyList_Append(out, b',"en":')
        PyList_Append(out, _value(f.display_en))
        PyList_Append(out, b"}}")
    PyList_Append(out, b'],"hidden_fields":')
    PyList_Append(out, _dumps(result.hidden_fields))
    PyList_Append(out, b',"issuer":')
    issuer = result.issuer
    if issuer is not None:
        PyList_Append(out, _memo_issuer.get((result.issuer_uscc, issuer.name, issuer.region, issuer.region_name)))
    elif result.issuer_uscc is None:
        PyList_Append(out, _NULL)
    else:
        PyList_Append(out, _memo_issuer.get((result.issuer_uscc, None, None, None)))
    PyList_Append(out, b',"anchor":')
    anchor = result.anchor
    PyList_Append(out, _NULL if anchor is None else _memo_anchor.get((anchor.root, anchor.timestamp, anchor.block_number)))
    PyList_Append(out, b',"digest":')
    PyList_Append(out, _hex(result.digest))
    PyList_Append(out, b',"signer":')
    PyList_Append(out, _value(result.signer))
    PyList_Append(out, b',"suite":')
    suite = result.suite
    PyList_Append(out, _NULL if suite is None else _value(suite.value))
    PyList_Append(out, b',"certificate_subject":')
    PyList_Append(out, _value(result.certificate_subject))
    PyList_Append(out, b',"replacement":')
    PyList_Append(out, _hex(result.replacement))
    PyList_Append(out, b',"co_approval":')
    co_approval = result.co_approval
    PyList_Append(out, _NULL if co_approval is None else _dumps(co_approval.to_dict()))
    PyList_Append(out, b',"chain":')
    chain = result.chain
    checked_at = result.checked_at
    if chain is None:
        PyList_Append(out, _NULL)
    else:
        synced_at = chain.synced_at
        PyList_Append(
            out,
            _memo_chain.get((chain.block_number, chain.block_time, synced_at, checked_at, type(synced_at), type(checked_at))),
        )
    PyList_Append(out, b',"checked_at":')
    PyList_Append(out, _dumps(int(checked_at)))
    PyList_Append(out, b',"stale":true}' if stale is not None else b',"stale":false}')
    return b"".join(out)
