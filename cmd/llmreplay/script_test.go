package main

import (
	"testing"

	"github.com/llmtap/llmtap/internal/clitest"
)

// TestScripts checks the command-line promises in testdata/script/*.txtar
// against the real main (TestMain, in e2e_test.go, makes the test binary
// act as llmreplay).
func TestScripts(t *testing.T) { clitest.Run(t) }
