#!/usr/bin/env python3
"""Writes the seed corpora of server_connection_fuzz and client_session_fuzz.

Both fuzzers read an op stream (see the comments at the top of
server_connection_fuzz.cc and client_session_fuzz.cc); the harnesses encrypt
records themselves, so the seeds are plain bytes and stay valid across runs.
client_session_fuzz's mode-1 seeds embed a real AMD Milan evidence document
built from tests/testdata/snp. Run from anywhere:

    python3 fuzz/tools/make_session_seeds.py

It (re)writes the named files only; other files in the corpus directories
(e.g. minimised findings) are left alone.
"""
import base64
import json
import os
import re
import struct

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def server_connection_seeds():
    def u16(n): return struct.pack(">H", n)
    def small(b): return bytes([len(b)]) + b
    def sized(b): return u16(len(b)) + b
    def whoami(i): return bytes([2, i, 0])
    def put(i, k, v): return bytes([2, i, 1]) + small(k) + sized(v)
    def get(i, k): return bytes([2, i, 2]) + small(k)
    def delete(i, k): return bytes([2, i, 3]) + small(k)
    def lst(i, p, tok, lim): return bytes([2, i, 4]) + small(p) + small(tok) + u16(lim)
    EXEC = bytes([5, 0])
    def record(b): return bytes([0]) + sized(b)
    def raw(b): return bytes([1]) + sized(b)
    def tick(b): return bytes([7, b])
    def deadline(b): return bytes([8, b])
    DRAIN = bytes([9]); GENUINE = bytes([10]); CLOSED = bytes([11])
    def bigput(i, sel, now): return bytes([3, i]) + u16(sel) + bytes([now])
    def cont(q, n): return bytes([4, q, n])
    def respond_get(sel_id, n17): return bytes([6, 2]) + u16(n17) + bytes([sel_id])  # value: n17 * 17 bytes
    def respond_err(sel_id, op, code, reason): return bytes([6, 0, op, code]) + small(reason) + bytes([sel_id])

    XX, IK, FB = 0, 1, 2
    def hdr(pattern, upfront): return bytes([pattern + 3 * upfront])
    seeds = {
      "xx_whoami": hdr(XX, 2) + whoami(1) + EXEC,
      "ik_put_get_list_delete": hdr(IK, 2) + put(1, b"notes/a", b"hello") + EXEC + get(2, b"notes/a") + EXEC
          + lst(3, b"notes/", b"", 10) + EXEC + delete(4, b"notes/a") + EXEC + get(5, b"notes/a") + EXEC,
      "fallback_pipelined": hdr(FB, 2) + whoami(1) + put(2, b"k", b"v") + get(3, b"k") + bytes([5, 2, 5, 1, 5, 0]),
      "xx_bigput_then_get": hdr(XX, 2) + bigput(7, 100, 255) + EXEC + get(8, b"big/7") + EXEC,
      "xx_partial_chunks_timeout": hdr(XX, 2) + bigput(1, 10, 1) + bigput(2, 10, 1) + cont(0, 1) + tick(140),
      "xx_partial_then_duplicate": hdr(XX, 2) + bigput(3, 10, 1) + whoami(3),
      "xx_duplicate_in_flight": hdr(XX, 2) + whoami(5) + get(5, b"x"),
      "xx_seventeen_in_flight": hdr(XX, 2) + b"".join(whoami(i) for i in range(1, 18)),
      "xx_drain_in_flight": hdr(XX, 2) + put(1, b"k", b"\x01\x02") + whoami(2) + DRAIN + whoami(3) + EXEC + EXEC,
      "xx_idle_deadline": hdr(XX, 2) + whoami(1) + EXEC + deadline(1) + deadline(0),
      "xx_chunked_response": hdr(XX, 2) + whoami(1) + respond_get(0xf0, 5000) + respond_err(1, 1, 5, b"workload.internal"),
      "xx_malformed_unknown_type": hdr(XX, 2) + record(bytes([0x09, 0, 0, 0, 1, 1])),
      "xx_malformed_bad_chunk_total": hdr(XX, 2) + record(bytes([0x04, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 10, 1])),
      "xx_empty_record": hdr(XX, 2) + record(b""),
      "xx_raw_after_handshake": hdr(XX, 2) + raw(bytes(20)),
      "xx_msg1_then_garbage": hdr(XX, 1) + raw(bytes(64)),
      "xx_msg1_timeout_then_msg3": hdr(XX, 1) + tick(130) + GENUINE + whoami(1),
      "raw_bad_pattern_byte": hdr(XX, 0) + raw(bytes([7, 1, 2])),
      "raw_then_genuine": hdr(IK, 0) + tick(10) + GENUINE + GENUINE + whoami(1) + EXEC + CLOSED + whoami(2),
      "list_long_prefix": hdr(XX, 2) + put(1, b"p" * 200 + b"1", b"a") + EXEC + put(2, b"p" * 200 + b"2", b"b") + EXEC
          + lst(3, b"p" * 200, b"", 1) + EXEC,
    }
    return seeds


def client_session_seeds():
    def u16(n): return struct.pack(">H", n)
    def small(b): return bytes([len(b)]) + b
    def sized(b): return u16(len(b)) + b
    XX, IK, FB = 0, 1, 2
    def hdr(mode, pattern): return bytes([mode + 4 * pattern])

    # Real AMD Milan evidence (chains to AMD's pinned ARK; not bound to the fuzz key).
    snp = os.path.join(ROOT, "tests/testdata/snp")
    pem = open(snp + "/amd-roots/ask_ark_milan.pem").read()
    ders = [base64.b64decode("".join(m.split())) for m in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)]
    b64 = lambda b: base64.b64encode(b).decode()
    doc = {"version": 1, "tee": "sev-snp",
           "report": b64(open(snp + "/reports/milan-v3-oak-cb/report.bin", "rb").read()),
           "vek": b64(open(snp + "/reports/milan-v3-oak-cb/vcek.der", "rb").read()),
           "ask": b64(ders[0]), "ark": b64(ders[1]),
           "crl": b64(open(snp + "/crl/Milan.crl.der", "rb").read()),
           "provider": "sev-guest"}
    amd_evidence = json.dumps(doc, separators=(",", ":")).encode()
    del doc["crl"]
    amd_evidence_no_crl = json.dumps(doc, separators=(",", ":")).encode()

    # Session ops.
    def whoami(): return bytes([0, 0])
    def put(k, n17): return bytes([0, 1]) + small(k) + u16(n17)
    def get(k): return bytes([0, 2]) + small(k)
    def delete(k): return bytes([0, 3]) + small(k)
    def lst(p, tok, lim): return bytes([0, 4]) + small(p) + small(tok) + u16(lim)
    def resp_ok(idsel, extra=b""): return bytes([2, 1, 1, idsel]) + extra          # result for the request's op
    def resp_err(idsel, op, code): return bytes([2, 0, op - 1, idsel, code])
    def resp_wrong_op(idsel, op, extra=b""): return bytes([2, 2, op, idsel]) + extra
    def resp_big(idsel, n17): return bytes([2, 3, 3, idsel]) + u16(n17)
    def record(b): return bytes([1]) + sized(b)
    def close(code, reason): return bytes([3, code]) + small(reason)
    def raw(b): return bytes([4]) + sized(b)
    def chunked(msg, n): return bytes([5]) + sized(msg) + bytes([n])
    def skip(b): return bytes([6]) + sized(b)

    seeds = {
      # mode 0: raw server frames
      "raw_xx_msg2_garbage": hdr(0, XX) + sized(b"\x00" + bytes(32 + 48 + 40)),
      "raw_ik_fallback_garbage": hdr(0, IK) + sized(b"\x02" + bytes(32 + 48 + 40)),
      "raw_ik_reply_garbage": hdr(0, IK) + sized(b"\x01" + bytes(32 + 40)),
      "raw_bad_pattern_then_more": hdr(0, FB) + sized(b"\x07") + sized(b"\x00"),
      "raw_empty_frame": hdr(0, XX) + sized(b""),
      # mode 1: arbitrary evidence through a real server
      "evidence_amd_milan_xx": hdr(1, XX) + sized(amd_evidence),
      "evidence_amd_milan_fallback": hdr(1, FB) + sized(amd_evidence),
      "evidence_amd_milan_no_crl_ik": hdr(1, IK) + sized(amd_evidence_no_crl),
      "evidence_not_json_ik": hdr(1, IK) + sized(b"perimeter-fuzz evidence"),
      "evidence_empty_object": hdr(1, XX) + sized(b"{}"),
      "evidence_empty": hdr(1, XX) + sized(b""),
      # mode 2: recipes (flags, more, fields)
      "recipe_genuine_xx": hdr(2, XX) + bytes([0, 0]),
      "recipe_genuine_v5_ik": hdr(2, IK) + bytes([1, 0]),
      "recipe_wrong_binding": hdr(2, XX) + bytes([16, 0]),
      "recipe_tampered_measurement": hdr(2, XX) + bytes([64, 0]) + u16(0x90) + bytes([1]),
      "recipe_tampered_signature": hdr(2, FB) + bytes([64, 0]) + u16(0x2A0) + bytes([0x80]),
      "recipe_no_chain_no_crl": hdr(2, XX) + bytes([2 | 4 | 8, 0]),
      "recipe_other_measurement": hdr(2, XX) + bytes([32, 0]) + bytes(range(48)),
      "recipe_debug_policy": hdr(2, XX) + bytes([128, 0]) + struct.pack(">II", 0, 0x30000 | (1 << 19)),
      "recipe_vmpl_hostdata": hdr(2, IK) + bytes([0, 1 | 2]) + bytes([1]) + bytes(range(32)),
      "recipe_low_tcb": hdr(2, XX) + bytes([0, 4]) + struct.pack(">II", 0, 0x01),
      "recipe_vlek_masked": hdr(2, XX) + bytes([0, 16 | 32]) + bytes([1]),
      "recipe_svn_ids": hdr(2, XX) + bytes([0, 64 | 128]) + struct.pack(">II", 0, 3) + struct.pack(">I", 7) + bytes(range(32)),
      # mode 3: genuine handshake, then the session
      "session_xx_whoami": hdr(3, XX) + whoami() + resp_ok(0xf0),
      "session_ik_pipeline": hdr(3, IK) + put(b"k", 1) + get(b"k") + lst(b"", b"", 10) + delete(b"k")
          + resp_ok(1) + resp_ok(2, small(b"value")) + resp_ok(3, small(b"tok")) + resp_ok(4)
          + close(9, b"session.server_shutdown") + whoami(),
      "session_fallback_chunked_response": hdr(3, FB) + get(b"k") + resp_big(0xf0, 4000),
      "session_xx_big_put": hdr(3, XX) + put(b"big", 5000) + resp_err(0xf0, 2, 7),
      "session_unexpected_response": hdr(3, XX) + resp_ok(5),
      "session_operation_mismatch": hdr(3, XX) + whoami() + resp_wrong_op(0xf0, 3, small(b"v")),
      "session_seventeen_in_flight": hdr(3, XX) + whoami() * 17,
      "session_malformed_record": hdr(3, IK) + whoami() + record(bytes([0x09, 0, 0, 0, 1, 1])),
      "session_request_from_server": hdr(3, XX) + record(bytes([0x01, 0, 0, 0, 1, 0x01])),
      "session_skipped_nonce": hdr(3, XX) + whoami() + skip(b"x") + resp_ok(0xf0),
      "session_raw_frame": hdr(3, XX) + raw(bytes(40)),
      "session_bad_requests": hdr(3, XX) + get(b"") + get(b"\xff") + lst(b"", b"", 0) + whoami() + resp_ok(0xf0),
      "session_partial_chunks": hdr(3, XX) + get(b"k") + chunked(bytes([0x02, 0, 0, 0, 1]) + bytes(70000 - 5)[:65530], 1)
          + resp_ok(0xf0, small(b"")),
    }
    return seeds


def main():
    for target, seeds in (("server_connection_fuzz", server_connection_seeds()),
                          ("client_session_fuzz", client_session_seeds())):
        out = os.path.join(ROOT, "fuzz", "corpus", target)
        os.makedirs(out, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
        print(target, len(seeds), "seeds")


if __name__ == "__main__":
    main()
