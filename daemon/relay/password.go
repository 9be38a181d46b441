package relay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// SMTPPassword derives the SES SMTP password for an IAM secret access key
// in region: SigV4's key derivation with the fixed date 11111111, service
// "ses" and the message "SendRawEmail", prefixed with version byte 0x04.
func SMTPPassword(secret, region string) string {
	sig := []byte("AWS4" + secret)
	for _, m := range []string{"11111111", region, "ses", "aws4_request", "SendRawEmail"} {
		h := hmac.New(sha256.New, sig)
		h.Write([]byte(m))
		sig = h.Sum(nil)
	}
	return base64.StdEncoding.EncodeToString(append([]byte{0x04}, sig...))
}
