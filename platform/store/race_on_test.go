//go:build race

package store

// raceEnabled: the race detector multiplies resident memory, so the RSS bound is off.
const raceEnabled = true
