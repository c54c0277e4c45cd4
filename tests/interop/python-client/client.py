#!/usr/bin/env python3
"""An independent Secure Perimeter client, written from docs/wire-protocol.md
and docs/evidence.md alone (no project source was read to write it).

Noise comes from PyPI's `noiseprotocol` package; X.509, ECDSA, RSA-PSS and
SHA-2 from `cryptography`; WebSocket from `websockets`. `noiseprotocol` has no
`fallback` modifier (it raises NotImplementedError), so XXfallback is added
here as a pattern definition driven by the package's own HandshakeState (see
`_XXfallbackPattern`).

Usage:
  client.py --transport tcp --addr 127.0.0.1:P --expect-measurement HEX96 --trust-root ark.pem
  client.py --transport ws  --addr 127.0.0.1:Q --expect-measurement HEX96 --trust-root ark.pem
  client.py --selftest          (only the offline known-answer checks of the documents;
                                 --skip-selftest leaves them out of a network run)

Prints one PASS/FAIL line per check and, last, "RESULT passed=N failed=M".
Exit status 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import sys
import traceback
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from noise.connection import Keypair, NoiseConnection
from noise.constants import TOKEN_E, TOKEN_EE, TOKEN_ES, TOKEN_S, TOKEN_SE
from noise.functions.patterns import Pattern

# ---------------------------------------------------------------------------
# Constants (wire-protocol.md sections 3, 4, 7, 8, 9; evidence.md)

PROLOGUE = b"secure-perimeter/1"
NAME_XX = b"Noise_XX_25519_ChaChaPoly_SHA256"
NAME_IK = b"Noise_IK_25519_ChaChaPoly_SHA256"
NAME_XXFALLBACK = b"Noise_XXfallback_25519_ChaChaPoly_SHA256"
PATTERN_XX, PATTERN_IK, PATTERN_FALLBACK = 0x00, 0x01, 0x02
WS_SUBPROTOCOL = "secure-perimeter.v1"
WS_PATH = "/v1/noise"

BINDING_LABEL = b"secure-perimeter/noise-binding/1"
MAX_BODY = 65535
MAX_RECORD = 65519
CHUNK_HEADER = 13
CHUNK_DATA = 65506
MAX_MESSAGE = 1052672
MAX_PARTIAL = 4
MAX_PARTIAL_BYTES = 2 * MAX_MESSAGE
MAX_EVIDENCE = 65000
MAX_KEY = 1024
MAX_VALUE = 1 << 20
MAX_TOKEN = 256
MAX_LIST = 1000
TAG = 16

REC_REQUEST, REC_RESPONSE, REC_CLOSE, REC_CHUNK = 0x01, 0x02, 0x03, 0x04
OP_WHOAMI, OP_PUT, OP_GET, OP_DELETE, OP_LIST = 0x01, 0x02, 0x03, 0x04, 0x05
OK, INVALID_ARGUMENT, NOT_FOUND = 0, 1, 2
REASON_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789._")

# The SEV-SNP ATTESTATION_REPORT (AMD SEV-SNP Firmware ABI, pub. 56860,
# "ATTESTATION_REPORT Structure"; integers little-endian), as listed in
# docs/evidence.md.
REPORT_SIZE = 1184
OFF_VERSION = 0x000
OFF_POLICY = 0x008
OFF_VMPL = 0x030
OFF_SIGNATURE_ALGO = 0x034
OFF_REPORT_DATA = 0x050
OFF_MEASUREMENT = 0x090
OFF_HOST_DATA = 0x0C0
OFF_SIGNATURE = 0x2A0
POLICY_RESERVED_ONE = 1 << 17
POLICY_MIGRATE_MA = 1 << 18
POLICY_DEBUG = 1 << 19

EVIDENCE_MEMBERS = ("version", "tee", "report", "vek", "ask", "ark", "crl", "provider", "endorsement")
EVIDENCE_BASE64 = ("report", "vek", "ask", "ark", "crl")


class ProtocolError(Exception):
    """The peer broke the protocol: close, send nothing."""


class EvidenceRejected(Exception):
    """The server's evidence failed a check: close, send nothing."""


class PeerClosed(Exception):
    """The connection closed. `partial`: bytes of an incomplete frame that
    arrived before it did (TCP)."""

    def __init__(self, msg: str, partial: int = 0):
        super().__init__(msg)
        self.partial = partial


class ServerClose(Exception):
    """The server sent a CLOSE record."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"CLOSE status={status} reason={reason}")
        self.status = status
        self.reason = reason


# ---------------------------------------------------------------------------
# Transports (section 2): each handshake and transport message is one body.


class TcpTransport:
    name = "tcp"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer
        self.sent: list[int] = []  # sizes of the bodies sent, for the checks

    @classmethod
    async def open(cls, addr: str) -> "TcpTransport":
        host, port = addr.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer)

    async def send(self, body: bytes) -> None:
        if not 1 <= len(body) <= MAX_BODY:
            raise ProtocolError(f"body of {len(body)} bytes cannot be framed")
        self._writer.write(struct.pack(">H", len(body)) + body)
        await self._writer.drain()
        self.sent.append(len(body))

    async def recv(self) -> bytes:
        try:
            header = await self._reader.readexactly(2)
            (length,) = struct.unpack(">H", header)
            if length == 0:
                raise ProtocolError("frame with L = 0")
            return await self._reader.readexactly(length)
        except asyncio.IncompleteReadError as e:
            raise PeerClosed(f"EOF after {len(e.partial)} bytes of a frame", len(e.partial)) from None
        except ConnectionError as e:
            raise PeerClosed(str(e) or "connection error") from None

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except ConnectionError:
            pass


class WsTransport:
    name = "ws"

    def __init__(self, ws):
        self._ws = ws
        self.sent: list[int] = []
        self.close_rcvd = None  # the server's Close frame (code, reason), once closed

    @classmethod
    async def open(cls, addr: str, subprotocols=(WS_SUBPROTOCOL,), compression=None) -> "WsTransport":
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        ws = await connect(
            f"ws://{addr}{WS_PATH}",
            subprotocols=[Subprotocol(p) for p in subprotocols] or None,
            compression=compression,  # None: offer no extension at all
            max_size=MAX_BODY,
            proxy=None,
            open_timeout=15,
        )
        if ws.subprotocol != WS_SUBPROTOCOL:
            await ws.close()
            raise ProtocolError(f"server selected subprotocol {ws.subprotocol!r}")
        if ws.response.headers.get("Sec-WebSocket-Extensions"):
            await ws.close()
            raise ProtocolError("server negotiated a WebSocket extension")
        return cls(ws)

    async def send(self, body: bytes) -> None:
        if not 1 <= len(body) <= MAX_BODY:
            raise ProtocolError(f"body of {len(body)} bytes cannot be sent")
        await self._ws.send(body)  # bytes: one binary message
        self.sent.append(len(body))

    async def recv(self) -> bytes:
        from websockets.exceptions import ConnectionClosed

        try:
            msg = await self._ws.recv()
        except ConnectionClosed as e:
            self.close_rcvd = e.rcvd
            raise PeerClosed(f"websocket closed: {e}") from None
        if isinstance(msg, str):
            raise ProtocolError("text WebSocket message")
        if not 1 <= len(msg) <= MAX_BODY:
            raise ProtocolError(f"binary message of {len(msg)} bytes")
        return bytes(msg)

    async def send_text(self, text: str) -> None:
        await self._ws.send(text)

    async def close(self) -> None:
        await self._ws.close()


async def open_transport(kind: str, addr: str):
    return await (TcpTransport if kind == "tcp" else WsTransport).open(addr)


# ---------------------------------------------------------------------------
# Evidence (evidence.md) and the checks of wire-protocol.md section 4.2.


def _reject_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise EvidenceRejected(f"duplicate member {k!r}")
        obj[k] = v
    return obj


def parse_evidence(raw: bytes) -> dict:
    if not 1 <= len(raw) <= MAX_EVIDENCE:
        raise EvidenceRejected(f"evidence of {len(raw)} bytes")
    try:
        obj = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise EvidenceRejected(f"evidence is not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise EvidenceRejected("evidence is not a JSON object")
    for k in obj:
        if k not in EVIDENCE_MEMBERS:
            raise EvidenceRejected(f"unknown member {k!r}")
    for k in ("version", "tee", "report", "vek"):
        if k not in obj:
            raise EvidenceRejected(f"missing member {k!r}")
    if type(obj["version"]) is not int or obj["version"] != 1:
        raise EvidenceRejected(f"version {obj['version']!r}")
    if obj["tee"] != "sev-snp":
        raise EvidenceRejected(f"tee {obj['tee']!r}")
    out = {"version": 1, "tee": "sev-snp"}
    for k in EVIDENCE_BASE64:
        if k not in obj:
            continue
        v = obj[k]
        if not isinstance(v, str) or not v:
            raise EvidenceRejected(f"{k} is not a non-empty string")
        try:
            data = base64.b64decode(v, validate=True)
        except ValueError:
            raise EvidenceRejected(f"{k} is not base64") from None
        if base64.b64encode(data).decode() != v or not data:
            raise EvidenceRejected(f"{k} is not canonical base64")
        out[k] = data
    if "provider" in obj:
        if not isinstance(obj["provider"], str) or not obj["provider"]:
            raise EvidenceRejected("provider is not a non-empty string")
        out["provider"] = obj["provider"]
    if "endorsement" in obj:
        if not isinstance(obj["endorsement"], dict) or not obj["endorsement"]:
            raise EvidenceRejected("endorsement is not a non-empty object")
        out["endorsement"] = obj["endorsement"]
    if len(out["report"]) != REPORT_SIZE:
        raise EvidenceRejected(f"report of {len(out['report'])} bytes")
    return out


def expected_report_data(server_static: bytes) -> bytes:
    return hashlib.sha512(BINDING_LABEL + server_static).digest()


def _load_cert(der: bytes, what: str) -> x509.Certificate:
    with warnings.catch_warnings():
        # AMD's certificate profile (copied by the simulated platform) has a
        # serial number that is not positive; cryptography warns about it.
        warnings.simplefilter("ignore")
        try:
            return x509.load_der_x509_certificate(der)
        except ValueError as e:
            raise EvidenceRejected(f"{what} does not parse: {e}") from None


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _verify_pss(issuer: x509.Certificate, cert: x509.Certificate, what: str) -> None:
    key = issuer.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise EvidenceRejected(f"{what}: issuer key is not RSA")
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes,
                   padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
                   hashes.SHA384())
    except InvalidSignature:
        raise EvidenceRejected(f"{what}: bad signature") from None


class Verifier:
    """What the client trusts: a root (the simulated ARK here), the expected
    MEASUREMENT and, for the negative tests, a hook that changes the key the
    binding is computed over."""

    def __init__(self, trust_root: x509.Certificate | None, measurement: bytes,
                 binding_key_hook=None):
        self.trust_root = trust_root
        self.measurement = measurement
        self.binding_key_hook = binding_key_hook
        self.log: list[str] = []

    def verify(self, raw: bytes, server_static: bytes) -> dict:
        """wire-protocol.md 4.2, in its order. Raises EvidenceRejected."""
        ev = parse_evidence(raw)
        report = ev["report"]
        self.log = ["evidence.format"]
        # 1. certificate chain to a trusted ARK
        vek = _load_cert(ev["vek"], "vek")
        if self.trust_root is not None:
            ark = self.trust_root
            if "ark" in ev and _spki(_load_cert(ev["ark"], "ark")) != _spki(ark):
                self.log.append("evidence ark ignored: not the trusted root")
            if "ask" not in ev:
                raise EvidenceRejected("no ASK in the evidence for a non-AMD root")
            ask = _load_cert(ev["ask"], "ask")
            _verify_pss(ark, ark, "ark self-signature")
            _verify_pss(ark, ask, "ask signed by ark")
            _verify_pss(ask, vek, "vek signed by ask")
            now = datetime.datetime.now(datetime.timezone.utc)
            for c, what in ((ark, "ark"), (ask, "ask"), (vek, "vek")):
                if not c.not_valid_before_utc <= now <= c.not_valid_after_utc:
                    raise EvidenceRejected(f"{what} not valid now")
            self.log.append("chain")
        else:
            self.log.append("chain NOT CHECKED (no trust root)")
        # report format
        version = int.from_bytes(report[OFF_VERSION:OFF_VERSION + 4], "little")
        if version not in (2, 3, 5):
            raise EvidenceRejected(f"report version {version}")
        algo = int.from_bytes(report[OFF_SIGNATURE_ALGO:OFF_SIGNATURE_ALGO + 4], "little")
        if algo != 1:
            raise EvidenceRejected(f"SIGNATURE_ALGO {algo}")
        # 2. report signature: ECDSA P-384 / SHA-384 over 0x000..0x29F, R and S
        #    72-byte little-endian at 0x2A0 and 0x2E8.
        vek_key = vek.public_key()
        if not isinstance(vek_key, ec.EllipticCurvePublicKey) or vek_key.curve.name != "secp384r1":
            raise EvidenceRejected("vek key is not P-384")
        r = int.from_bytes(report[OFF_SIGNATURE:OFF_SIGNATURE + 72], "little")
        s = int.from_bytes(report[OFF_SIGNATURE + 72:OFF_SIGNATURE + 144], "little")
        try:
            vek_key.verify(encode_dss_signature(r, s), report[:OFF_SIGNATURE],
                           ec.ECDSA(hashes.SHA384()))
        except InvalidSignature:
            raise EvidenceRejected("report signature invalid") from None
        self.log.append("report_signature")
        # 3. guest policy (TCB comparison against the VEK is not done here)
        policy = int.from_bytes(report[OFF_POLICY:OFF_POLICY + 8], "little")
        if not policy & POLICY_RESERVED_ONE:
            raise EvidenceRejected("POLICY bit 17 clear")
        if policy & POLICY_DEBUG:
            raise EvidenceRejected("POLICY.DEBUG set")
        if policy & POLICY_MIGRATE_MA:
            raise EvidenceRejected("POLICY.MIGRATE_MA set")
        vmpl = int.from_bytes(report[OFF_VMPL:OFF_VMPL + 4], "little")
        if vmpl != 0:
            raise EvidenceRejected(f"VMPL {vmpl}")
        self.log.append("policy")
        # 4. the REPORT_DATA binding (section 4.3), all 64 bytes, constant time
        key = server_static if self.binding_key_hook is None else self.binding_key_hook(server_static)
        if not hmac.compare_digest(report[OFF_REPORT_DATA:OFF_REPORT_DATA + 64],
                                   expected_report_data(key)):
            raise EvidenceRejected("REPORT_DATA does not bind the server static key")
        self.log.append("report_data_binding")
        # 5. MEASUREMENT
        if not hmac.compare_digest(report[OFF_MEASUREMENT:OFF_MEASUREMENT + 48], self.measurement):
            raise EvidenceRejected("MEASUREMENT is not the expected one "
                                   f"({report[OFF_MEASUREMENT:OFF_MEASUREMENT + 48].hex()})")
        self.log.append("measurement")
        return ev


# ---------------------------------------------------------------------------
# Noise Pipes (section 3)


class _XXfallbackPattern(Pattern):
    """XXfallback as Noise rev. 34 section 10.2 defines it, written with the
    fallback initiator (the server, who sends first) on the left:
        <- e            (pre-message: the client's IK ephemeral)
        ...
        -> e, ee, s, se
        <- s, es
    so the client is the *responder* and takes the second cipher of Split."""

    def __init__(self):
        super().__init__()
        self.name = "XXfallback"
        self.pre_messages = [[], [TOKEN_E]]
        self.tokens = [[TOKEN_E, TOKEN_EE, TOKEN_S, TOKEN_SE], [TOKEN_S, TOKEN_ES]]


def _xxfallback_connection() -> NoiseConnection:
    # noiseprotocol cannot parse "XXfallback" (its `fallback` modifier raises
    # NotImplementedError), so build the XX suite objects and then replace the
    # pattern and the protocol name (which initialises h) before the handshake
    # starts.
    conn = NoiseConnection.from_name(NAME_XX)
    conn.protocol_name = NAME_XXFALLBACK
    conn.noise_protocol.name = NAME_XXFALLBACK
    conn.noise_protocol.pattern = _XXfallbackPattern()
    return conn


def _remote_static(conn: NoiseConnection) -> bytes:
    return bytes(conn.noise_protocol.handshake_state.rs.public_bytes)


def static_public(private: bytes) -> bytes:
    return x25519.X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class HandshakeResult:
    def __init__(self, conn, pattern, server_static, evidence, sizes):
        self.conn = conn
        self.pattern = pattern            # pattern byte the server answered with
        self.server_static = server_static
        self.evidence = evidence
        self.sizes = sizes                # body sizes seen, for the 3.4 checks


async def handshake(t, static_priv: bytes, verifier: Verifier,
                    cached_server_static: bytes | None = None) -> HandshakeResult:
    """XX when no key is cached, else IK (and XXfallback if the server asks).
    The evidence is verified before anything further is sent."""
    sizes = {}
    if cached_server_static is None:
        conn = NoiseConnection.from_name(NAME_XX)
        conn.set_prologue(PROLOGUE)
        conn.set_as_initiator()
        conn.set_keypair_from_private_bytes(Keypair.STATIC, static_priv)
        conn.start_handshake()
        m1 = bytes([PATTERN_XX]) + bytes(conn.write_message(b""))
        sizes["xx1"] = len(m1)
        await t.send(m1)
        body = await t.recv()
        if body[0] != PATTERN_XX:
            raise ProtocolError(f"pattern byte {body[0]:02x} in answer to XX")
        try:
            evidence = bytes(conn.read_message(body[1:]))
        except Exception as e:
            raise ProtocolError(f"XX message 2 failed: {e!r}") from None
        sizes["xx2"] = (len(body), len(evidence))
        rs = _remote_static(conn)
        verifier.verify(evidence, rs)  # raises: message 3 is never sent
        m3 = bytes(conn.write_message(b""))
        sizes["xx3"] = len(m3)
        await t.send(m3)
        return HandshakeResult(conn, PATTERN_XX, rs, evidence, sizes)

    conn = NoiseConnection.from_name(NAME_IK)
    conn.set_prologue(PROLOGUE)
    conn.set_as_initiator()
    conn.set_keypair_from_private_bytes(Keypair.STATIC, static_priv)
    conn.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, cached_server_static)
    conn.start_handshake()
    m1 = bytes([PATTERN_IK]) + bytes(conn.write_message(b""))
    sizes["ik1"] = len(m1)
    ik_ephemeral = conn.noise_protocol.handshake_state.e
    await t.send(m1)
    body = await t.recv()
    if body[0] == PATTERN_IK:
        try:
            evidence = bytes(conn.read_message(body[1:]))
        except Exception as e:
            raise ProtocolError(f"IK message 2 failed: {e!r}") from None
        sizes["ik2"] = (len(body), len(evidence))
        # IK 2 completes the handshake; verify before the first transport message.
        verifier.verify(evidence, cached_server_static)
        return HandshakeResult(conn, PATTERN_IK, cached_server_static, evidence, sizes)
    if body[0] != PATTERN_FALLBACK:
        raise ProtocolError(f"pattern byte {body[0]:02x} in answer to IK")
    # XXfallback: the server is the initiator; we are the responder, with our
    # IK ephemeral as the pre-message.
    fb = _xxfallback_connection()
    fb.set_prologue(PROLOGUE)
    fb.set_as_responder()
    fb.set_keypair_from_private_bytes(Keypair.STATIC, static_priv)
    fb.noise_protocol.keypairs["e"] = ik_ephemeral
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ephemeral already set": by design here
        fb.start_handshake()
    try:
        evidence = bytes(fb.read_message(body[1:]))
    except Exception as e:
        raise ProtocolError(f"XXfallback message 1 failed: {e!r}") from None
    sizes["fb1"] = (len(body), len(evidence))
    rs = _remote_static(fb)
    verifier.verify(evidence, rs)
    m2 = bytes(fb.write_message(b""))  # no pattern byte
    sizes["fb2"] = len(m2)
    await t.send(m2)
    return HandshakeResult(fb, PATTERN_FALLBACK, rs, evidence, sizes)


# ---------------------------------------------------------------------------
# Session protocol codec (sections 7, 8)


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise ProtocolError("session.truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def rest(self) -> bytes:
        return self.take(len(self.data) - self.pos)

    def end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError("session.trailing_bytes")


def _check_utf8(b: bytes) -> None:
    try:
        b.decode("utf-8", errors="strict")  # rejects overlong, surrogates, > U+10FFFF
    except UnicodeDecodeError:
        raise ProtocolError("session.bad_utf8") from None


def enc_key16(key: bytes, allow_empty: bool = False) -> bytes:
    if len(key) > MAX_KEY or (not key and not allow_empty):
        raise ValueError("bad key length")
    _check_utf8(key)
    return struct.pack(">H", len(key)) + key


def dec_key16(r: Reader) -> bytes:
    n = r.u16()
    if n == 0:
        raise ProtocolError("session.empty_key")
    if n > MAX_KEY:
        raise ProtocolError("session.key_too_long")
    key = r.take(n)
    _check_utf8(key)
    return key


def dec_reason8(r: Reader, status: int) -> str:
    n = r.u8()
    if status == OK:
        if n != 0:
            raise ProtocolError("session.bad_reason")
        return ""
    if not 1 <= n <= 64:
        raise ProtocolError("session.bad_reason")
    reason = r.take(n)
    if not set(reason) <= REASON_CHARS:
        raise ProtocolError("session.bad_reason")
    return reason.decode("ascii")


def encode_request(request_id: int, op: int, body: bytes) -> bytes:
    return struct.pack(">BIB", REC_REQUEST, request_id, op) + body


def body_put(key: bytes, value: bytes) -> bytes:
    return enc_key16(key) + struct.pack(">I", len(value)) + value


def body_key(key: bytes) -> bytes:
    return enc_key16(key)


def body_list(prefix: bytes, token: bytes, limit: int) -> bytes:
    return enc_key16(prefix, allow_empty=True) + struct.pack(">H", len(token)) + token + struct.pack(">H", limit)


def split_records(message: bytes) -> list[bytes]:
    """Section 8: one record if it fits, else CHUNK records."""
    if len(message) > MAX_MESSAGE:
        raise ValueError("message too large")
    if len(message) <= MAX_RECORD:
        return [message]
    total = len(message)
    count = -(-total // CHUNK_DATA)
    message_id = struct.unpack(">I", message[1:5])[0]
    return [struct.pack(">BIHHI", REC_CHUNK, message_id, i, count, total)
            + message[CHUNK_DATA * i:CHUNK_DATA * (i + 1)] for i in range(count)]


class Response:
    def __init__(self, request_id, op, status, reason, result):
        self.request_id = request_id
        self.op = op
        self.status = status
        self.reason = reason
        self.result = result  # decoded per operation when status == OK


def decode_response(msg: bytes, limit_for_list: int | None = None) -> Response:
    r = Reader(msg)
    if r.u8() != REC_RESPONSE:
        raise ProtocolError("session.unexpected_type")
    request_id = r.u32()
    if request_id == 0:
        raise ProtocolError("session.bad_request_id")
    op = r.u8()
    if op not in (OP_WHOAMI, OP_PUT, OP_GET, OP_DELETE, OP_LIST):
        raise ProtocolError("session.unknown_operation")
    status = r.u8()
    if status > 11:
        raise ProtocolError("session.bad_status")
    reason = dec_reason8(r, status)
    result = None
    if status == OK:
        if op == OP_WHOAMI:
            if r.u16() != 64:
                raise ProtocolError("session.bad_user_id")
            uid = r.take(64)
            if not set(uid) <= set(b"0123456789abcdef"):
                raise ProtocolError("session.bad_user_id")
            result = uid.decode("ascii")
        elif op == OP_GET:
            n = r.u32()
            if n > MAX_VALUE:
                raise ProtocolError("session.value_too_large")
            result = r.take(n)
        elif op == OP_LIST:
            count = r.u16()
            if count > MAX_LIST or (limit_for_list is not None and count > limit_for_list):
                raise ProtocolError("session.too_many_keys")
            keys = [dec_key16(r) for _ in range(count)]
            n = r.u16()
            if n > MAX_TOKEN:
                raise ProtocolError("session.page_token_too_long")
            result = (keys, r.take(n))
    r.end()  # also: nothing after the reason of a failed response
    return Response(request_id, op, status, reason, result)


def decode_close(rec: bytes) -> tuple[int, str]:
    r = Reader(rec)
    r.u8()
    status = r.u8()
    if not 1 <= status <= 11:
        raise ProtocolError("session.bad_status")
    reason = dec_reason8(r, status)
    r.end()
    return status, reason


class Assembler:
    """Reassembly of CHUNK records (section 8), every rule of its table."""

    def __init__(self, carried_type: int = REC_RESPONSE):
        self.partial: dict[int, dict] = {}
        self.carried_type = carried_type  # what this side may receive chunked

    def feed(self, rec: bytes) -> bytes | None:
        r = Reader(rec)
        r.u8()
        mid, index, count, total = r.u32(), r.u16(), r.u16(), r.u32()
        data = r.rest()
        if total <= MAX_RECORD:
            raise ProtocolError("session.bad_chunk_total")
        if total > MAX_MESSAGE:
            raise ProtocolError("session.message_too_large")
        if count != -(-total // CHUNK_DATA):
            raise ProtocolError("session.bad_chunk_count")
        if index >= count:
            raise ProtocolError("session.bad_chunk_index")
        want = CHUNK_DATA if index < count - 1 else total - CHUNK_DATA * (count - 1)
        if len(data) != want:
            raise ProtocolError("session.bad_chunk_size")
        if mid == 0:
            raise ProtocolError("session.bad_request_id")
        p = self.partial.get(mid)
        if index == 0:
            if p is not None:
                raise ProtocolError("session.duplicate_chunk")
            if len(self.partial) >= MAX_PARTIAL:
                raise ProtocolError("session.too_many_partial_messages")
            if sum(q["total"] for q in self.partial.values()) + total > MAX_PARTIAL_BYTES:
                raise ProtocolError("session.buffer_limit")
            if data[0] not in (REC_REQUEST, REC_RESPONSE):
                raise ProtocolError("session.unknown_type")
            if data[0] != self.carried_type:
                raise ProtocolError("session.unexpected_type")  # a client receives responses only
            if struct.unpack(">I", data[1:5])[0] != mid:
                raise ProtocolError("session.chunk_id_mismatch")
            p = self.partial[mid] = {"count": count, "total": total, "next": 0, "buf": bytearray()}
        else:
            if p is None:
                raise ProtocolError("session.chunk_out_of_order")
            if (count, total) != (p["count"], p["total"]):
                raise ProtocolError("session.chunk_header_mismatch")
            if index < p["next"]:
                raise ProtocolError("session.duplicate_chunk")
            if index > p["next"]:
                raise ProtocolError("session.chunk_out_of_order")
        p["buf"] += data
        p["next"] = index + 1
        if index == count - 1:
            del self.partial[mid]
            return bytes(p["buf"])
        return None


class Session:
    """The session protocol over an established Noise channel."""

    def __init__(self, t, hs: HandshakeResult):
        self.t = t
        self.conn = hs.conn
        self.next_id = 1
        self.in_flight: dict[int, tuple[int, int | None]] = {}  # id -> (op, list limit)
        self.assembler = Assembler()
        self.done: dict[int, Response] = {}
        self.record_sizes: list[tuple[str, int]] = []  # (direction, transport message size)

    async def _send_record(self, rec: bytes) -> None:
        if not 1 <= len(rec) <= MAX_RECORD:
            raise ValueError("record size")
        body = self.conn.encrypt(rec)
        self.record_sizes.append(("out", len(body)))
        await self.t.send(body)

    async def _recv_record(self) -> bytes:
        body = await self.t.recv()
        if len(body) < 17:
            raise ProtocolError("transport message shorter than 17 bytes")
        try:
            rec = self.conn.decrypt(body)
        except Exception:
            raise ProtocolError("transport message failed to decrypt") from None
        if not rec:
            raise ProtocolError("session.empty_record")
        self.record_sizes.append(("in", len(body)))
        return rec

    async def send_request(self, op: int, body: bytes, list_limit: int | None = None) -> int:
        rid = self.next_id
        self.next_id += 1
        self.in_flight[rid] = (op, list_limit)
        for rec in split_records(encode_request(rid, op, body)):
            await self._send_record(rec)
        return rid

    async def _pump(self) -> None:
        """Reads one record; stores a completed response."""
        rec = await self._recv_record()
        typ = rec[0]
        if typ == REC_CLOSE:
            status, reason = decode_close(rec)
            raise ServerClose(status, reason)
        if typ == REC_CHUNK:
            msg = self.assembler.feed(rec)
            if msg is None:
                return
            if len(msg) <= MAX_RECORD:
                raise ProtocolError("session.bad_chunk_total")
        elif typ == REC_RESPONSE:
            msg = rec
        elif typ == REC_REQUEST:
            raise ProtocolError("session.unexpected_type")
        else:
            raise ProtocolError("session.unknown_type")
        rid = struct.unpack(">I", msg[1:5])[0] if len(msg) >= 5 else 0
        if rid not in self.in_flight:
            raise ProtocolError(f"response to request {rid}, which is not in flight")
        op, limit = self.in_flight[rid]
        resp = decode_response(msg, limit)
        if resp.op != op:
            raise ProtocolError("response operation differs from the request's")
        del self.in_flight[rid]
        self.done[rid] = resp

    async def wait(self, rid: int) -> Response:
        while rid not in self.done:
            await self._pump()
        return self.done.pop(rid)

    async def call(self, op: int, body: bytes = b"", list_limit: int | None = None) -> Response:
        return await self.wait(await self.send_request(op, body, list_limit))

    # operations
    async def whoami(self) -> Response:
        return await self.call(OP_WHOAMI)

    async def put(self, key: bytes, value: bytes) -> Response:
        return await self.call(OP_PUT, body_put(key, value))

    async def get(self, key: bytes) -> Response:
        return await self.call(OP_GET, body_key(key))

    async def delete(self, key: bytes) -> Response:
        return await self.call(OP_DELETE, body_key(key))

    async def list(self, prefix: bytes, token: bytes, limit: int) -> Response:
        return await self.call(OP_LIST, body_list(prefix, token, limit), limit)

    async def list_all(self, prefix: bytes, limit: int) -> tuple[list[bytes], list[int]]:
        keys, pages, token = [], [], b""
        while True:
            resp = await self.list(prefix, token, limit)
            if resp.status != OK:
                raise ProtocolError(f"list failed: {resp.status} {resp.reason}")
            page, token = resp.result
            keys += page
            pages.append(len(page))
            if not token:
                return keys, pages
            if len(pages) > 1000:
                raise ProtocolError("list does not terminate")


# ---------------------------------------------------------------------------
# Checks


class Checks:
    def __init__(self, label: str):
        self.label = label
        self.passed = 0
        self.failed = 0

    def ok(self, name: str, cond: bool, detail: str = "") -> bool:
        if cond:
            self.passed += 1
            print(f"PASS [{self.label}] {name}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL [{self.label}] {name}" + (f": {detail}" if detail else ""), flush=True)
        return cond

    def fail(self, name: str, exc: BaseException) -> None:
        self.ok(name, False, f"{type(exc).__name__}: {exc}")
        traceback.print_exc(limit=4, file=sys.stdout)


def selftest(c: Checks) -> None:
    """The worked examples of wire-protocol.md sections 4.3, 5 and 12,
    recomputed with this client's own codec."""
    bob = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    c.ok("doc 4.3 REPORT_DATA example", expected_report_data(bob).hex() ==
         "4ce1bd6cd23ce9c5566c1d5a42e04e8c34eb00062b7ea2292e3f3aff9a77e104"
         "ac7d09d9c009f267ba77fe87d88a07230a1b3b6c064d4c13c8231224589803f8")
    alice = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    uid = "300c9c9603b92a4b39ed3958bf9240114804db4fd373012c0ca47432d63425ae"
    c.ok("doc 5 user_id example", hashlib.sha256(alice).hexdigest() == uid)
    c.ok("doc 12.1 whoami request", encode_request(1, OP_WHOAMI, b"").hex() == "010000000101")
    resp = decode_response(bytes.fromhex(
        "0200000001010000004033303063396339363033623932613462333965643339353862663932343031313438"
        "303464623466643337333031326330636134373433326436333432356165"))
    c.ok("doc 12.1 whoami response", (resp.request_id, resp.op, resp.status, resp.result) == (1, 1, 0, uid))
    resp = decode_response(bytes.fromhex("0200000002030212776f726b6c6f61642e6e6f745f666f756e64"))
    c.ok("doc 12.2 not_found response",
         (resp.request_id, resp.op, resp.status, resp.reason) == (2, OP_GET, NOT_FOUND, "workload.not_found"))
    c.ok("doc 12.2 close", decode_close(bytes.fromhex("03091473657373696f6e2e69646c655f74696d656f7574")) ==
         (9, "session.idle_timeout"))
    c.ok("doc 12.3 list request", encode_request(3, OP_LIST, body_list(b"notes/", b"", 2)).hex() ==
         "01000000030500066e6f7465732f00000002")
    resp = decode_response(bytes.fromhex(
        "0200000003050000000200076e6f7465732f6100076e6f7465732f620003010203"), 2)
    c.ok("doc 12.3 list response", resp.result == ([b"notes/a", b"notes/b"], b"\x01\x02\x03"))
    value = bytes(i % 251 for i in range(70000))
    msg = encode_request(2, OP_PUT, body_put(b"photo", value))
    recs = split_records(msg)
    c.ok("doc 12.4 chunked put: message", len(msg) == 70017 and
         msg[:21].hex() == "010000000202000570686f746f0001117000010203")
    c.ok("doc 12.4 chunked put: chunk 0", len(recs) == 2 and len(recs[0]) == 65519 and
         recs[0][:13].hex() == "04000000020000000200011181" and recs[0][-8:].hex() == "dddedfe0e1e2e3e4")
    c.ok("doc 12.4 chunked put: chunk 1", len(recs[1]) == 4524 and
         recs[1][:13].hex() == "04000000020001000200011181" and
         recs[1][13:21].hex() == "e5e6e7e8e9eaebec" and recs[1][-8:].hex() == "d6d7d8d9dadbdcdd")
    c.ok("doc 12.4 transport sizes", [len(x) + TAG for x in recs] == [65535, 4540] and
         struct.pack(">H", len(recs[1]) + TAG).hex() == "11bc")
    a = Assembler(carried_type=REC_REQUEST)
    c.ok("doc 12.4 reassembly", a.feed(recs[0]) is None and a.feed(recs[1]) == msg)
    resp = decode_response(bytes.fromhex("0200000002020000"))
    c.ok("doc 12.4 put response", (resp.request_id, resp.op, resp.status) == (2, OP_PUT, OK))


def _flip(key: bytes) -> bytes:
    return bytes([key[0] ^ 0x01]) + key[1:]


async def run(args, c: Checks) -> None:
    measurement = bytes.fromhex(args.expect_measurement)
    if len(measurement) != 48:
        raise SystemExit("--expect-measurement must be 96 hex digits")
    root = None
    if args.trust_root:
        with open(args.trust_root, "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            root = x509.load_pem_x509_certificate(f.read())
    verifier = Verifier(root, measurement)
    client_priv = os.urandom(32)
    client_pub = static_public(client_priv)
    my_user_id = hashlib.sha256(client_pub).hexdigest()
    kind = args.transport

    # --- connection 1: XX, first contact --------------------------------
    server_static = None
    t = await open_transport(kind, args.addr)
    try:
        hs = await asyncio.wait_for(handshake(t, client_priv, verifier), 15)
        server_static = hs.server_static
        E = hs.sizes["xx2"][1]
        c.ok("XX: handshake completed, evidence verified", True, ", ".join(verifier.log))
        c.ok("XX: body sizes 33 / 97+E / 64 (3.4)",
             hs.sizes["xx1"] == 33 and hs.sizes["xx2"][0] == 97 + E and hs.sizes["xx3"] == 64,
             f"E={E}, sizes={hs.sizes}")
        c.ok("XX: evidence <= 65,000 bytes", E <= MAX_EVIDENCE, f"{E} bytes")
        s = Session(t, hs)

        r = await s.whoami()
        c.ok("whoami: user_id = sha256 hex of own static key", r.status == OK and r.result == my_user_id,
             r.result or r.reason)
        c.ok("whoami: transport messages of 22 and 90 bytes (12.1)",
             s.record_sizes[:2] == [("out", 22), ("in", 90)], str(s.record_sizes[:2]))

        r = await s.put(b"greeting", b"hello, perimeter")
        c.ok("put greeting", r.status == OK and r.reason == "", f"{r.status} {r.reason}")
        r = await s.get(b"greeting")
        c.ok("get greeting", r.status == OK and r.result == b"hello, perimeter", repr(r.result))
        r = await s.put(b"greeting", b"")
        r2 = await s.get(b"greeting")
        c.ok("put replaces; empty value round-trips", r.status == OK and r2.status == OK and r2.result == b"")
        binary = bytes(range(256)) * 3
        r = await s.put(b"bin\x00key", binary)
        r2 = await s.get(b"bin\x00key")
        c.ok("binary value (and a NUL in the key) round-trips", r.status == OK and r2.result == binary)

        names = [b"notes/a", b"notes/b", b"notes/c", b"notes/d", b"notes/e",
                 "notes/\u00e9t\u00e9".encode(), b"notes/B", b"other/x"]
        statuses = []
        for k in names:
            statuses.append((await s.put(k, b"v:" + k)).status)
        c.ok("put 8 keys for list", statuses == [OK] * len(names))
        keys, pages = await s.list_all(b"notes/", 2)
        want = sorted(k for k in names if k.startswith(b"notes/"))
        c.ok("list prefix notes/ with limit 2, paged to the end",
             keys == want and all(n <= 2 for n in pages) and len(pages) >= 4,
             f"pages={pages}, keys={[k.decode() for k in keys]}")
        # after the delete below there are 6 notes/ keys; checked further down
        keys_all, pages_all = await s.list_all(b"", 1000)
        c.ok("list empty prefix: every key, byte-wise ascending",
             keys_all == sorted(keys_all) and set(names) | {b"greeting", b"bin\x00key"} == set(keys_all),
             f"{len(keys_all)} keys in {len(pages_all)} page(s)")
        r = await s.list(b"nothing/", b"", 5)
        c.ok("list of an unused prefix: empty page, empty token",
             r.status == OK and r.result == ([], b""))
        r = await s.list(b"notes/", b"not-a-token-this-server-issued", 2)
        c.ok("list with a forged page token: INVALID_ARGUMENT workload.bad_page_token",
             r.status == INVALID_ARGUMENT and r.reason == "workload.bad_page_token", f"{r.status} {r.reason}")

        r = await s.delete(b"notes/c")
        c.ok("delete notes/c", r.status == OK, f"{r.status} {r.reason}")
        r = await s.get(b"notes/c")
        c.ok("get of a deleted key: NOT_FOUND workload.not_found",
             r.status == NOT_FOUND and r.reason == "workload.not_found" and r.result is None,
             f"{r.status} {r.reason}")
        for limit in (2, 3, 6):
            keys, pages = await s.list_all(b"notes/", limit)
            c.ok(f"list of 6 keys with limit {limit}: pages fit, last token empty iff no more keys",
                 len(keys) == 6 and all(n <= limit for n in pages) and pages[-1] > 0, f"pages={pages}")
        r = await s.get(b"never/existed")
        c.ok("get of a missing key: NOT_FOUND workload.not_found",
             r.status == NOT_FOUND and r.reason == "workload.not_found", f"{r.status} {r.reason}")
        r = await s.delete(b"never/existed")
        c.ok("delete of a missing key: NOT_FOUND workload.not_found",
             r.status == NOT_FOUND and r.reason == "workload.not_found", f"{r.status} {r.reason}")

        big = os.urandom(200_000)
        before = len(s.record_sizes)
        r = await s.put(b"big/blob", big)
        out = [n for d, n in s.record_sizes[before:] if d == "out"]
        c.ok("chunked put of 200,000 bytes (4 chunks: 3 x 65,535 + rest)",
             r.status == OK and len(out) == 4 and out[:3] == [65535] * 3, f"transport sizes {out}")
        before = len(s.record_sizes)
        r = await s.get(b"big/blob")
        inn = [n for d, n in s.record_sizes[before:] if d == "in"]
        c.ok("chunked get of 200,000 bytes, reassembled",
             r.status == OK and r.result == big and len(inn) == 4, f"transport sizes {inn}")

        # several requests in flight at once, matched by request_id
        ids = [await s.send_request(OP_GET, body_key(k)) for k in (b"notes/a", b"big/blob", b"notes/e")]
        ids.append(await s.send_request(OP_PUT, body_put(b"pipelined", big[:70000])))
        ids.append(await s.send_request(OP_WHOAMI, b""))
        got = [await s.wait(i) for i in reversed(ids)]
        got.reverse()
        c.ok("5 requests in flight (two of them chunked), answered by id",
             got[0].result == b"v:notes/a" and got[1].result == big and got[2].result == b"v:notes/e"
             and got[3].status == OK and got[4].result == my_user_id)
    except Exception as e:
        c.fail("XX connection", e)
    finally:
        await t.close()

    if server_static is None:
        c.ok("IK and XXfallback connections", False, "no server key learned from XX")
        return

    # --- connection 2: IK with the key learned above ------------------------
    t = await open_transport(kind, args.addr)
    try:
        hs = await asyncio.wait_for(handshake(t, client_priv, verifier, server_static), 15)
        E = hs.sizes["ik2"][1]
        c.ok("IK with the learned key: server answered pattern byte 01", hs.pattern == PATTERN_IK)
        c.ok("IK: body sizes 97 / 49+E (3.4)",
             hs.sizes["ik1"] == 97 and hs.sizes["ik2"][0] == 49 + E, str(hs.sizes))
        s = Session(t, hs)
        r = await s.whoami()
        c.ok("IK: whoami is the same user", r.result == my_user_id)
        r = await s.get(b"big/blob")
        c.ok("IK: data of the XX session is there", r.status == OK and r.result == big)
    except Exception as e:
        c.fail("IK connection", e)
    finally:
        await t.close()

    # --- connection 3: IK with a wrong cached key -> XXfallback --------------
    wrong = static_public(os.urandom(32))
    t = await open_transport(kind, args.addr)
    try:
        hs = await asyncio.wait_for(handshake(t, client_priv, verifier, wrong), 15)
        c.ok("IK with a wrong key: server answered pattern byte 02 (XXfallback)",
             hs.pattern == PATTERN_FALLBACK)
        if hs.pattern == PATTERN_FALLBACK:
            E = hs.sizes["fb1"][1]
            c.ok("XXfallback: body sizes 97 / 97+E / 64 (3.4)",
                 hs.sizes["ik1"] == 97 and hs.sizes["fb1"][0] == 97 + E and hs.sizes["fb2"] == 64,
                 str(hs.sizes))
            c.ok("XXfallback: learned the real server key", hs.server_static == server_static)
            c.ok("XXfallback: bodies sent = IK 1 (97) + fallback reply without pattern byte (64)",
                 t.sent == [97, 64], str(t.sent))
        s = Session(t, hs)
        r = await s.whoami()
        c.ok("XXfallback: whoami is the same user", r.result == my_user_id)
        r = await s.get(b"notes/a")
        c.ok("XXfallback: get works", r.status == OK and r.result == b"v:notes/a")
    except Exception as e:
        c.fail("XXfallback connection", e)
    finally:
        await t.close()

    # --- negative: the binding does not match ---------------------------------
    for what, v in (
        ("binding against a different static key", Verifier(root, measurement, _flip)),
        ("a different expected MEASUREMENT", Verifier(root, _flip(measurement))),
    ):
        t = await open_transport(kind, args.addr)
        try:
            await asyncio.wait_for(handshake(t, client_priv, v), 15)
            c.ok(f"XX refuses {what}", False, "evidence was accepted")
        except EvidenceRejected as e:
            c.ok(f"XX refuses {what}", True, str(e))
            c.ok(f"XX refuses {what}: sent only message 1, no message 3", t.sent == [33], str(t.sent))
        except Exception as e:
            c.fail(f"XX refuses {what}", e)
        finally:
            await t.close()

    # IK: the same refusal happens before the first transport message.
    t = await open_transport(kind, args.addr)
    try:
        await asyncio.wait_for(handshake(t, client_priv, Verifier(root, measurement, _flip), server_static), 15)
        c.ok("IK refuses a binding to another key", False, "evidence was accepted")
    except EvidenceRejected as e:
        c.ok("IK refuses a binding to another key", t.sent == [97], f"{e}; sent {t.sent}")
    except Exception as e:
        c.fail("IK refuses a binding to another key", e)
    finally:
        await t.close()

    # --- the server: bad handshakes are closed without an answer (3.3, 4.1, 11)
    async def expect_silent_close(name: str, bodies: list[bytes], text: bool = False,
                                  raw: bytes | None = None) -> None:
        t = await open_transport(kind, args.addr)
        try:
            if raw is not None:
                t._writer.write(raw)
                await t._writer.drain()
            elif text:
                await t.send_text("hello")
            for b in bodies:
                await t.send(b)
            try:
                body = await asyncio.wait_for(t.recv(), 12)
                c.ok(name, False, f"server answered {len(body)} bytes")
            except PeerClosed as e:
                detail = "closed, nothing sent"
                good = e.partial == 0
                if kind == "ws":
                    rc = t.close_rcvd
                    detail += f", close frame {rc.code if rc else None} {rc.reason if rc else ''!r}"
                    good = good and rc is not None and rc.code == 1008 and rc.reason == ""
                c.ok(name, good, detail)
        except Exception as e:
            c.fail(name, e)
        finally:
            await t.close()

    e_pub = static_public(os.urandom(32))
    await expect_silent_close("client pattern byte 02: closed without an answer", [b"\x02" + e_pub])
    await expect_silent_close("XX 1 with a non-empty payload: closed without an answer", [b"\x00" + e_pub + b"x"])
    low_order = bytes(32)  # the X25519 point 0: every DH with it is all zero (3.1)
    await expect_silent_close("XX 1 with a low-order ephemeral: closed without an answer",
                              [bytes([PATTERN_XX]) + low_order])
    await expect_silent_close("IK 1 with a low-order ephemeral: closed, no fallback",
                              [bytes([PATTERN_IK]) + low_order + os.urandom(64)])
    await expect_silent_close("IK 1 too short for e and enc(s) (1 + 79 bytes): closed, no fallback",
                              [b"\x01" + os.urandom(79)])
    # IK 1 with the right key whose payload decrypts but is not empty (4.1)
    ik = NoiseConnection.from_name(NAME_IK)
    ik.set_prologue(PROLOGUE)
    ik.set_as_initiator()
    ik.set_keypair_from_private_bytes(Keypair.STATIC, client_priv)
    ik.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, server_static)
    ik.start_handshake()
    await expect_silent_close("IK 1 with a non-empty payload: closed, no fallback",
                              [bytes([PATTERN_IK]) + bytes(ik.write_message(b"x"))])
    # IK 1 bodies of another length than 97 are malformed (3.2): closed
    # without an answer, never taken for a stale key.
    for n in (80, 95, 97, 200):
        await expect_silent_close(f"IK 1 of 1 + {n} bytes: closed, no fallback",
                                  [bytes([PATTERN_IK]) + e_pub + os.urandom(n - 32)])
    if kind == "tcp":
        await expect_silent_close("TCP frame with L = 0: closed without an answer", [], raw=b"\x00\x00")
    else:
        await expect_silent_close("WebSocket text message: closed without an answer", [], text=True)
        try:
            t = await WsTransport.open(args.addr, compression="deflate")  # refuses if negotiated
            c.ok("WebSocket: permessage-deflate offered, not negotiated", True)
            await t.close()
        except Exception as e:
            c.fail("WebSocket: permessage-deflate offered, not negotiated", e)
        try:
            t = await WsTransport.open(args.addr, subprotocols=("other.v1", WS_SUBPROTOCOL))
            c.ok("WebSocket: secure-perimeter.v1 selected among several offers", True)
            await t.close()
        except Exception as e:
            c.fail("WebSocket: secure-perimeter.v1 selected among several offers", e)
        try:
            t = await WsTransport.open(args.addr, subprotocols=())
            c.ok("WebSocket: upgrade without the subprotocol is refused", False, "accepted")
            await t.close()
        except Exception as e:
            status = getattr(getattr(e, "response", None), "status_code", None)
            c.ok("WebSocket: upgrade without the subprotocol is refused", status == 400, f"HTTP {status}")

    # --- a malformed request ends the session with a CLOSE record (7.6, 10.3) ---
    t = await open_transport(kind, args.addr)
    try:
        hs = await asyncio.wait_for(handshake(t, client_priv, verifier), 15)
        s = Session(t, hs)
        await s._send_record(encode_request(7, 0x09, b""))  # unknown operation
        s.in_flight[7] = (0x09, None)
        try:
            await s.wait(7)
            c.ok("unknown operation: CLOSE 1 session.unknown_operation", False, "got a response")
        except ServerClose as e:
            c.ok("unknown operation: CLOSE 1 session.unknown_operation",
                 (e.status, e.reason) == (INVALID_ARGUMENT, "session.unknown_operation"), str(e))
        try:
            await asyncio.wait_for(t.recv(), 5)
            c.ok("connection closed after CLOSE", False, "more data")
        except PeerClosed:
            if kind == "ws":
                rc = t.close_rcvd
                c.ok("connection closed after CLOSE (WebSocket close code 1000)",
                     rc is not None and rc.code == 1000, f"{rc}")
            else:
                c.ok("connection closed after CLOSE", True)
    except Exception as e:
        c.fail("malformed request", e)
    finally:
        await t.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transport", choices=("tcp", "ws"))
    ap.add_argument("--addr", help="HOST:PORT of the TCP listener (tcp) or the HTTP listener (ws)")
    ap.add_argument("--expect-measurement", help="the expected MEASUREMENT, 96 hex digits")
    ap.add_argument("--trust-root", help="PEM of the trusted ARK (the simulated platform's ark.pem)")
    ap.add_argument("--selftest", action="store_true", help="only the offline checks of the documents' examples")
    ap.add_argument("--skip-selftest", action="store_true", help="skip the offline checks")
    args = ap.parse_args()
    label = "selftest" if args.selftest else args.transport
    c = Checks(label)
    try:
        if not args.skip_selftest:
            selftest(c)
        if not args.selftest:
            if not (args.transport and args.addr and args.expect_measurement):
                ap.error("--transport, --addr and --expect-measurement are required")
            asyncio.run(run(args, c))
    except Exception as e:
        c.fail("client", e)
    print(f"RESULT passed={c.passed} failed={c.failed}", flush=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
