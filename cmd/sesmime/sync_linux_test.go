package main

import (
	"syscall"
	"testing"
)

// TestOwnTemp: a pooled file is reused only when it is the process's own,
// and of its group unless the process is root.
func TestOwnTemp(t *testing.T) {
	tests := []struct {
		name     string
		uid, gid uint32
		want     bool
	}{
		{"own user and group", euid, egid, true},
		{"another user", euid + 1, egid, false},
		{"another group", euid, egid + 1, euid == 0},
	}
	for _, tt := range tests {
		if got := ownTemp(&syscall.Stat_t{Uid: tt.uid, Gid: tt.gid}); got != tt.want {
			t.Errorf("%s: ownTemp = %v, want %v", tt.name, got, tt.want)
		}
	}
}
