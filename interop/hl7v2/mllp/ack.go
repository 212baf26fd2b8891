package mllp

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrInvalidAck reports an acknowledgment from which AckCode cannot read
// MSA-1.
var ErrInvalidAck = errors.New("mllp: invalid ACK")

// AckCode returns the acknowledgment code (MSA-1) and the control id of the
// acknowledged message (MSA-2) from an ACK, without a full HL7 v2 parser.
//
// Segments are split on CR, and a LF after a CR is tolerated. The field
// separator is the fourth byte of the MSH segment (MSH-1). The codes are
// AA, AE and AR in original acknowledgment mode and CA, CE and CR in
// enhanced mode: AA and CA mean accepted. An empty controlID with a nil
// error means MSA-2 is absent. Errors wrap ErrInvalidAck and never contain
// message content.
func AckCode(ack []byte) (code, controlID string, err error) {
	segments := bytes.Split(ack, []byte{CarriageReturn})
	first := bytes.TrimLeft(segments[0], "\n")
	if len(first) < 4 || !bytes.HasPrefix(first, []byte("MSH")) {
		return "", "", fmt.Errorf("%w: the message does not start with an MSH segment", ErrInvalidAck)
	}
	separator := first[3]
	msaPrefix := []byte{'M', 'S', 'A', separator}
	for _, segment := range segments[1:] {
		segment = bytes.TrimLeft(segment, "\n")
		if !bytes.HasPrefix(segment, msaPrefix) {
			continue
		}
		fields := bytes.Split(segment, []byte{separator})
		code = string(fields[1])
		if code == "" {
			return "", "", fmt.Errorf("%w: MSA-1 (acknowledgment code) is empty", ErrInvalidAck)
		}
		if len(fields) > 2 {
			controlID = string(fields[2])
		}
		return code, controlID, nil
	}
	return "", "", fmt.Errorf("%w: no MSA segment", ErrInvalidAck)
}
