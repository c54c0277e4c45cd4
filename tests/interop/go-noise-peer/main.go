// Command go-noise-peer is an independent Noise Pipes peer, built on
// github.com/flynn/noise, used to prove that Secure Perimeter's C++ Noise
// implementation interoperates on the wire (see the design, section 4).
//
// It runs exactly one session as client (initiator) or server (responder)
// with Noise_XX_25519_ChaChaPoly_SHA256 or Noise_IK_25519_ChaChaPoly_SHA256,
// then prints one JSON line describing the session on stdout and exits 0.
// Any error is reported on stderr and the exit status is 1.
//
// Flags:
//
//	-role client|server   which side to play
//	-pattern XX|IK        handshake pattern
//	-addr HOST:PORT       server: listen here and accept exactly one connection
//	                      (waiting at most 20 s for it); client: dial here,
//	                      retrying for up to 10 s
//	-static-key HEX       this peer's 32-byte X25519 private key
//	-remote-static HEX    client with IK only: the server's 32-byte public key
//	-server-payload HEX   server only: payload of handshake message 2
//	-messages N           transport round trips after the handshake (default 5)
//	-print-public         print the hex public key of -static-key and exit
//
// After the handshake the client sends N transport messages; message i
// (0-based) has length msgLengths[i % len(msgLengths)] and byte j equal to
// (i*31 + j) % 251. The server checks each one and answers with the same bytes
// reversed; the client checks each answer.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/flynn/noise"
	"golang.org/x/crypto/curve25519"
)

// prologue is mixed into every handshake (design section 4).
var prologue = []byte("secure-perimeter/1")

// Pattern bytes prefixed to the first frame each side sends.
const (
	patternByteXX         byte = 0
	patternByteIK         byte = 1
	patternByteXXfallback byte = 2 // defined by the contract, never used by this peer
)

// maxPlaintext is the largest transport plaintext: a frame minus the AEAD tag.
const maxPlaintext = maxFrameLen - 16 // 65519

// msgLengths is the cycle of transport plaintext lengths; it includes the maximum.
var msgLengths = []int{0, 1, 100, maxPlaintext, 1000}

// dialRetryFor is how long the client keeps retrying while the server starts.
const dialRetryFor = 10 * time.Second

// acceptTimeout is how long the server waits for its one connection.
const acceptTimeout = 20 * time.Second

var cipherSuite = noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashSHA256)

// config holds the parsed command line.
type config struct {
	role          string // "client" or "server"
	pattern       string // "XX" or "IK"
	addr          string
	static        noise.DHKey
	remoteStatic  []byte // IK client only
	serverPayload []byte // server only
	messages      int
}

// result is the single JSON line printed on success. Field order is fixed.
type result struct {
	Role          string `json:"role"`
	Pattern       string `json:"pattern"`
	HandshakeHash string `json:"handshake_hash"`
	RemoteStatic  string `json:"remote_static"`
	ServerPayload string `json:"server_payload"`
	Messages      int    `json:"messages"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "go-noise-peer: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("go-noise-peer", flag.ContinueOnError)
	role := fs.String("role", "", "client or server")
	pattern := fs.String("pattern", "", "XX or IK")
	addr := fs.String("addr", "", "HOST:PORT to listen on (server) or dial (client)")
	staticHex := fs.String("static-key", "", "hex 32-byte X25519 private key of this peer")
	remoteHex := fs.String("remote-static", "", "hex 32-byte server public key (IK client only)")
	payloadHex := fs.String("server-payload", "", "hex payload of handshake message 2 (server only)")
	messages := fs.Int("messages", 5, "number of transport round trips")
	printPublic := fs.Bool("print-public", false, "print the public key of -static-key and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	static, err := parseStaticKey(*staticHex)
	if err != nil {
		return err
	}
	if *printPublic {
		fmt.Println(hex.EncodeToString(static.Public))
		return nil
	}

	cfg := config{role: *role, pattern: *pattern, addr: *addr, static: static, messages: *messages}
	switch cfg.role {
	case "client", "server":
	default:
		return fmt.Errorf("-role must be client or server, got %q", cfg.role)
	}
	switch cfg.pattern {
	case "XX", "IK":
	default:
		return fmt.Errorf("-pattern must be XX or IK, got %q", cfg.pattern)
	}
	if cfg.addr == "" {
		return errors.New("-addr is required")
	}
	if cfg.messages < 0 {
		return fmt.Errorf("-messages must be >= 0, got %d", cfg.messages)
	}
	if cfg.role == "client" && cfg.pattern == "IK" {
		if cfg.remoteStatic, err = parseKey32("-remote-static", *remoteHex); err != nil {
			return err
		}
	} else if *remoteHex != "" {
		return errors.New("-remote-static is only valid for -role client -pattern IK")
	}
	if cfg.role == "server" {
		if cfg.serverPayload, err = hex.DecodeString(*payloadHex); err != nil {
			return fmt.Errorf("-server-payload: %w", err)
		}
	} else if *payloadHex != "" {
		return errors.New("-server-payload is only valid for -role server")
	}

	conn, err := connect(cfg)
	if err != nil {
		return err
	}
	defer conn.Close()

	res, err := session(conn, cfg)
	if err != nil {
		return err
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(line))
	return nil
}

// parseKey32 decodes a hex string that must hold exactly 32 bytes.
func parseKey32(name, s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("%s: need 32 bytes, got %d", name, len(b))
	}
	return b, nil
}

// parseStaticKey decodes the private key and derives its X25519 public key
// with golang.org/x/crypto/curve25519 (not through the Noise library's API;
// works with Debian 12's Go 1.19, which lacks crypto/ecdh).
func parseStaticKey(s string) (noise.DHKey, error) {
	priv, err := parseKey32("-static-key", s)
	if err != nil {
		return noise.DHKey{}, err
	}
	pub, err := curve25519.X25519(priv, curve25519.Basepoint)
	if err != nil {
		return noise.DHKey{}, fmt.Errorf("-static-key: %w", err)
	}
	return noise.DHKey{Private: priv, Public: pub}, nil
}

// connect returns the session's TCP connection: the server accepts exactly one
// connection and stops listening; the client dials, retrying while the server
// starts up.
func connect(cfg config) (net.Conn, error) {
	if cfg.role == "server" {
		ln, err := net.Listen("tcp", cfg.addr)
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(acceptTimeout)); err != nil {
			return nil, err
		}
		conn, err := ln.Accept()
		if err != nil {
			return nil, fmt.Errorf("accept on %s: %w", cfg.addr, err)
		}
		return conn, nil
	}
	deadline := time.Now().Add(dialRetryFor)
	for {
		conn, err := net.DialTimeout("tcp", cfg.addr, time.Second)
		if err == nil {
			return conn, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("dial %s: %w", cfg.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// session runs the handshake and the transport exchange on conn.
func session(conn net.Conn, cfg config) (*result, error) {
	initiator := cfg.role == "client"
	hsPattern, patternByte := noise.HandshakeXX, patternByteXX
	if cfg.pattern == "IK" {
		hsPattern, patternByte = noise.HandshakeIK, patternByteIK
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   cipherSuite,
		Random:        rand.Reader,
		Pattern:       hsPattern,
		Initiator:     initiator,
		Prologue:      prologue,
		StaticKeypair: cfg.static,
		PeerStatic:    cfg.remoteStatic, // nil except for the IK client
	})
	if err != nil {
		return nil, err
	}

	// Handshake: message k is written by the initiator when k is even. The
	// first frame each side sends (and so the first it receives) carries the
	// pattern byte. Only message 2 (index 1), the server's, has a payload.
	var cs1, cs2 *noise.CipherState
	var gotServerPayload []byte
	sentFirst, receivedFirst := false, false
	for k := 0; k < len(hsPattern.Messages); k++ {
		if (k%2 == 0) == initiator {
			var payload []byte
			if k == 1 {
				payload = cfg.serverPayload
			}
			var msg []byte
			if !sentFirst {
				msg = []byte{patternByte}
				sentFirst = true
			}
			if msg, cs1, cs2, err = hs.WriteMessage(msg, payload); err != nil {
				return nil, fmt.Errorf("handshake message %d: %w", k+1, err)
			}
			if err := writeFrame(conn, msg); err != nil {
				return nil, fmt.Errorf("handshake message %d: %w", k+1, err)
			}
			continue
		}
		frame, err := readFrame(conn)
		if err != nil {
			return nil, fmt.Errorf("handshake message %d: %w", k+1, err)
		}
		if !receivedFirst {
			receivedFirst = true
			if len(frame) == 0 || frame[0] != patternByte {
				return nil, fmt.Errorf("handshake message %d: unexpected pattern byte (want %d)", k+1, patternByte)
			}
			frame = frame[1:]
		}
		var payload []byte
		if payload, cs1, cs2, err = hs.ReadMessage(nil, frame); err != nil {
			return nil, fmt.Errorf("handshake message %d: %w", k+1, err)
		}
		if k == 1 {
			gotServerPayload = payload // the server's evidence, received by the client
		} else if len(payload) != 0 {
			return nil, fmt.Errorf("handshake message %d: unexpected non-empty payload (%d bytes)", k+1, len(payload))
		}
	}
	if cs1 == nil || cs2 == nil {
		return nil, errors.New("handshake did not complete")
	}

	// Split: the initiator sends with the first cipher state, the responder
	// with the second.
	send, recv := cs1, cs2
	if !initiator {
		send, recv = cs2, cs1
	}
	for i := 0; i < cfg.messages; i++ {
		want := testMessage(i)
		if initiator {
			if err := sendTransport(conn, send, want); err != nil {
				return nil, fmt.Errorf("transport message %d: %w", i, err)
			}
			got, err := recvTransport(conn, recv)
			if err != nil {
				return nil, fmt.Errorf("transport reply %d: %w", i, err)
			}
			if !bytes.Equal(got, reversed(want)) {
				return nil, fmt.Errorf("transport reply %d: content mismatch (got %d bytes, want %d)", i, len(got), len(want))
			}
		} else {
			got, err := recvTransport(conn, recv)
			if err != nil {
				return nil, fmt.Errorf("transport message %d: %w", i, err)
			}
			if !bytes.Equal(got, want) {
				return nil, fmt.Errorf("transport message %d: content mismatch (got %d bytes, want %d)", i, len(got), len(want))
			}
			if err := sendTransport(conn, send, reversed(got)); err != nil {
				return nil, fmt.Errorf("transport reply %d: %w", i, err)
			}
		}
	}

	res := &result{
		Role:          cfg.role,
		Pattern:       cfg.pattern,
		HandshakeHash: hex.EncodeToString(hs.ChannelBinding()),
		RemoteStatic:  hex.EncodeToString(hs.PeerStatic()),
		ServerPayload: hex.EncodeToString(cfg.serverPayload),
		Messages:      cfg.messages,
	}
	if initiator {
		res.ServerPayload = hex.EncodeToString(gotServerPayload)
	}
	return res, nil
}

// sendTransport encrypts plaintext and sends it as one frame (no pattern byte).
func sendTransport(conn net.Conn, cs *noise.CipherState, plaintext []byte) error {
	if len(plaintext) > maxPlaintext {
		return fmt.Errorf("plaintext of %d bytes exceeds %d", len(plaintext), maxPlaintext)
	}
	ct, err := cs.Encrypt(nil, nil, plaintext)
	if err != nil {
		return err
	}
	return writeFrame(conn, ct)
}

// recvTransport reads one frame and decrypts it.
func recvTransport(conn net.Conn, cs *noise.CipherState) ([]byte, error) {
	frame, err := readFrame(conn)
	if err != nil {
		return nil, err
	}
	return cs.Decrypt(nil, nil, frame)
}

// testMessage is the plaintext of the client's transport message i (0-based).
func testMessage(i int) []byte {
	b := make([]byte, msgLengths[i%len(msgLengths)])
	for j := range b {
		b[j] = byte((i*31 + j) % 251)
	}
	return b
}

// reversed returns a reversed copy of b.
func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for j, c := range b {
		r[len(b)-1-j] = c
	}
	return r
}
