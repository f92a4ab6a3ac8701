"""Encryption at rest of ID numbers and phones (issue #17 item 4; docs/parts/security.md).

- **Ciphertext**: SM4-GCM (GB/T 32907 block cipher, 128-bit key) through ``cryptography``; a token is
  ``v1:<key id>:<base64url(nonce 12 bytes ‖ ciphertext ‖ tag 16 bytes)>``. The associated data binds a token to
  its *purpose* (``id_number`` / ``phone``), so a phone ciphertext pasted into an ID column does not decrypt.
  The key id lets keys rotate: new values use the current key, every listed key still decrypts
  (``fangpin encryption rotate`` re-encrypts old tokens with the current key).
- **Blind index**: HMAC-SM3 with a separate key over purpose ‖ kind ‖ normalised value, truncated to 128 bits
  (``full``, the exact lookup) or 64 bits (``tail``: the last four characters, the "search by 尾号" lookup).
  Without the index key neither can be reversed or brute-forced, even for the 10⁴ possible tails.

Keys come from settings: ``FANGPIN_DATA_KEYS`` = ``{key id: 16-byte key}`` with ``FANGPIN_DATA_KEY_ID`` the
current one, and ``FANGPIN_INDEX_KEY`` (≥ 16 bytes). Development and test settings derive fixed, public keys
(``FANGPIN_DEV_KEYS = True``); the production settings read them from the environment and a system check
refuses to start with development keys (``core.checks``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac as std_hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VERSION = "v1"
NONCE = 12
TAG = 16
FULL_BYTES = 16  # 128-bit exact-lookup digest → 32 hex characters
TAIL_BYTES = 8  # 64-bit tail digest → 16 hex characters
TAIL_LEN = 4
_STRIP = re.compile(r"[\s\-]")


class MissingKeyError(Exception):
    """A token names a key this installation does not hold, or its key material is missing."""


class DecryptionError(Exception):
    """A token that is not ours, was altered, or belongs to another purpose."""


def dev_key(label: str, size: int = 16) -> bytes:
    """The fixed, *public* development key for ``label`` (never used in production: ``core.checks``)."""
    return hashlib.sha256(f"fangpin-development-key-not-secret:{label}".encode()).digest()[:size]


def parse_keys(text: str) -> dict[str, bytes]:
    """``"k2:<32 hex>,k1:<32 hex>"`` (the environment form) → {key id: key}; the first one is current."""
    out: dict[str, bytes] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        kid, _, hexkey = part.partition(":")
        key = bytes.fromhex(hexkey)
        if not re.fullmatch(r"[A-Za-z0-9_]{1,16}", kid) or len(key) != 16:
            raise ValueError(f"数据密钥格式错误：{kid}（应为 密钥编号:32位十六进制）")
        out[kid] = key
    return out


LEGACY_INDEX_ID = "0"  # the single FANGPIN_INDEX_KEY of before index-key ids: its digests carry no prefix


def parse_index_keys(text: str) -> dict[str, bytes]:
    """``"i2:<hex>,0:<hex>"`` (``FANGPIN_INDEX_KEYS``) → {index key id: key}; the first is current. Ids are
    1-4 letters or digits (they prefix every digest made with the key); ``0`` is the key of before ids."""
    out: dict[str, bytes] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        kid, _, hexkey = part.partition(":")
        key = bytes.fromhex(hexkey)
        if not re.fullmatch(r"[A-Za-z0-9]{1,4}", kid) or len(key) < 16:
            raise ValueError(f"索引密钥格式错误：{kid}（应为 密钥编号(1-4位字母数字):至少32位十六进制）")
        out[kid] = key
    return out


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]
    index_key: bytes  # the current index key
    index_current: str = LEGACY_INDEX_ID
    index_keys: dict[str, bytes] | None = None  # every listed index key (lookups try each while rotating)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise MissingKeyError(f"当前数据密钥 {self.current} 不在密钥列表中")
        if len(self.index_key) < 16:
            raise MissingKeyError("索引密钥至少16字节")
        if self.index_keys is None:
            object.__setattr__(self, "index_keys", {self.index_current: self.index_key})


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    """Keys from settings. Index keys: ``FANGPIN_INDEX_KEYS`` ({id: key}, first current, or
    ``FANGPIN_INDEX_KEY_ID`` names the current) or, as before, the one ``FANGPIN_INDEX_KEY`` (id ``0``)."""
    from django.conf import settings

    keys = dict(getattr(settings, "FANGPIN_DATA_KEYS", {}) or {})
    current = getattr(settings, "FANGPIN_DATA_KEY_ID", "") or (next(iter(keys)) if keys else "")
    index_keys = {k: bytes(v) for k, v in (getattr(settings, "FANGPIN_INDEX_KEYS", None) or {}).items()}
    if not index_keys and getattr(settings, "FANGPIN_INDEX_KEY", b""):
        index_keys = {LEGACY_INDEX_ID: bytes(settings.FANGPIN_INDEX_KEY)}
    if not keys or not index_keys:
        raise MissingKeyError("未配置数据加密密钥（FANGPIN_DATA_KEYS / FANGPIN_INDEX_KEY）")
    icur = getattr(settings, "FANGPIN_INDEX_KEY_ID", "") or next(iter(index_keys))
    if icur not in index_keys:
        raise MissingKeyError(f"当前索引密钥 {icur} 不在密钥列表中")
    return Keyring(current=current, keys=keys, index_key=index_keys[icur], index_current=icur,
                   index_keys=index_keys)  # fmt: skip


@lru_cache(maxsize=16)
def _algorithm(key: bytes) -> algorithms.SM4:
    return algorithms.SM4(key)


def reset() -> None:
    """Forget the cached keys (settings changed: tests, rotation)."""
    keyring.cache_clear()
    _algorithm.cache_clear()
    _keyed_sm3.cache_clear()
    _tail_digest.cache_clear()
    integrity_keys.cache_clear()


def _aad(purpose: str) -> bytes:
    aad = _AAD.get(purpose)
    if aad is None:
        aad = _AAD[purpose] = f"fangpin:{purpose}".encode()
    return aad


_AAD: dict[str, bytes] = {}
_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _seal(alg: algorithms.SM4, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    enc = Cipher(alg, modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    ct = enc.update(data) + enc.finalize()
    return nonce + ct + enc.tag


def encrypt(plain: str, purpose: str) -> str:
    ring = keyring()
    alg = _algorithm(ring.keys[ring.current])
    blob = _seal(alg, os.urandom(NONCE), plain.encode(), _aad(purpose))
    return f"{VERSION}:{ring.current}:{base64.urlsafe_b64encode(blob).decode()}"


def encrypt_many(values: Sequence[str | None], purpose: str) -> list[str | None]:
    """``encrypt`` for a column (one nonce draw, one cipher algorithm object); None and "" stay as they are."""
    ring = keyring()
    alg = _algorithm(ring.keys[ring.current])
    aad = _aad(purpose)
    head = f"{VERSION}:{ring.current}:"
    nonces = os.urandom(NONCE * len(values))
    b64 = base64.urlsafe_b64encode
    out: list[str | None] = []
    append = out.append
    for i, v in enumerate(values):
        if not v:
            append(v)
            continue
        blob = _seal(alg, nonces[i * NONCE : (i + 1) * NONCE], v.encode(), aad)
        append(head + b64(blob).decode())
    return out


def is_token(value: str | None) -> bool:
    return bool(value) and value.startswith(VERSION + ":") and value.count(":") >= 2


def key_id(token: str) -> str:
    return token.split(":", 2)[1]


def decrypt(token: str, purpose: str) -> str:
    try:
        version, kid, body = token.split(":", 2)
    except ValueError:
        raise DecryptionError("不是加密数据") from None
    if version != VERSION:
        raise DecryptionError(f"未知的加密格式 {version}")
    ring = keyring()
    key = ring.keys.get(kid)
    if key is None:
        raise MissingKeyError(f"缺少数据密钥 {kid}")
    try:  # base64.urlsafe_b64decode's own steps, without its three Python wrappers (~930 values an export)
        blob = binascii.a2b_base64(body.encode("ascii").translate(_URLSAFE))
    except ValueError:  # binascii.Error and UnicodeEncodeError are both ValueErrors, as urlsafe_b64decode's
        raise DecryptionError("加密数据已损坏") from None
    nonce, ct, tag = blob[:NONCE], blob[NONCE:-TAG], blob[-TAG:]
    dec = Cipher(_algorithm(key), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(_aad(purpose))
    try:
        return (dec.update(ct) + dec.finalize()).decode()
    except InvalidTag:
        raise DecryptionError("加密数据校验失败（被篡改或用途不符）") from None


def normalize(value: str) -> str:
    """The form both sides of a lookup take: no spaces or hyphens, upper case (the X of an ID number)."""
    return _STRIP.sub("", value).upper()


@lru_cache(maxsize=4)
def _keyed_sm3(key: bytes):  # noqa: ANN202
    """A keyed HMAC-SM3 state to ``copy()`` per value: OpenSSL's SM3 through the standard library when it
    has it (twice as fast as building a ``cryptography`` HMAC per value), else ``cryptography``."""
    if "sm3" in hashlib.algorithms_available:
        return std_hmac.new(key, digestmod="sm3")
    return hmac.HMAC(key, hashes.SM3())


def _raw_digest(purpose: str, kind: str, value: str, size: int, kid: str | None = None) -> bytes:
    ring = keyring()
    key = ring.index_key if kid is None else ring.index_keys.get(kid)
    if key is None:
        raise MissingKeyError(f"缺少索引密钥 {kid}")
    h = _keyed_sm3(key).copy()
    h.update(f"{purpose}\x00{kind}\x00{value}".encode())
    out = h.digest() if hasattr(h, "digest") else h.finalize()
    return out[:size]


def _digest(purpose: str, kind: str, value: str, size: int) -> str:
    return _raw_digest(purpose, kind, value, size).hex()


def _index_text(raw: bytes, kid: str) -> str:
    """A stored index value: hex for the key of before ids (``0``), else ``<id>:<base64url>`` — the key id
    travels with the digest and the column widths (32 / 16 characters) still hold it."""
    if kid == LEGACY_INDEX_ID:
        return raw.hex()
    return f"{kid}:{base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


def index_key_id(stored: str) -> str:
    """The index key a stored blind index or tail was made with."""
    return stored.split(":", 1)[0] if ":" in stored else LEGACY_INDEX_ID


def blind_index(value: str | None, purpose: str, kid: str | None = None) -> str | None:
    """The exact-lookup digest of a value under the current index key (or ``kid``); None for an empty one."""
    if not value:
        return None
    v = normalize(value)
    if not v:
        return None
    kid = kid or keyring().index_current
    return _index_text(_raw_digest(purpose, "full", v, FULL_BYTES, kid), kid)


def blind_index_all(value: str | None, purpose: str) -> list[str]:
    """The value's digest under every listed index key (current first): what a lookup compares, so it finds
    rows indexed before and after an index-key rotation alike."""
    ring = keyring()
    out = [blind_index(value, purpose, k) for k in [ring.index_current, *ring.index_keys]]
    return list(dict.fromkeys(d for d in out if d))


def tail_index(value: str | None, purpose: str, kid: str | None = None) -> str | None:
    """The digest of the last four characters (None when shorter): what a search for 尾号 compares."""
    if not value:
        return None
    v = normalize(value)
    if len(v) < TAIL_LEN:
        return None
    return _tail_digest(purpose, v[-TAIL_LEN:], kid or keyring().index_current)


def tail_index_all(value: str | None, purpose: str) -> list[str]:
    ring = keyring()
    out = [tail_index(value, purpose, k) for k in [ring.index_current, *ring.index_keys]]
    return list(dict.fromkeys(d for d in out if d))


@lru_cache(maxsize=1 << 16)
def _tail_digest(purpose: str, tail: str, kid: str) -> str:
    """At most 10⁴ distinct tails per purpose: an import computes each once."""
    return _index_text(_raw_digest(purpose, "tail", tail, TAIL_BYTES, kid), kid)


def blind_indexes(values: Iterable[str], purpose: str, *, every_key: bool = False) -> dict[str, str]:
    """{digest: value} for every non-empty value (the caller maps digests back to its own values); with
    ``every_key`` a value has a digest under each listed index key (matching while the key rotates)."""
    out = {}
    for v in values:
        for d in blind_index_all(v, purpose) if every_key else [blind_index(v, purpose)]:
            if d is not None:
                out[d] = v
    return out


def backup_key(kid: str | None = None) -> tuple[str, bytes]:
    """(key id, 16-byte SM4 key) for backup files: derived from a data key (HMAC-SM3 over a fixed label),
    so a backup key never equals a field key; ``kid`` None = the current key."""
    ring = keyring()
    kid = kid or ring.current
    key = ring.keys.get(kid)
    if key is None:
        raise MissingKeyError(f"缺少数据密钥 {kid}")
    h = _keyed_sm3(key).copy()
    h.update(b"fangpin:backup-file-key")
    out = h.digest() if hasattr(h, "digest") else h.finalize()
    return kid, out[:16]


@lru_cache(maxsize=1)
def integrity_keys() -> tuple[str, dict[str, bytes]]:
    """(current key id, {key id: 32-byte key}) for the HMAC-SM3 seals of decision records (``core.integrity``).

    ``FANGPIN_INTEGRITY_KEYS`` ({id: key}, first current; production: ``"s2:<64 hex>,s1:<64 hex>"`` from the
    environment) when a deployment keeps that key apart (a 密码机; the derived keys below then only verify);
    otherwise one key per data key, derived by HMAC-SM3 over a fixed label (as ``backup_key``), with the data
    key's id — a data-key rotation then brings a new integrity key, and ``fangpin integrity seal`` re-seals the
    rows under it."""
    from django.conf import settings

    ring = keyring()
    derived = {}
    for kid, key in ring.keys.items():
        h = _keyed_sm3(key).copy()
        h.update(b"fangpin:integrity-key")
        derived[kid] = h.digest() if hasattr(h, "digest") else h.finalize()
    own = {k: bytes(v) for k, v in (getattr(settings, "FANGPIN_INTEGRITY_KEYS", None) or {}).items()}
    if not own:
        return ring.current, derived
    cur = getattr(settings, "FANGPIN_INTEGRITY_KEY_ID", "") or next(iter(own))
    if cur not in own:
        raise MissingKeyError(f"当前完整性密钥 {cur} 不在密钥列表中")
    # seals made before the deployment set its own keys still verify (``integrity seal`` moves them over)
    return cur, {**derived, **own}


def seal_stream(src, dst, *, chunk: int = 1 << 20) -> dict:
    """SM4-GCM of a file in chunks (``src``/``dst`` binary file objects). Each chunk has its own nonce
    (random 8-byte prefix ‖ 4-byte counter) and the associated data binds header, position and whether it
    is the last one, so a reordered, dropped or truncated chunk fails. Returns the header written."""
    import json
    import struct

    kid, key = backup_key()
    alg = _algorithm(key)
    header = {"alg": "SM4-GCM", "key_id": kid, "chunk": chunk, "nonce_prefix": os.urandom(8).hex()}
    head = json.dumps(header, sort_keys=True).encode()
    dst.write(BACKUP_MAGIC + struct.pack(">I", len(head)) + head)
    prefix = bytes.fromhex(header["nonce_prefix"])
    n, block = 0, src.read(chunk)
    while True:
        nxt = src.read(chunk) if block else b""
        final = not nxt
        sealed = _seal(alg, prefix + struct.pack(">I", n), block, _chunk_aad(head, n, final))[NONCE:]
        dst.write(struct.pack(">I", len(sealed)) + sealed)
        if final:
            return header
        n, block = n + 1, nxt


BACKUP_MAGIC = b"FPBK\x01"


def _chunk_aad(head: bytes, n: int, final: bool) -> bytes:
    import struct

    return b"fangpin:backup" + head + struct.pack(">QB", n, int(final))


def is_sealed_stream(path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(BACKUP_MAGIC)) == BACKUP_MAGIC


def open_stream(src, dst) -> dict:
    """Decrypts what ``seal_stream`` wrote into ``dst``; raises DecryptionError on any change, a missing
    key (MissingKeyError), a truncated file or trailing bytes. ``dst`` is only trustworthy on return."""
    import json
    import struct

    if src.read(len(BACKUP_MAGIC)) != BACKUP_MAGIC:
        raise DecryptionError("不是加密备份文件")
    try:
        (size,) = struct.unpack(">I", src.read(4))
        head = src.read(size)
        header = json.loads(head)
        prefix = bytes.fromhex(header["nonce_prefix"])
    except (struct.error, ValueError, KeyError):
        raise DecryptionError("加密备份文件头已损坏") from None
    if header.get("alg") != "SM4-GCM":
        raise DecryptionError(f"未知的备份加密算法 {header.get('alg')}")
    alg = _algorithm(backup_key(header["key_id"])[1])
    n = 0
    while True:
        raw = src.read(4)
        if len(raw) < 4:
            raise DecryptionError("加密备份文件不完整（被截断）")
        (size,) = struct.unpack(">I", raw)
        body = src.read(size)
        if len(body) != size or size < TAG:
            raise DecryptionError("加密备份文件不完整（被截断）")
        nonce = prefix + struct.pack(">I", n)
        for final in (False, True):
            dec = Cipher(alg, modes.GCM(nonce, body[-TAG:])).decryptor()
            dec.authenticate_additional_data(_chunk_aad(head, n, final))
            try:
                plain = dec.update(body[:-TAG]) + dec.finalize()
                break
            except InvalidTag:
                continue
        else:
            raise DecryptionError("加密备份文件校验失败（被篡改、顺序被打乱或密钥不符）")
        dst.write(plain)
        if final:
            if src.read(1):
                raise DecryptionError("加密备份文件末尾有多余数据")
            return header
        n += 1


def row_hash_key() -> bytes:
    """A 32-byte key (derived from the index key) for content fingerprints of records that hold an ID
    (department batch rows): stable across uploads, not verifiable by guessing the ID."""
    return bytes.fromhex(_digest("row_hash", "key", "", 32))


def keyed_digest(purpose: str, text: str) -> str:
    """HMAC-SM3 (index key) of a text that contains personal data, for fingerprints that must not be
    verifiable by someone who guesses the data (an unkeyed hash of ID ‖ name ‖ birth date is)."""
    return _digest(purpose, "fingerprint", text, 32)
