package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// TCPProxy forwards connections from a loopback address to a target, and can
// be stopped (connections refused and cut) and started again on the same
// address, or made to swallow traffic (a server that accepts but never
// answers), to test how clients live through an outage.
type TCPProxy struct {
	t      testing.TB
	target string
	addr   string

	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
	stall    bool
	wg       sync.WaitGroup
}

// StartTCPProxy listens on a free loopback port and forwards to target. It
// is stopped when the test ends.
func StartTCPProxy(t testing.TB, target string) *TCPProxy {
	t.Helper()
	p := &TCPProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy listen: %v", err)
	}
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(p.Stop)
	return p
}

// Addr is the proxy's address, the same across Stop and Start.
func (p *TCPProxy) Addr() string { return p.addr }

// Stop closes the listener and cuts every open connection: new connections
// are refused until Start.
func (p *TCPProxy) Stop() {
	p.mu.Lock()
	if p.listener != nil {
		_ = p.listener.Close()
		p.listener = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Start listens again on the same address.
func (p *TCPProxy) Start() {
	p.t.Helper()
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("testenv: proxy listen again on %s: %v", p.addr, err)
	}
	p.serve(l)
}

// Stall makes the proxy accept connections and read requests but never
// answer (true), or forward again (false). Open connections are cut either
// way, so that clients reconnect into the new mode.
func (p *TCPProxy) Stall(on bool) {
	p.mu.Lock()
	p.stall = on
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
}

func (p *TCPProxy) serve(l net.Listener) {
	p.mu.Lock()
	p.listener = l
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.handle(c)
		}
	}()
}

func (p *TCPProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener == nil {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *TCPProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *TCPProxy) handle(client net.Conn) {
	if !p.track(client) {
		return
	}
	p.mu.Lock()
	stall := p.stall
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.untrack(client)
		if stall {
			_, _ = io.Copy(io.Discard, client)
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			return
		}
		if !p.track(server) {
			return
		}
		defer p.untrack(server)
		done := make(chan struct{}, 2)
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src) // ends when either side is cut
			done <- struct{}{}
		}
		go pipe(server, client)
		go pipe(client, server)
		<-done // one side ended: cut both
	}()
}
