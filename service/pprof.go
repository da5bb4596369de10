package service

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves Go's runtime profiles (net/http/pprof: heap, CPU,
// goroutines, ...) under /debug/pprof/ on Config.PprofAddr, when set: a
// listener of its own, never the API's, so that a profile is reachable only
// where the operator chose to expose it. It stops with the HTTP server
// (stageHTTP).
func (m *Main) startPprof() error {
	if m.Config.PprofAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	var err error
	m.pprofLn, err = net.Listen("tcp", m.Config.PprofAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.PprofAddr, err)
	}
	// A CPU profile or trace runs for its ?seconds= (30 by default): the
	// write timeout leaves it room.
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 5 * time.Minute}
	m.start(stageHTTP, &httpServer{server: server, listener: m.pprofLn, drain: m.Config.ShutdownTimeout})
	return nil
}

// PprofAddr is the address the profiling server listens on ("" without one).
func (m *Main) PprofAddr() string {
	if m.pprofLn == nil {
		return ""
	}
	return m.pprofLn.Addr().String()
}
