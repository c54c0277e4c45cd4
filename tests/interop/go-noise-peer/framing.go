package main

// TCP framing of the Secure Perimeter wire contract: every handshake and
// transport message travels as one frame, a 2-byte big-endian length followed
// by exactly that many bytes (so at most 65535 bytes of body).

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// maxFrameLen is the largest frame body the 2-byte length prefix can count.
const maxFrameLen = 65535

// ioTimeout bounds every single frame read (and write) on the connection.
const ioTimeout = 10 * time.Second

// writeFrame sends body as one frame.
func writeFrame(conn net.Conn, body []byte) error {
	if len(body) > maxFrameLen {
		return fmt.Errorf("frame body of %d bytes exceeds %d", len(body), maxFrameLen)
	}
	buf := make([]byte, 2+len(body))
	binary.BigEndian.PutUint16(buf, uint16(len(body)))
	copy(buf[2:], body)
	if err := conn.SetWriteDeadline(time.Now().Add(ioTimeout)); err != nil {
		return err
	}
	if _, err := conn.Write(buf); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// readFrame receives one frame and returns its body. The whole frame must
// arrive within ioTimeout.
func readFrame(conn net.Conn) ([]byte, error) {
	if err := conn.SetReadDeadline(time.Now().Add(ioTimeout)); err != nil {
		return nil, err
	}
	var hdr [2]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, fmt.Errorf("read frame length: %w", err)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(conn, body); err != nil {
		return nil, fmt.Errorf("read frame body (%d bytes): %w", len(body), err)
	}
	return body, nil
}
