package postgres

// VersionSQL is the statement that reads a stream's version, for the test
// of its plan.
const VersionSQL = versionSQL

// HeadsSQL is the statement that reads the versions of AppendMany's streams.
const HeadsSQL = headsSQL

// LoadStreamsSQL is the statement of LoadStreams.
const LoadStreamsSQL = loadStreamsSQL
