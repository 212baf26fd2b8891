package security

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes or
// single IP addresses, such as "10.0.0.0/8, 192.168.1.7". An empty list
// trusts no proxy.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, field := range strings.Split(list, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		if prefix, err := netip.ParsePrefix(field); err == nil {
			out = append(out, prefix.Masked())
			continue
		}
		addr, err := netip.ParseAddr(field)
		if err != nil {
			return nil, fmt.Errorf("parse trusted proxies: %q is not a CIDR prefix or IP address: %w", field, ErrInvalid)
		}
		addr = addr.Unmap()
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}

// clientIP returns the address of the client of r. It is the connection's
// remote address unless that address is a trusted proxy. Then the
// X-Forwarded-For entries are read from the right, skipping trusted
// proxies, and the first untrusted address is the client: entries to its
// left were written by the client or by untrusted hops and are ignored.
// An unparsable entry ends the walk at the last trusted address.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	remote := remoteIP(r)
	if len(trusted) == 0 {
		return remote
	}
	addr, err := netip.ParseAddr(remote)
	if err != nil || !isTrusted(addr, trusted) {
		return remote
	}
	client := addr
	hops := forwardedFor(r)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(hops[i])
		if err != nil {
			break
		}
		client = hop.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

// forwardedFor returns the X-Forwarded-For entries of every header line,
// in order. A port or brackets around an IPv6 address are removed.
func forwardedFor(r *http.Request) []string {
	var out []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if host, _, err := net.SplitHostPort(entry); err == nil {
				entry = host
			}
			out = append(out, strings.Trim(entry, "[]"))
		}
	}
	return out
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	addr = addr.Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

type clientIPKey struct{}

// ContextWithClientIP returns ctx carrying the client address that
// Middleware resolved.
func ContextWithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIPFrom returns the client address Middleware stored in ctx, or ""
// outside Middleware.
func ClientIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// requestClientIP returns the client address of r as Middleware resolved
// it, or the remote address when r did not pass Middleware.
func requestClientIP(r *http.Request) string {
	if ip := ClientIPFrom(r.Context()); ip != "" {
		return ip
	}
	return remoteIP(r)
}
