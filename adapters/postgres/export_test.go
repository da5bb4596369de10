package postgres

// VersionSQL is the statement that reads a stream's version, for the test
// of its plan.
const VersionSQL = versionSQL
