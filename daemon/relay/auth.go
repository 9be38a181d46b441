package relay

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"
)

// Users are the accounts of a users file: one "name:bcrypt-hash" a line
// (htpasswd -B format); blank lines and lines starting with # are skipped.
type Users struct {
	hash map[string][]byte
}

// LoadUsers reads a users file. An error names the file and the line;
// on an error no Users is returned, so a reload keeps the ones in use.
func LoadUsers(path string) (*Users, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	u := &Users{hash: map[string][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, h, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("%s:%d: want name:bcrypt-hash", path, n)
		}
		if _, err := bcrypt.Cost([]byte(h)); err != nil {
			return nil, fmt.Errorf("%s:%d: user %s: not a bcrypt hash: %v", path, n, name, err)
		}
		if _, dup := u.hash[name]; dup {
			return nil, fmt.Errorf("%s:%d: user %s given twice", path, n, name)
		}
		u.hash[name] = []byte(h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, nil
}

// dummy keeps the time of a failed login the same for unknown users.
var dummy, _ = bcrypt.GenerateFromPassword([]byte("dummy password"), bcrypt.DefaultCost)

// Check reports whether password is name's.
func (u *Users) Check(name, password string) bool {
	h, ok := u.hash[name]
	if !ok {
		bcrypt.CompareHashAndPassword(dummy, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(h, []byte(password)) == nil
}

var errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

// loginServer is the server side of the LOGIN mechanism (draft-murchison-
// sasl-login), which go-sasl lacks: "Username:", then "Password:".
type loginServer struct {
	step     int
	user     string
	authFunc func(user, password string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(resp) == 0 {
			return []byte("Username:"), false, nil
		}
		fallthrough // an initial response is the user name
	case 1:
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.authFunc(l.user, string(resp))
	}
	return nil, false, errors.New("unexpected response")
}

// plainServer checks an authorization identity, which must be empty or
// the user's own.
func plainServer(auth func(user, password string) error) sasl.Server {
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if identity != "" && subtle.ConstantTimeCompare([]byte(identity), []byte(user)) != 1 {
			return errAuthFailed
		}
		return auth(user, password)
	})
}
