package rules

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
)

// ErrNoSender is the Err of the *AddressError HeaderSender returns for a
// header without a Return-Path, Sender or From field.
var ErrNoSender = errors.New("no Return-Path, Sender or From field")

// An AddressError reports a header field that cannot stand in for an
// envelope key.
type AddressError struct {
	Key   string // "mail_from" or "rcpt_to"
	Field string // the field read; "" when there was none
	Err   error  // net/mail's error, ErrNoSender, or too many addresses
}

func (e *AddressError) Error() string {
	if e.Field == "" {
		return e.Key + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s from the %s field: %v", e.Key, e.Field, e.Err)
}

func (e *AddressError) Unwrap() error { return e.Err }

// addrParser reads address fields; the display names are not used, so an
// encoded word in a charset Go lacks is no error.
var addrParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// HeaderSender returns the envelope sender a message's header suggests,
// for a command that has a message but not its envelope: the address of
// the first Return-Path field (the MAIL FROM a delivering server recorded;
// <> is the null sender, ""), else of the first Sender, else of the first
// From, which must then hold one address. It returns the field it read
// too. A field that cannot be read as one address is an *AddressError, not
// a guess. A sender can write anything in these fields: a true envelope,
// where there is one, is to be preferred.
func HeaderSender(h Header) (addr, field string, err error) {
	for _, f := range []string{"Return-Path", "Sender", "From"} {
		vs := h.Values(f)
		if len(vs) == 0 {
			continue
		}
		v := strings.TrimSpace(vs[0])
		if f == "Return-Path" && strings.ReplaceAll(v, " ", "") == "<>" {
			return "", f, nil
		}
		as, err := addrParser.ParseList(v)
		if err == nil && len(as) != 1 {
			err = fmt.Errorf("%d addresses, want 1", len(as))
		}
		if err != nil {
			return "", f, &AddressError{Key: "mail_from", Field: f, Err: err}
		}
		return as[0].Address, f, nil
	}
	return "", "", &AddressError{Key: "mail_from", Err: ErrNoSender}
}

// HeaderRecipients returns the recipients a message's header suggests,
// as HeaderSender does the sender: the addresses of every To, Cc and Bcc
// field, in order, each once (ASCII case ignored). An empty field (an
// empty Bcc) has none; a field that cannot be read as addresses is an
// *AddressError.
func HeaderRecipients(h Header) ([]string, error) {
	var rcpts []string
	seen := map[string]bool{}
	for _, f := range []string{"To", "Cc", "Bcc"} {
		for _, v := range h.Values(f) {
			if strings.TrimSpace(v) == "" {
				continue
			}
			as, err := addrParser.ParseList(v)
			if err != nil {
				return nil, &AddressError{Key: "rcpt_to", Field: f, Err: err}
			}
			for _, a := range as {
				if k := strings.ToLower(a.Address); !seen[k] {
					seen[k] = true
					rcpts = append(rcpts, a.Address)
				}
			}
		}
	}
	return rcpts, nil
}
