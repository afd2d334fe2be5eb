"""GOST R 34.10-2012 verification and GOST R 34.11-2012 (Streebog) digests through the system
OpenSSL 3 with Debian's GOST engine (`libengine-gost-openssl`), called with ctypes.

Only the arithmetic is done here: every structure (CMS, certificates, CRLs) is parsed with
asn1crypto before any byte reaches OpenSSL (signatures/cades.py). Why the engine and not a
pure-Python library: docs/signatures.md ("Qualified signatures").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

STREEBOG_256 = "streebog256"
STREEBOG_512 = "streebog512"
_MD_NAMES = {STREEBOG_256: b"md_gost12_256", STREEBOG_512: b"md_gost12_512"}
_ENGINE_METHOD_ALL = 0xFFFF

_lock = threading.Lock()
_state: dict[str, object] = {}


class EngineUnavailable(RuntimeError):
    """The system OpenSSL or its GOST engine is missing (an installation problem)."""


def _library() -> ctypes.CDLL:
    lib = _state.get("lib")
    if lib is not None:
        return lib  # type: ignore[return-value]
    with _lock:
        if "lib" not in _state:
            _state["lib"] = _load()
    return _state["lib"]  # type: ignore[return-value]


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("crypto") or "libcrypto.so.3"
    try:
        lib = ctypes.CDLL(name)
        lib.OpenSSL_version_num.restype = ctypes.c_ulong
    except (OSError, AttributeError) as exc:
        raise EngineUnavailable(f"OpenSSL's libcrypto could not be loaded ({name}).") from exc
    if lib.OpenSSL_version_num() < 0x30000000:
        raise EngineUnavailable("OpenSSL 3 is needed for the GOST engine.")
    _declare(lib)
    engine = lib.ENGINE_by_id(b"gost")
    if not engine or lib.ENGINE_init(engine) != 1:
        lib.ERR_clear_error()
        raise EngineUnavailable(
            "OpenSSL's GOST engine is not installed (Debian: apt-get install "
            "libengine-gost-openssl)."
        )
    # Registered for its own algorithms only: other OpenSSL users in the process are unaffected.
    lib.ENGINE_register_pkey_asn1_meths(engine)
    lib.ENGINE_register_pkey_meths(engine)
    lib.ENGINE_register_digests(engine)
    lib.ENGINE_set_default(engine, _ENGINE_METHOD_ALL)
    for md_name in _MD_NAMES.values():
        if not lib.EVP_get_digestbyname(md_name):
            raise EngineUnavailable(f"OpenSSL's GOST engine has no {md_name.decode()} digest.")
    return lib


def _declare(lib: ctypes.CDLL) -> None:
    vp, cp, size = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
    signatures = {
        "ENGINE_by_id": (vp, [cp]),
        "ENGINE_init": (ctypes.c_int, [vp]),
        "ENGINE_register_pkey_asn1_meths": (ctypes.c_int, [vp]),
        "ENGINE_register_pkey_meths": (ctypes.c_int, [vp]),
        "ENGINE_register_digests": (ctypes.c_int, [vp]),
        "ENGINE_set_default": (ctypes.c_int, [vp, ctypes.c_uint]),
        "EVP_get_digestbyname": (vp, [cp]),
        "EVP_MD_CTX_new": (vp, []),
        "EVP_MD_CTX_free": (None, [vp]),
        "EVP_Digest": (ctypes.c_int, [cp, size, cp, ctypes.POINTER(ctypes.c_uint), vp, vp]),
        "EVP_DigestVerifyInit": (ctypes.c_int, [vp, vp, vp, vp, vp]),
        "EVP_DigestVerify": (ctypes.c_int, [vp, cp, size, cp, size]),
        "d2i_PUBKEY": (vp, [vp, ctypes.POINTER(cp), ctypes.c_long]),
        "EVP_PKEY_free": (None, [vp]),
        "EVP_DigestSignInit": (ctypes.c_int, [vp, vp, vp, vp, vp]),
        "EVP_DigestSign": (ctypes.c_int, [vp, cp, ctypes.POINTER(size), cp, size]),
        "BIO_new_mem_buf": (vp, [cp, ctypes.c_int]),
        "BIO_free": (ctypes.c_int, [vp]),
        "PEM_read_bio_PrivateKey": (vp, [vp, vp, vp, vp]),
        "ERR_clear_error": (None, []),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes


def digest(name: str, data: bytes) -> bytes:
    """Streebog-256 or -512 of data."""
    lib = _library()
    md = lib.EVP_get_digestbyname(_MD_NAMES[name])
    out = ctypes.create_string_buffer(64)
    length = ctypes.c_uint(0)
    if lib.EVP_Digest(data, len(data), out, ctypes.byref(length), md, None) != 1:
        lib.ERR_clear_error()
        raise EngineUnavailable("OpenSSL could not compute a Streebog digest.")
    return out.raw[: length.value]


def verify(spki_der: bytes, digest_name: str, message: bytes, signature: bytes) -> bool:
    """Whether signature is a GOST R 34.10-2012 signature of message (hashed with the
    Streebog digest_name) by the SubjectPublicKeyInfo spki_der. Never raises on bad input."""
    lib = _library()
    key = _public_key(lib, spki_der)
    if not key:
        return False
    context = lib.EVP_MD_CTX_new()
    try:
        md = lib.EVP_get_digestbyname(_MD_NAMES[digest_name])
        if lib.EVP_DigestVerifyInit(context, None, md, None, key) != 1:
            return False
        return lib.EVP_DigestVerify(context, signature, len(signature), message, len(message)) == 1
    finally:
        lib.EVP_MD_CTX_free(context)
        lib.EVP_PKEY_free(key)
        lib.ERR_clear_error()


def _public_key(lib: ctypes.CDLL, spki_der: bytes) -> int | None:
    buffer = ctypes.c_char_p(spki_der)
    key = lib.d2i_PUBKEY(None, ctypes.byref(buffer), len(spki_der))
    if not key:
        lib.ERR_clear_error()
    return key


def sign(private_key_pem: bytes, digest_name: str, message: bytes) -> bytes:
    """A GOST R 34.10-2012 signature of message with an unencrypted PEM private key, in the
    form CMS and X.509 carry it. For tests and benchmarks (signing happens at the supplier's)."""
    lib = _library()
    bio = lib.BIO_new_mem_buf(private_key_pem, len(private_key_pem))
    key = lib.PEM_read_bio_PrivateKey(bio, None, None, None)
    lib.BIO_free(bio)
    if not key:
        lib.ERR_clear_error()
        raise ValueError("Not a GOST private key in PEM.")
    context = lib.EVP_MD_CTX_new()
    try:
        md = lib.EVP_get_digestbyname(_MD_NAMES[digest_name])
        out, length = ctypes.create_string_buffer(128), ctypes.c_size_t(128)
        if (
            lib.EVP_DigestSignInit(context, None, md, None, key) != 1
            or lib.EVP_DigestSign(context, out, ctypes.byref(length), message, len(message)) != 1
        ):
            raise ValueError("OpenSSL could not sign with this key and digest.")
        return out.raw[: length.value]
    finally:
        lib.EVP_MD_CTX_free(context)
        lib.EVP_PKEY_free(key)
        lib.ERR_clear_error()
