//go:build race

package generate

// raceDetector is set when the tests run with -race, which makes the
// large property tests too slow to run at full size.
const raceDetector = true
