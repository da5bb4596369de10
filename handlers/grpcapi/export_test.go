package grpcapi

// Undecoded is how many refused requests the server still holds an error for.
func Undecoded(s *Server) int {
	s.codec.mu.Lock()
	defer s.codec.mu.Unlock()
	return len(s.codec.undecoded)
}
