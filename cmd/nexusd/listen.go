package main

import (
	"fmt"
	"net"
	"strconv"
)

// serveListeners are the sockets of serve and demo. The commands bind them
// before they open or load the database, so that a busy or invalid
// address fails at once and demo creates no database for it.
type serveListeners struct {
	http net.Listener
	// debug is nil without --debug-addr.
	debug net.Listener
	// mllp is nil without --mllp-addr.
	mllp net.Listener
}

// listenAddrs are the listen addresses of serve and demo. Empty debug and
// mllp addresses turn those listeners off.
type listenAddrs struct {
	http  string
	debug string
	mllp  string
}

// bindListeners checks the addresses and listens on each. On error it
// closes the listeners already bound, and the error names the flag.
func bindListeners(addrs listenAddrs) (*serveListeners, error) {
	flags := []struct{ name, addr string }{
		{"addr", addrs.http}, {"debug-addr", addrs.debug}, {"mllp-addr", addrs.mllp},
	}
	for i, flag := range flags {
		if flag.addr == "" {
			continue
		}
		if err := checkListenPort(flag.name, flag.addr); err != nil {
			return nil, err
		}
		for _, earlier := range flags[:i] {
			if earlier.addr == flag.addr && !hasPortZero(flag.addr) {
				return nil, fmt.Errorf("--%s and --%s are both %s; give each listener its own port",
					earlier.name, flag.name, flag.addr)
			}
		}
	}
	if addrs.debug != "" {
		if err := checkDebugAddr(addrs.debug); err != nil {
			return nil, err
		}
	}

	l := &serveListeners{}
	var err error
	if l.http, err = listen("addr", addrs.http); err != nil {
		return nil, err
	}
	if addrs.debug != "" {
		if l.debug, err = listen("debug-addr", addrs.debug); err != nil {
			l.close()
			return nil, err
		}
	}
	if addrs.mllp != "" {
		if l.mllp, err = listen("mllp-addr", addrs.mllp); err != nil {
			l.close()
			return nil, err
		}
	}
	return l, nil
}

func listen(flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --%s %s: %w", flag, addr, err)
	}
	return ln, nil
}

// checkListenPort rejects an addr of flag that is not host:port, or whose
// port is a number outside 0 to 65535, where 0 picks a free port. A
// service name such as http is left to net.Listen.
func checkListenPort(flag, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid --%s %q: use host:port, such as 127.0.0.1:8080", flag, addr)
	}
	if n, err := strconv.Atoi(port); err == nil && (n < 0 || n > 65535) {
		return fmt.Errorf("invalid --%s %q: the port must be a number from 0 to 65535", flag, addr)
	}
	return nil
}

func hasPortZero(addr string) bool {
	_, port, _ := net.SplitHostPort(addr)
	return port == "0"
}

// close closes every listener. It ignores the errors, such as
// net.ErrClosed for a listener that its server closed already.
func (l *serveListeners) close() {
	if l == nil {
		return
	}
	for _, ln := range []net.Listener{l.http, l.debug, l.mllp} {
		if ln != nil {
			ln.Close()
		}
	}
}
