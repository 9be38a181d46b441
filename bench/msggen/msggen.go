// Package msggen generates deterministic test messages for sesmime's
// benchmarks: multipart MIME with base64 attachments under a realistic
// header (DKIM-Signature, folded Received lines, existing SES fields), CRLF
// line endings. The same size always gives the same bytes.
package msggen

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
)

const boundary = "=_sesmime_bench_0123456789abcdef"

// header is about 20 fields, as a message leaving a mail system has them.
const header = "Return-Path: <bounce-1234@mail.example.com>\r\n" +
	"Received: from mx1.example.net (mx1.example.net [192.0.2.10])\r\n" +
	"\tby mail.example.com (Postfix) with ESMTPS id 4F2A1C0012\r\n" +
	"\tfor <bob@example.org>; Mon, 5 Jan 2026 09:12:44 +0000 (UTC)\r\n" +
	"Received: from app-7.internal (app-7.internal [10.0.3.7])\r\n" +
	"\tby mx1.example.net with ESMTP id 9ab3f1;\r\n" +
	"\tMon, 5 Jan 2026 09:12:43 +0000\r\n" +
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" +
	"\ts=sel2026; t=1767604363; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n" +
	"\th=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type;\r\n" +
	"\tb=Kx9fM2c1yT3kLw0pQ8sZr5vN7bH4jD6gF1aE0cR2tY9uI3oP5lK8mN1bV4cX7zA2sD5fG8hJ\r\n" +
	"\t 1kL4qW7eR0tY3uI6oP9aS2dF5gH8jK1lZ4xC7vB0nM3qW6eR9tY2uI5oP8aS1dF4gH7jK0lZ\r\n" +
	"\t 3xC6vB9nM2qW5eR8tY1uI4oP7aS0dF3gH6jK9lZ2xC5vB8nM1qW4eR7tY0uI3oP6aS9dF2g=\r\n" +
	"Authentication-Results: mail.example.com; dkim=pass header.d=example.com;\r\n" +
	"\tspf=pass smtp.mailfrom=mail.example.com; dmarc=pass header.from=example.com\r\n" +
	"From: \"Example News\" <news@example.com>\r\n" +
	"Reply-To: support@example.com\r\n" +
	"To: Bob Example <bob@example.org>\r\n" +
	"Cc: archive@example.org\r\n" +
	"Subject: Your January report is ready\r\n" +
	"Date: Mon, 5 Jan 2026 09:12:43 +0000\r\n" +
	"Message-ID: <20260105091243.4F2A1C0012@mail.example.com>\r\n" +
	"List-Unsubscribe: <mailto:unsubscribe@example.com?subject=1234>,\r\n" +
	" <https://example.com/unsubscribe/1234>\r\n" +
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" +
	"X-Mailer: example-mailer 4.2\r\n" +
	"X-SES-CONFIGURATION-SET: old\r\n" +
	"X-SES-MESSAGE-TAGS: campaign=winter, variant=a\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n"

// Message returns a message of exactly size bytes (or the smallest
// complete message, if size is smaller) with extra additional header
// fields (X-Trace-N, every fifth one folded) after the usual ones.
func Message(size, extra int) []byte {
	var b bytes.Buffer
	b.Grow(size + 4096)
	b.WriteString(header)
	for i := range extra {
		fmt.Fprintf(&b, "X-Trace-%d: hop=%d relay=relay-%d.example.net", i, i, i%97)
		if i%5 == 0 {
			b.WriteString("\r\n\tstatus=ok")
		}
		b.WriteString("\r\n")
	}
	b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n\r\n")
	b.WriteString("--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n\r\n")
	for i := range 12 {
		fmt.Fprintf(&b, "Line %d of the report: everything is fine, nothing to see here.\r\n", i)
	}
	end := "\r\n--" + boundary + "--\r\n"
	rng := rand.New(rand.NewPCG(uint64(size), uint64(extra)))
	raw := make([]byte, 57) // one 76-character base64 line
	line := make([]byte, 76)
	for n := 0; b.Len()+len(end) < size; n++ {
		fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: application/octet-stream; name=\"part%d.bin\"\r\n"+
			"Content-Disposition: attachment; filename=\"part%d.bin\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n", boundary, n, n)
		// Attachments of at most 4 MiB each; the last fills up to size.
		limit := min(b.Len()+4<<20, size-len(end))
		for b.Len()+78 <= limit {
			for i := range raw {
				raw[i] = byte(rng.Uint32())
			}
			base64.StdEncoding.Encode(line, raw)
			b.Write(line)
			b.WriteString("\r\n")
		}
		if pad := limit - b.Len(); pad > 2 && b.Len()+len(end) < size {
			b.Write(line[:pad-2]) // a short last line, all base64 characters
			b.WriteString("\r\n")
		}
	}
	b.WriteString(end)
	for b.Len() < size { // trailing epilogue bytes to reach size exactly
		b.WriteString("\r\n"[:min(2, size-b.Len())])
	}
	return b.Bytes()
}
