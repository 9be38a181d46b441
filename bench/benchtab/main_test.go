package main

import "testing"

func TestPairedRatio(t *testing.T) {
	tests := []struct {
		name    string
		v, base []float64
		want    string
	}{
		{"none", nil, []float64{1}, "-"},
		{"one pair", []float64{90}, []float64{100}, "0.90"},
		// Pairs 0.5, 1.0, 2.0: the median is 1.0, where the ratio of the
		// medians (200/200) would hide the spread.
		{"paired", []float64{100, 200, 400}, []float64{200, 200, 200}, "1.00 (0.50–2.00)"},
		// The machine slowed down for the third run: each pair still says 0.9.
		{"machine swings", []float64{90, 45, 90}, []float64{100, 50, 100}, "0.90 (0.90–0.90)"},
		{"counts differ", []float64{100, 300}, []float64{100}, "3.00 (unpaired)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pairedRatio(tt.v, tt.base); got != tt.want {
				t.Errorf("pairedRatio(%v, %v) = %q, want %q", tt.v, tt.base, got, tt.want)
			}
		})
	}
}
