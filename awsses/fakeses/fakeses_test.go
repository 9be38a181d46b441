package fakeses

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sendRaw is a SES v1 SendRawEmail request signed (in form only) with key.
func sendRaw(key string) *http.Request {
	form := url.Values{
		"Action":          {"SendRawEmail"},
		"Version":         {"2010-12-01"},
		"RawMessage.Data": {base64.StdEncoding.EncodeToString([]byte("Subject: x\r\n\r\nbody\r\n"))},
	}
	hr := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	hr.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("0", 64))
	return hr
}

func TestSentAndDiscard(t *testing.T) {
	tests := []struct {
		name     string
		discard  bool
		keys     []string
		respond  func(n int, r Request) Fault
		wantSent map[string]int
		wantReqs int
	}{
		{"counted per key", false, []string{"A", "B", "A"}, nil, map[string]int{"A": 2, "B": 1}, 3},
		{"discard keeps none", true, []string{"A", "B", "A"}, nil, map[string]int{"A": 2, "B": 1}, 0},
		{"faults not counted", false, []string{"A", "A", "A", "A"},
			func(n int, _ Request) Fault { return []Fault{OK, Throttle, Invalid, Rejected}[n-1] },
			map[string]int{"A": 1}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{Discard: tt.discard, Respond: tt.respond}
			for _, k := range tt.keys {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, sendRaw(k))
				if w.Code != http.StatusOK && tt.respond == nil {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			if p := s.Problems(); len(p) > 0 {
				t.Fatalf("problems: %q", p)
			}
			got := s.Sent()
			if diff := cmp.Diff(tt.wantSent, got); diff != "" {
				t.Errorf("Sent() (-want +got):\n%s", diff)
			}
			if n := len(s.Requests()); n != tt.wantReqs {
				t.Errorf("len(Requests()) = %d, want %d", n, tt.wantReqs)
			}
		})
	}
}
