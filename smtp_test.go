package sesmime_test

import (
	"net"
	"net/textproto"
	"strings"
)

// fakeSMTP accepts one SMTP session on a loopback port and returns its
// address and a channel that yields the message of the DATA command. It
// answers every command with success, as a test stand-in for a server.
func fakeSMTP() (addr string, data <-chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ch := make(chan string, 1)
	go func() {
		defer ln.Close()
		conn, err := ln.Accept()
		if err != nil {
			ch <- ""
			return
		}
		defer conn.Close()
		tp := textproto.NewConn(conn)
		tp.PrintfLine("220 localhost ESMTP")
		var msg strings.Builder
		for {
			line, err := tp.ReadLine()
			if err != nil {
				break
			}
			verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
			switch verb {
			case "EHLO", "HELO":
				tp.PrintfLine("250 localhost")
			case "DATA":
				tp.PrintfLine("354 go ahead")
				b, _ := tp.ReadDotBytes() // undoes dot-stuffing; lines end in LF
				msg.Write(b)
				tp.PrintfLine("250 ok")
			case "QUIT":
				tp.PrintfLine("221 bye")
				ch <- msg.String()
				return
			default:
				tp.PrintfLine("250 ok")
			}
		}
		ch <- msg.String()
	}()
	return ln.Addr().String(), ch
}
