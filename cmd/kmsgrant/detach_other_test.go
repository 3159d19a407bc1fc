//go:build !unix

package main

// detach does nothing where kmsgrant has no controlling terminal to open.
func detach() {}
