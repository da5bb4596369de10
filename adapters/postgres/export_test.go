package postgres

// VersionSQL is the statement that reads a stream's version, for the test
// of its plan.
const VersionSQL = versionSQL

// HeadsSQL is the statement that reads the versions of AppendMany's streams.
const HeadsSQL = headsSQL

// LoadStreamsSQL is the statement of LoadStreams.
const LoadStreamsSQL = loadStreamsSQL

// LoadStatesSQL is the statement of LoadStates for n streams.
func LoadStatesSQL(n int) string { return loadStatesSQL(n) }
