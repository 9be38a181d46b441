// Package daemon holds what sesmime-relay and sesmime-milter share.
package daemon
