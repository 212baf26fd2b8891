package mllp

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RetryPolicy sets how SendWithRetry and Retry repeat a failed send. The
// zero value is valid after WithDefaults.
type RetryPolicy struct {
	// Attempts is the maximum number of sends, the first one included.
	// Zero means 3.
	Attempts int

	// Backoff is the wait before the second attempt. Each later wait is
	// twice the previous one, up to MaxBackoff. Zero means one second.
	Backoff time.Duration

	// MaxBackoff is the longest wait between attempts. Zero means 30
	// seconds.
	MaxBackoff time.Duration
}

// WithDefaults returns p with its zero fields set to the defaults.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	if p.Attempts == 0 {
		p.Attempts = 3
	}
	if p.Backoff == 0 {
		p.Backoff = time.Second
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = 30 * time.Second
	}
	return p
}

// Validate returns an error naming the first invalid field.
func (p RetryPolicy) Validate() error {
	switch {
	case p.Attempts < 0:
		return fmt.Errorf("mllp: RetryPolicy.Attempts is %d; use zero for the default or a positive count", p.Attempts)
	case p.Backoff < 0:
		return fmt.Errorf("mllp: RetryPolicy.Backoff is %s; use zero for the default or a positive duration", p.Backoff)
	case p.MaxBackoff < 0:
		return fmt.Errorf("mllp: RetryPolicy.MaxBackoff is %s; use zero for the default or a positive duration", p.MaxBackoff)
	}
	return nil
}

// SendWithRetry calls Send until it returns an ACK, the policy's attempts
// are used up or ctx ends. Each retry runs on a new connection, because a
// failed Send closes the old one. It retries connection failures: a failed
// dial or write, a timeout, and an end of connection before or inside the
// ACK frame. It returns at once for an invalid message, an oversize ACK, a
// closed client or an ended context.
//
// An ACK is returned whatever its code: AE and AR are the receiver's
// decision, which sending the same message again would not change. Because
// a lost ACK is retried, the receiver may get a message twice, and should
// discard duplicates by their control id (MSH-10).
func (c *Client) SendWithRetry(ctx context.Context, message []byte, policy RetryPolicy) ([]byte, error) {
	var ack []byte
	err := c.Retry(ctx, policy, func(ctx context.Context) error {
		var err error
		ack, err = c.Send(ctx, message)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ack, nil
}

// Retry calls attempt until it returns nil, the policy's attempts are used
// up or ctx ends, and retries the errors that SendWithRetry retries, with
// the same waits. Use it when one exchange is more than one Send, such as
// a Send followed by Receive calls that skip the late ACKs of earlier
// messages, so that a timeout of any step is retried. attempt should
// return only errors of the client's methods, because Retry retries any
// other error too. A failed Send or Receive closes the connection, so the
// next attempt sends on a new one.
func (c *Client) Retry(ctx context.Context, policy RetryPolicy, attempt func(ctx context.Context) error) error {
	if err := policy.Validate(); err != nil {
		return err
	}
	policy = policy.WithDefaults()
	backoff := policy.Backoff
	var err error
	for n := 1; ; n++ {
		err = attempt(ctx)
		if err == nil {
			return nil
		}
		if !retryable(ctx, err) {
			return err
		}
		if n == policy.Attempts {
			break
		}
		wait := min(backoff, policy.MaxBackoff)
		c.opts.Logger.Warn("mllp: send failed; retrying on a new connection",
			"remote_addr", c.addr, "attempt", n, "max_attempts", policy.Attempts, "retry_in", wait, "err", err)
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("mllp: send to %s: retry canceled after %d attempts: %w", c.addr, n, err)
		}
		backoff = min(2*backoff, policy.MaxBackoff)
	}
	return fmt.Errorf("mllp: send to %s failed after %d attempts: %w", c.addr, policy.Attempts, err)
}

func retryable(ctx context.Context, err error) bool {
	switch {
	case ctx.Err() != nil,
		errors.Is(err, ErrInvalidContent),
		errors.Is(err, ErrFrameTooLarge),
		errors.Is(err, ErrClientClosed):
		return false
	}
	return true
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
