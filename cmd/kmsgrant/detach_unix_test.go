//go:build unix

package main

import "syscall"

// detach starts a session of its own for the scripts' kmsgrant, which so
// has no controlling terminal, as in CI: a script never prompts on the
// terminal of the person running the tests.
func detach() { _, _ = syscall.Setsid() }
